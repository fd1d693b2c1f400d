"""Problem 4: weak and semi-supervised learning, measured at small scale on Fashion-MNIST.

The mechanisms of two papers trained on a billion images, reproduced with LeNet-5:

- ``selection``, ``teacher_student``: Yalniz et al. 2019 (arXiv 1905.00546), a teacher's top-K
  images per class (each image considered for its P best classes) to pre-train a student;
- ``noise``, ``label_noise``: Mahajan et al. 2018 (arXiv 1805.00932), a share p of the labels replaced;
- ``resampling``, ``resampling_run``: Mahajan et al., natural, square-root and uniform sampling of a
  long-tailed label distribution.

``selection``, ``noise``, ``resampling`` and ``stats`` are pure NumPy; ``command`` is the command line.
"""
