"""Learning-rate policies, CNN arithmetic, region proposals, transfer and semi-supervised learning with Keras 3.

One folder per homework problem, the machinery they share once:

- ``learningratefinder``, ``clr_callback``: the pyimagesearch import paths of the
  LR range test and the cyclical LR (Keras glue); ``lr_policies``, ``lr_range``:
  their pure math, no framework import; ``stats``: paired tests and intervals
  for comparing two classifiers (pure).
- ``core``: command line and user errors, atomic outputs, the run log, the
  per-epoch history callback, axes helpers, the ``tf.data`` pipeline and the
  steps-per-epoch count, ``tf.distribute`` strategies and the multi-worker loop,
  multi-worker recovery (peers), checkpoints.
- ``lenet``: Problem 1, LeNet-5 on Fashion-MNIST (data, model, LR policy
  settings, training, the LR grid, comparisons, plots).
- ``architectures``: Problem 2, the CNN calculator (pure Python).
- ``detection``: Problem 2.5, anchors, proposals and non-maximum suppression (NumPy).
- ``transfer``: Problem 3, ResNet50 transfer learning on a Visual Decathlon target.
- ``semisupervised``: Problem 4, teacher/student selection, label noise, resampling.
"""

__version__ = "0.2.0"
