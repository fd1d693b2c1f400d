"""Smoothing, stop rule and lr_min/lr_max suggestion against hand computations."""

import math

import numpy as np
import pytest

from pyimagesearch.lr_policies import geometric_lrs, grid_lrs
from pyimagesearch.lr_range import SmoothedLoss, smooth_losses, suggest_lr_range


def test_smoothing_matches_hand_computation():
    beta = 0.5
    losses = [4.0, 2.0, 1.0]
    # avg: 2.0, 2.0, 1.5; bias corrections: 1 - 0.5, 1 - 0.25, 1 - 0.125
    expected = [2.0 / 0.5, 2.0 / 0.75, 1.5 / 0.875]
    np.testing.assert_allclose(smooth_losses(losses, beta), expected)


def test_stop_rule_uses_best_before_update():
    smoother = SmoothedLoss(beta=0.0, stop_factor=4.0)  # beta 0: smooth == loss
    results = [smoother.update(loss) for loss in [3.0, 1.0, 3.9, 4.0, 4.1]]
    assert [stop for _, stop in results] == [False, False, False, False, True]
    assert smoother.best == 1.0


def test_first_batch_never_stops_but_nan_and_inf_do():
    assert SmoothedLoss(0.0, 4.0).update(100.0) == (100.0, False)
    for bad in (math.nan, math.inf):
        smoother = SmoothedLoss(0.98, 4.0)
        smoother.update(1.0)
        assert smoother.update(bad)[1] is True


def test_geometric_lrs_exact():
    np.testing.assert_allclose(geometric_lrs(1e-5, 1.0, 5), [1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(grid_lrs(1e-9, 1e1, 11), 10.0 ** np.arange(-9, 2))
    assert len(grid_lrs(1e-9, 1e1, 10)) == 10


def valley(lrs):
    """A synthetic range-test curve: flat, falls between 1e-3 and 1e-1, rises after 1."""
    x = np.log10(lrs)
    fall = 1 / (1 + np.exp(-4 * (x + 2)))
    return 2.3 - 2.0 * fall + 3.0 * np.clip(x, 0, None) ** 2


def test_suggestion_on_a_valley():
    lrs = geometric_lrs(1e-6, 1e1, 200)
    s = suggest_lr_range(lrs, valley(lrs))
    # 10% and 90% of the sigmoid's fall: 10**(-2 -+ ln(9)/4) = 2.49e-3, 4.0e-2 (curve's minimum slightly lower).
    assert s.lr_min == pytest.approx(10 ** (-2 - math.log(9) / 4), rel=0.1)
    assert s.lr_max == pytest.approx(10 ** (-2 + math.log(9) / 4), rel=0.1)
    assert s.lr_min < s.lr_steepest < s.lr_max < s.lr_at_minimum
    assert not s.still_decreasing


def test_nan_cuts_the_curve():
    lrs = geometric_lrs(1e-6, 1e1, 200)
    losses = valley(lrs)
    clean = suggest_lr_range(lrs, losses)
    losses[150:] = np.nan
    cut = suggest_lr_range(lrs, losses)
    assert cut.lr_min == clean.lr_min and cut.lr_max <= clean.lr_max


def test_best_point_first_gives_no_suggestion():
    lrs = geometric_lrs(1e-3, 1e1, 50)
    s = suggest_lr_range(lrs, np.linspace(1.0, 5.0, 50))
    assert not s and s.lr_min is None and "did not fall" in s.reason


def test_flat_curve_gives_no_suggestion():
    lrs = geometric_lrs(1e-9, 1e-6, 50)
    assert not suggest_lr_range(lrs, np.full(50, 2.3) + 1e-4 * np.sin(np.arange(50)))


def test_best_point_last_is_flagged():
    lrs = geometric_lrs(1e-6, 1e-2, 100)
    s = suggest_lr_range(lrs, 2.3 - np.linspace(0, 1, 100) ** 2)
    assert s and s.still_decreasing and s.lr_at_minimum == lrs[-1] and "extend" in s.reason


def test_minimum_just_before_divergence_is_not_still_decreasing():
    lrs = grid_lrs(1e-6, 1e0, 7)
    s = suggest_lr_range(lrs, [2.3, 2.3, 1.5, 0.6, 0.4, np.nan, np.nan])
    assert s and not s.still_decreasing and s.lr_at_minimum == pytest.approx(1e-2)


def test_sudden_drop_falls_back_to_a_quarter():
    lrs = grid_lrs(1e-6, 1e-1, 6)
    s = suggest_lr_range(lrs, [2.3, 2.3, 2.3, 0.5, 0.45, 0.6])
    assert s.lr_max == pytest.approx(1e-3) and s.lr_min == pytest.approx(1e-3 / 4)


def test_too_few_finite_points():
    s = suggest_lr_range([1e-3, 1e-2, 1e-1], [2.0, np.nan, np.nan])
    assert not s and "finite points" in s.reason


def test_skip_is_ignored_when_it_would_leave_nothing():
    lrs = grid_lrs(1e-4, 1e0, 5)
    losses = [2.3, 2.0, 1.0, 0.5, 0.4]
    assert suggest_lr_range(lrs, losses, skip_begin=10, skip_end=1) == suggest_lr_range(lrs, losses)
