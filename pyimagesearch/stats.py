"""Statistics for comparing two classifiers honestly: paired tests on one test set, intervals over seeds.

Pure Python and NumPy (SciPy only for the t quantile); no framework import.

- Two models scored on the same test images are paired, not independent
  samples: ``mcnemar_exact`` tests them on the images where they disagree.
- Seed-to-seed spread is usually larger than the test set's sampling noise:
  ``t_interval`` gives the 95% interval of a mean difference over seeds
  (paired by seed), ``bootstrap_interval`` the percentile bootstrap of it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np


def discordant_counts(correct_a, correct_b) -> tuple[int, int]:
    """``(b, c)``: images model A gets right and B wrong, and the reverse (boolean arrays, same images)."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"Both models must be scored on the same images. Received shapes {a.shape} and {b.shape}")
    return int(np.sum(a & ~b)), int(np.sum(~a & b))


def mcnemar_exact(b: int, c: int) -> float:
    """Exact (binomial) McNemar test of two paired classifiers; returns the two-sided p-value::

        n = b + c                     # images on which the two disagree
        p = min(1, 2 * P(Binomial(n, 1/2) <= min(b, c)))

    with ``b`` the images A gets right and B wrong, ``c`` the reverse. Under
    the null hypothesis (equal accuracy) each disagreement goes either way with
    probability 1/2. No disagreement at all gives p = 1. Computed exactly in
    integers; equals ``scipy.stats.binomtest(b, b + c, 0.5).pvalue``.
    """
    if b < 0 or c < 0:
        raise ValueError(f"Arguments `b` and `c` must be >= 0. Received: b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


@dataclass
class PairedTest:
    """The McNemar test of two models on the same test images."""

    images: int
    a_right_b_wrong: int
    b_right_a_wrong: int
    p_value: float

    @property
    def accuracy_difference(self) -> float:
        """Accuracy of A minus accuracy of B: (b - c) / images."""
        return (self.a_right_b_wrong - self.b_right_a_wrong) / self.images

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy_difference": self.accuracy_difference}


def paired_test(correct_a, correct_b) -> PairedTest:
    """``mcnemar_exact`` on two per-image correctness arrays of the same test images."""
    b, c = discordant_counts(correct_a, correct_b)
    return PairedTest(len(np.asarray(correct_a)), b, c, mcnemar_exact(b, c))


def mean_and_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1 in the denominator; NaN for one value)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("Argument `values` must hold at least one value.")
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else math.nan


@dataclass
class Interval:
    """A mean with its confidence interval (``low``/``high`` NaN when one value cannot give one)."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    method: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict:
        return asdict(self)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Student t interval of the mean of ``values`` (for paired seeds: the per-seed differences)::

        mean +- t_{(1 + confidence) / 2, n - 1} * sd / sqrt(n)
    """
    from scipy.stats import t

    if not 0 < confidence < 1:
        raise ValueError(f"Argument `confidence` must be in (0, 1). Received: confidence={confidence}")
    mean, sd = mean_and_sd(values)
    n = len(values)
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, confidence, "t")
    half = float(t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, confidence, "t")


def bootstrap_interval(values: Sequence[float], confidence: float = 0.95, resamples: int = 10_000,
                       seed: int = 0) -> Interval:
    """Percentile bootstrap interval of the mean: resample ``values`` with replacement ``resamples`` times.

    With few values (3 seeds give 10 distinct resamples) the interval is too
    narrow; ``t_interval`` is the one to report then.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, math.nan, math.nan, int(values.size), confidence, "bootstrap")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(mean, float(low), float(high), int(values.size), confidence, "bootstrap")


def binomial_standard_error(accuracy: float, images: int) -> float:
    """Standard error of an accuracy measured on ``images`` images: sqrt(p (1 - p) / n)."""
    return math.sqrt(accuracy * (1 - accuracy) / images)
