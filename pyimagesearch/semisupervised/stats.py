"""The exact McNemar test for two classifiers scored on the same test images.

Two models tested on the same images are paired. With ``b`` the images A
gets right and B wrong and ``c`` the reverse, under "equally accurate" each
disagreement goes either way with probability 1/2::

    p = min(1, 2 * P(Binomial(b + c, 1/2) <= min(b, c)))

(``scipy.stats.binomtest(b, b + c, 0.5).pvalue`` gives the same.) Pure Python
and NumPy.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """``{"b", "c", "p"}`` for per-image correctness (booleans) of model A and model B."""
    correct_a, correct_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if correct_a.shape != correct_b.shape:
        raise ValueError(f"Arguments must have one shape. Received: {correct_a.shape} and {correct_b.shape}")
    b = int(np.count_nonzero(correct_a & ~correct_b))
    c = int(np.count_nonzero(~correct_a & correct_b))
    n = b + c
    tail = Fraction(sum(math.comb(n, i) for i in range(min(b, c) + 1)), 2**n)
    return {"b": b, "c": c, "p": float(min(Fraction(1), 2 * tail))}
