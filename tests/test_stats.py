"""McNemar on hand-computed tables, the t and bootstrap intervals on known data."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest

from pyimagesearch.stats import (
    bootstrap_interval, discordant_counts, mcnemar_exact, mean_and_sd, paired_test, t_interval,
)


@pytest.mark.parametrize("b, c, expected", [
    (0, 0, 1.0),                       # all agree: nothing to test
    (5, 0, 2 / 32),                    # one-sided: 2 * P(X <= 0), X ~ Bin(5, 1/2) = 2 / 32
    (0, 5, 2 / 32),
    (1, 0, 1.0),                       # 2 * 1/2, capped at 1
    (3, 3, 1.0),                       # balanced: 2 * P(X <= 3) > 1, capped
    (8, 2, 2 * (1 + 10 + 45) / 1024),  # 2 * (C(10,0) + C(10,1) + C(10,2)) / 2**10 = 0.109375
    (2, 8, 2 * 56 / 1024),
    (12, 0, 2 / 4096),
])
def test_mcnemar_exact_on_hand_computed_tables(b, c, expected):
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)
    if b + c:
        assert mcnemar_exact(b, c) == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-9)


def test_mcnemar_exact_matches_scipy_on_large_tables():
    # Two models on 10,000 images disagree on a few hundred: the sizes --compare sees.
    for b, c in [(310, 290), (350, 250), (1200, 1100), (40, 90)]:
        assert mcnemar_exact(b, c) == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
    assert mcnemar_exact(350, 250) < 0.001 and mcnemar_exact(310, 290) > 0.4
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_paired_test_counts_the_disagreements():
    a = np.array([1, 1, 1, 0, 0, 1, 0, 1], bool)
    b = np.array([1, 0, 0, 0, 1, 1, 0, 0], bool)
    assert discordant_counts(a, b) == (3, 1)
    test = paired_test(a, b)
    assert (test.images, test.a_right_b_wrong, test.b_right_a_wrong) == (8, 3, 1)
    assert test.accuracy_difference == pytest.approx(a.mean() - b.mean())
    assert test.p_value == pytest.approx(2 * (1 + 4) / 16)
    assert paired_test(a, a).p_value == 1.0
    with pytest.raises(ValueError, match="same images"):
        discordant_counts(a, b[:5])


def test_t_interval_on_known_data():
    # mean 2, sd 1, n 3: t_{0.975, 2} = 4.302653, half width 4.302653 / sqrt(3) = 2.484138
    interval = t_interval([1.0, 2.0, 3.0])
    assert interval.mean == 2.0 and interval.n == 3
    assert (interval.low, interval.high) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-6)
    five = t_interval([0.2, 0.4, 0.1, 0.5, 0.3], 0.90)  # mean 0.3, sd 0.158114, t_{0.95, 4} = 2.131847
    assert five.high - five.mean == pytest.approx(2.131847 * 0.158114 / math.sqrt(5), rel=1e-5)
    single = t_interval([0.01])
    assert single.mean == 0.01 and math.isnan(single.low) and math.isnan(single.high)
    assert mean_and_sd([0.9, 0.91, 0.92]) == pytest.approx((0.91, 0.01))


def test_bootstrap_interval_on_known_data():
    values = np.random.default_rng(1).normal(5.0, 2.0, 400)
    interval = bootstrap_interval(values, resamples=4000, seed=0)
    # The mean's standard error is 2 / sqrt(400) = 0.1: the 95% interval is about +-0.196.
    assert interval.contains(5.0) and interval.high - interval.low == pytest.approx(2 * 1.96 * 0.1, rel=0.15)
    assert bootstrap_interval([1.0, 1.0, 1.0]).to_dict() == {"mean": 1.0, "low": 1.0, "high": 1.0, "n": 3,
                                                             "confidence": 0.95, "method": "bootstrap"}
