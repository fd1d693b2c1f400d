"""Label noise as in Mahajan et al.'s robustness experiment: a share p of the labels replaced.

Mahajan et al. 2018, "Exploring the Limits of Weakly Supervised Pretraining"
(arXiv 1805.00932), inject noise into their hashtag labels by replacing p% of
them with other hashtags. Here, with one label per image::

    count   = floor(p * n / 100 + 0.5)                 # round(p n), halves rounded up
    order   = a seeded permutation of 0..n-1
    changed = order[:count]                             # without replacement
    new[i]  = (old[i] + u[i]) % C,  u[i] uniform in {1, ..., C-1}, seeded per image

so each changed label becomes one of the other C - 1 classes with equal
probability and never stays what it was: exactly ``count`` labels differ from
the originals. On a class-balanced set this is also a draw from the label
distribution with the old label left out. With one seed the noise is nested:
the labels changed at a lower p are changed at every higher p too, to the
same new class, so two levels differ only by the amount of noise.

Pure NumPy.
"""

from __future__ import annotations

import math

import numpy as np


def noisy_count(percent: float, n: int) -> int:
    """How many of ``n`` labels ``percent``% is: ``floor(percent * n / 100 + 0.5)``."""
    if not 0 <= percent < 100:
        raise ValueError(f"Argument `percent` must be in [0, 100). Received: percent={percent}")
    return int(math.floor(percent * n / 100 + 0.5))


def replace_labels(labels: np.ndarray, percent: float, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Replace ``percent``% of ``labels`` by another class each (rule in the module docstring).

    Returns ``(noisy, changed)``: the new labels (a copy, same dtype) and the
    sorted indices of the labels that were replaced.
    """
    labels = np.asarray(labels)
    if num_classes < 2:
        raise ValueError(f"Argument `num_classes` must be >= 2. Received: num_classes={num_classes}")
    count = noisy_count(percent, len(labels))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    offsets = rng.integers(1, num_classes, size=len(labels))
    changed = np.sort(order[:count])
    noisy = labels.copy()
    noisy[changed] = ((labels[changed].astype(np.int64) + offsets[changed]) % num_classes).astype(labels.dtype)
    return noisy, changed
