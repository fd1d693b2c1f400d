"""The label-noise rule, the long tail, the sampling weights and draws, and McNemar's test: exact numbers."""

import math

import numpy as np
import pytest

from pyimagesearch.semisupervised.noise import noisy_count, replace_labels
from pyimagesearch.semisupervised.resampling import (class_draws, class_probabilities, long_tail_counts,
                                                     long_tail_subset, resampled_indices)


@pytest.mark.parametrize("percent, n, count", [(0, 1000, 0), (10, 1000, 100), (25, 54000, 13500), (50, 7, 4),
                                               (10, 45, 5), (10, 44, 4), (12.5, 8, 1), (99.9, 1000, 999)])
def test_noisy_count_is_round_half_up(percent, n, count):
    assert noisy_count(percent, n) == count


@pytest.mark.parametrize("percent", [0, 10, 25, 50, 90])
def test_exactly_the_share_is_replaced_and_never_by_itself(percent):
    labels = np.random.default_rng(1).integers(0, 10, size=1001).astype(np.int32)
    noisy, changed = replace_labels(labels, percent, 10, seed=7)
    assert noisy.dtype == labels.dtype and len(noisy) == len(labels)
    differ = np.flatnonzero(noisy != labels)
    assert len(changed) == len(set(changed.tolist())) == math.floor(percent * 1001 / 100 + 0.5)
    assert differ.tolist() == changed.tolist()  # every chosen label changed, no other did
    assert noisy.min() >= 0 and noisy.max() <= 9


def test_replacements_are_spread_over_the_other_classes():
    labels = np.zeros(90_000, dtype=np.int64)
    noisy, changed = replace_labels(labels, 50, 10, seed=0)
    counts = np.bincount(noisy[changed], minlength=10)
    assert counts[0] == 0
    assert np.all(np.abs(counts[1:] - 45_000 / 9) < 4 * math.sqrt(45_000 / 9))  # uniform within 4 sigma


def test_noise_is_nested_across_levels_with_one_seed():
    labels = np.arange(500) % 10
    low, changed_low = replace_labels(labels, 10, 10, seed=3)
    high, changed_high = replace_labels(labels, 25, 10, seed=3)
    assert set(changed_low.tolist()) < set(changed_high.tolist())
    assert np.array_equal(low[changed_low], high[changed_low])
    assert not np.array_equal(replace_labels(labels, 25, 10, seed=4)[1], changed_high)


@pytest.mark.parametrize("percent", [-1, 100, 150])
def test_noise_outside_0_100_is_refused(percent):
    with pytest.raises(ValueError, match=r"must be in \[0, 100\)"):
        replace_labels(np.zeros(10, dtype=int), percent, 10, seed=0)


def test_long_tail_counts_geometric():
    # 5000 * 100 ** (-c / 9) = 5000, 2997.4, 1796.9, 1077.2, 645.8, 387.1, 232.1, 139.1, 83.4, 50
    assert long_tail_counts(5000, 10, 100).tolist() == [5000, 2997, 1797, 1077, 646, 387, 232, 139, 83, 50]
    assert long_tail_counts(100, 3, 4).tolist() == [100, 50, 25]
    assert long_tail_counts(7, 4, 1).tolist() == [7, 7, 7, 7]
    assert long_tail_counts(10, 3, 1000).tolist() == [10, 1, 1]  # never below one image
    for bad in (0.5, 0.0, float("nan")):
        with pytest.raises(ValueError, match="imbalance"):
            long_tail_counts(100, 10, bad)


def test_long_tail_subset_keeps_the_counts():
    labels = np.repeat(np.arange(3), 20)
    kept = long_tail_subset(labels, np.array([20, 10, 5]), seed=0)
    assert np.bincount(labels[kept]).tolist() == [20, 10, 5]
    assert kept.tolist() == sorted(set(kept.tolist()))
    with pytest.raises(ValueError, match="class 2 has 20 images, fewer than the 21"):
        long_tail_subset(labels, np.array([1, 1, 21]), seed=0)


def test_sampling_weights_natural_sqrt_uniform():
    counts = np.array([400, 100, 25, 1])
    assert class_probabilities(counts, "natural").tolist() == pytest.approx([400 / 526, 100 / 526, 25 / 526, 1 / 526])
    assert class_probabilities(counts, "sqrt").tolist() == pytest.approx([20 / 36, 10 / 36, 5 / 36, 1 / 36])
    assert class_probabilities(counts, "uniform").tolist() == [0.25, 0.25, 0.25, 0.25]
    with pytest.raises(ValueError, match="sampling"):
        class_probabilities(counts, "inverse")


def test_class_draws_largest_remainders():
    counts = np.array([400, 100, 25, 1])
    assert class_draws(counts, "natural", 526).tolist() == [400, 100, 25, 1]
    assert class_draws(counts, "sqrt", 526).tolist() == [292, 146, 73, 15]  # 292.2, 146.1, 73.05, 14.6
    assert class_draws(counts, "uniform", 526).tolist() == [132, 132, 131, 131]  # 131.5 each: ties to the lower class
    assert class_draws(np.array([3, 3, 3]), "uniform", 10).tolist() == [4, 3, 3]


def test_resampled_indices_whole_copies_plus_a_sample():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    rng = np.random.default_rng(0)
    order = resampled_indices(labels, np.array([2, 5, 3]), rng)
    appearances = np.bincount(order, minlength=len(labels))
    assert np.bincount(labels[order]).tolist() == [2, 5, 3]
    assert sorted(appearances[:4].tolist()) == [0, 0, 1, 1]  # 2 of 4, without replacement
    assert sorted(appearances[4:6].tolist()) == [2, 3]  # 5 of 2: twice each, plus one
    assert appearances[6] == 3
    natural = resampled_indices(labels, np.array([4, 2, 1]), np.random.default_rng(1))
    assert sorted(natural.tolist()) == list(range(7))  # natural draws are the set itself, shuffled
