"""Problem 1: LeNet-5 on Fashion-MNIST under LR policies."""
