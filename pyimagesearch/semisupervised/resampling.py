"""A long-tailed training set and Mahajan et al.'s natural, square-root and uniform sampling of it.

Mahajan et al. 2018 (arXiv 1805.00932) train on hashtags whose frequencies
follow a Zipfian distribution and compare sampling images by the natural
hashtag distribution with square-root and uniform resampling. Here the
classes play the hashtags.

**Long tail.** Class c (in class-index order, c = 0 the most frequent) keeps
``n_c`` images, decaying geometrically from ``n_max`` to ``n_max / imbalance``
(the profile of long-tailed CIFAR, Cui et al. 2019)::

    n_c = max(1, floor(n_max * imbalance ** (-c / (C - 1)) + 0.5))

**Sampling.** Each class gets a share of the draws proportional to
``n_c ** a`` with a = 1 (natural), 1/2 (square root) or 0 (uniform)::

    q_c = n_c ** a / sum_j n_j ** a

An epoch draws ``N = sum_c n_c`` images, the size of the long-tailed set: the
integer draws ``m_c`` closest to ``N q_c`` (largest remainders, ties to the
lower class), and within class c each image ``m_c // n_c`` times plus a
seeded sample without replacement of ``m_c % n_c`` more. Every epoch draws
anew, so a head class shrunk by uniform sampling shows different images each
epoch. Natural sampling reproduces the long-tailed set itself (m_c = n_c).

Pure NumPy.
"""

from __future__ import annotations

import numpy as np

SAMPLINGS = ("natural", "sqrt", "uniform")
EXPONENTS = {"natural": 1.0, "sqrt": 0.5, "uniform": 0.0}
LABELS = {"natural": "natural", "sqrt": "square-root", "uniform": "uniform"}


def long_tail_counts(n_max: int, num_classes: int, imbalance: float) -> np.ndarray:
    """Images kept per class: geometric from ``n_max`` down to ``n_max / imbalance`` (module docstring)."""
    if num_classes < 2:
        raise ValueError(f"Argument `num_classes` must be >= 2. Received: num_classes={num_classes}")
    if not imbalance >= 1:
        raise ValueError(f"Argument `imbalance` must be >= 1. Received: imbalance={imbalance}")
    if n_max < 1:
        raise ValueError(f"Argument `n_max` must be >= 1. Received: n_max={n_max}")
    exponents = -np.arange(num_classes) / (num_classes - 1)
    return np.maximum(1, np.floor(n_max * float(imbalance) ** exponents + 0.5)).astype(np.int64)


def long_tail_subset(labels: np.ndarray, counts: np.ndarray, seed: int) -> np.ndarray:
    """Indices keeping ``counts[c]`` images of class c: the first of a seeded permutation of the class, sorted."""
    labels = np.asarray(labels)
    available = np.bincount(labels, minlength=len(counts))
    if np.any(available[: len(counts)] < counts):
        c = int(np.flatnonzero(available[: len(counts)] < counts)[0])
        raise ValueError(f"class {c} has {available[c]} images, fewer than the {counts[c]} asked for")
    rng = np.random.default_rng(seed)
    kept = [rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in enumerate(counts)]
    return np.sort(np.concatenate(kept))


def class_probabilities(counts: np.ndarray, sampling: str) -> np.ndarray:
    """``q_c = n_c ** a / sum n ** a`` with a = 1, 1/2, 0 for natural, sqrt, uniform."""
    if sampling not in EXPONENTS:
        raise ValueError(f"Argument `sampling` must be one of {SAMPLINGS}. Received: sampling={sampling!r}")
    weights = np.asarray(counts, dtype=np.float64) ** EXPONENTS[sampling]
    return weights / weights.sum()


def class_draws(counts: np.ndarray, sampling: str, total: int) -> np.ndarray:
    """Integer draws per class summing to ``total``, closest to ``total * q_c`` (largest remainders, ties to the lower class)."""
    exact = total * class_probabilities(counts, sampling)
    draws = np.floor(exact).astype(np.int64)
    remainders = exact - draws
    order = np.argsort(-remainders, kind="stable")
    draws[order[: total - int(draws.sum())]] += 1
    return draws


def resampled_indices(labels: np.ndarray, draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One epoch's draw: ``draws[c]`` images of class c, each ``draws[c] // n_c`` times plus a sample of the rest; shuffled."""
    labels = np.asarray(labels)
    chosen = []
    for c, m in enumerate(draws):
        members = np.flatnonzero(labels == c)
        if m and not members.size:
            raise ValueError(f"class {c} has no images to draw {m} from")
        if not m:
            continue
        copies, rest = divmod(int(m), len(members))
        chosen.append(np.tile(members, copies))
        chosen.append(rng.choice(members, size=rest, replace=False))
    return rng.permutation(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
