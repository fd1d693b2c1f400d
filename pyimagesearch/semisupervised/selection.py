"""Yalniz et al.'s data selection: a labelled set L, and the top K unlabelled images per class.

Yalniz, Jegou, Chen, Paluri & Mahajan 2019, "Billion-scale semi-supervised
learning for image classification" (arXiv 1905.00546), section 3: a teacher
trained on L scores every image of the unlabelled set U. For each class c,
the images of U are ranked by their score for c and the K best are kept,
where an image is a candidate for c only if c is among its P highest-scoring
classes::

    top_classes[i] = the P classes with the highest scores[i]
    selected[c]    = the K candidates (c in top_classes[i]) with the highest scores[i, c]

With P = 1 every image is a candidate for one class only. With P > 1 an image
can enter the lists of several classes and is then trained on once per list,
with each list's class as its label. A class with fewer than K candidates
keeps all of them.

Ties are broken by the lower index: among classes of equal score the lower
class index ranks first, among images of equal score the lower image index.

Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def balanced_quota(n_labelled: int, num_classes: int) -> np.ndarray:
    """Images per class of a class-balanced set of ``n_labelled``: ``n // C`` each, one more for the first ``n % C`` classes."""
    if n_labelled < 0 or num_classes < 1:
        raise ValueError(f"Arguments `n_labelled` >= 0 and `num_classes` >= 1 required. "
                         f"Received: n_labelled={n_labelled}, num_classes={num_classes}")
    quota = np.full(num_classes, n_labelled // num_classes, dtype=np.int64)
    quota[: n_labelled % num_classes] += 1
    return quota


def labelled_split(labels: np.ndarray, n_labelled: int, num_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices ``0..N-1`` into a class-balanced labelled set L and the rest U.

    Class c contributes ``balanced_quota(n_labelled, C)[c]`` images, the first
    of a seeded permutation of its indices. Returns ``(L, U)``, both sorted.
    """
    labels = np.asarray(labels)
    quota = balanced_quota(n_labelled, num_classes)
    available = np.bincount(labels, minlength=num_classes)
    short = np.flatnonzero(available < quota)
    if short.size:
        c = int(short[0])
        raise ValueError(f"class {c} has {available[c]} images, fewer than its quota of {quota[c]}")
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[: quota[c]] for c in range(num_classes)]
    labelled = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    unlabelled = np.setdiff1d(np.arange(len(labels)), labelled)
    return labelled, unlabelled


def top_classes(scores: np.ndarray, p: int) -> np.ndarray:
    """The ``p`` highest-scoring classes of each image, best first, ties to the lower class: shape (N, p)."""
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"Argument `scores` must be 2-D (images, classes). Received: shape={scores.shape}")
    if not 1 <= p <= scores.shape[1]:
        raise ValueError(f"Argument `p` must be in [1, {scores.shape[1]}]. Received: p={p}")
    return np.argsort(-scores, axis=1, kind="stable")[:, :p]


@dataclass(frozen=True)
class Selection:
    """The selected (image, class) pairs, grouped by class and best-first within a class."""

    images: np.ndarray  # index into the scored set, one entry per pair
    labels: np.ndarray  # the class whose list the pair comes from
    candidates: np.ndarray  # per class: images that had the class among their top P

    @property
    def pairs(self) -> int:
        return len(self.images)

    def per_class(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.candidates))


def select_top_k(scores: np.ndarray, k: int, p: int) -> Selection:
    """Yalniz et al.'s selection (module docstring): the top ``k`` candidates of every class.

    Args:
        scores: (N, C) teacher scores of the unlabelled images (softmax outputs).
        k: images kept per class, >= 1.
        p: classes each image is considered for, in [1, C].
    """
    if k < 1:
        raise ValueError(f"Argument `k` must be >= 1. Received: k={k}")
    scores = np.asarray(scores)
    best = top_classes(scores, p)
    num_classes = scores.shape[1]
    eligible = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(eligible, best, True, axis=1)
    images, labels, candidates = [], [], []
    for c in range(num_classes):
        pool = np.flatnonzero(eligible[:, c])  # ascending, so a stable sort puts the lower index first on ties
        ranked = pool[np.argsort(-scores[pool, c], kind="stable")][:k]
        images.append(ranked)
        labels.append(np.full(len(ranked), c, dtype=np.int64))
        candidates.append(len(pool))
    return Selection(np.concatenate(images).astype(np.int64), np.concatenate(labels), np.asarray(candidates))


def selection_summary(selection: Selection, true_labels: np.ndarray, k: int) -> dict:
    """What a selection holds, measured against the hidden true labels of the scored images.

    ``precision`` is the share of pairs whose class is the image's true class;
    ``multi_class_images`` counts images that sit in more than one class's
    list; ``short_classes`` counts classes with fewer than ``k`` candidates.
    """
    true_labels = np.asarray(true_labels)
    correct = true_labels[selection.images] == selection.labels
    appearances = np.bincount(selection.images) if selection.pairs else np.zeros(0, dtype=np.int64)
    return {
        "pairs": selection.pairs,
        "images": int(np.count_nonzero(appearances)),
        "multi_class_images": int(np.count_nonzero(appearances > 1)),
        "correct": int(correct.sum()),
        "precision": float(correct.mean()) if selection.pairs else float("nan"),
        "short_classes": int(np.count_nonzero(selection.candidates < k)),
    }


def per_class_precision(selection: Selection, true_labels: np.ndarray) -> list[dict]:
    """One row per class: candidates, pairs selected, pairs whose class is the true one, precision."""
    correct = np.asarray(true_labels)[selection.images] == selection.labels
    rows = []
    for c, candidates in enumerate(selection.candidates):
        mine = selection.labels == c
        selected = int(mine.sum())
        right = int(correct[mine].sum())
        rows.append({"class": c, "candidates": int(candidates), "selected": selected, "correct": right,
                     "precision": right / selected if selected else float("nan")})
    return rows
