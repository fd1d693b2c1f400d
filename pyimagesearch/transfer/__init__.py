"""Problem 3: ResNet50 transfer learning on a Visual Decathlon target."""
