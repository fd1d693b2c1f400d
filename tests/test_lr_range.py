"""Smoothing, stop rule and lr_min/lr_max suggestion against hand computations."""

import math

import numpy as np
import pytest

from pyimagesearch.lr_policies import geometric_lrs, grid_lrs
from pyimagesearch.lr_range import (
    LR_MAX_RULES, SmoothedLoss, centred_mean, lag_free_half_width, lag_free_losses, smooth_losses, suggest_lr_range,
)


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
    s = suggest_lr_range(lrs, valley(lrs), lr_max_rule="drop90")
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
    assert not s and s.lr_min is None and "never fell 5% below its first value" in s.reason


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
    s = suggest_lr_range(lrs, [2.3, 2.3, 2.3, 0.5, 0.45, 0.6], lr_max_rule="drop90")
    assert s.lr_max == pytest.approx(1e-3) and s.lr_min == pytest.approx(1e-3 / 4)
    s = suggest_lr_range(lrs, [2.3, 2.3, 2.3, 0.5, 0.45, 0.6])  # the default: the minimum's LR / 3
    assert s.lr_max == pytest.approx(1e-2 / 3) and s.lr_min == pytest.approx(1e-3) and s.lr_max_rule == "minimum/3"


def test_too_few_finite_points():
    s = suggest_lr_range([1e-3, 1e-2, 1e-1], [2.0, np.nan, np.nan])
    assert not s and s.reason == "only 1 finite point before the loss diverged; start the range lower"
    s = suggest_lr_range([1e-3, 1e-2, 1e-1], [2.0, 1.0, np.nan])
    assert not s and s.reason.startswith("only 2 finite points before")


def test_skip_is_ignored_when_it_would_leave_nothing():
    lrs = grid_lrs(1e-4, 1e0, 5)
    losses = [2.3, 2.0, 1.0, 0.5, 0.4]
    assert suggest_lr_range(lrs, losses, skip_begin=10, skip_end=1) == suggest_lr_range(lrs, losses)


def test_centred_mean_matches_hand_computation():
    values = [1.0, 2.0, 3.0, 10.0, 5.0]
    np.testing.assert_allclose(centred_mean(values, 1), [1.0, 2.0, 5.0, 6.0, 5.0])
    np.testing.assert_allclose(centred_mean(values, 2), [1.0, 2.0, 21.0 / 5, 6.0, 5.0])
    np.testing.assert_allclose(centred_mean(values, 0), values)
    line = 3.0 - 0.01 * np.arange(500)
    np.testing.assert_allclose(centred_mean(line, 49), line, atol=1e-12)  # no lag on a trend
    assert lag_free_half_width(0.98) == 49 and lag_free_half_width(0.0) == 0


def test_lag_free_losses_stop_at_the_first_nan():
    smooth = lag_free_losses([2.0, 4.0, 3.0, np.nan, 1.0], beta=0.5)  # half width 1
    np.testing.assert_allclose(smooth[:3], [2.0, 3.0, 3.0])
    assert np.isnan(smooth[3:]).all()


def range_test_curve(noise_seed=None):
    """A range test's sampling (2,500 batches from 1e-9 to 10) of a valley whose minimum sits near LR 0.1.

    With ``noise_seed``, batch noise like that of a real Fashion-MNIST range test here: standard
    deviation 0.02 before the fall, 0.12 after it.
    """
    lrs = geometric_lrs(1e-9, 1e1, 2500)
    x = np.log10(lrs)
    fall = 1 / (1 + np.exp(-4 * (x + 2)))
    losses = 2.3 - 2.0 * fall + 3.0 * np.clip(x + 1, 0, None) ** 2
    if noise_seed is not None:
        losses = losses + (0.02 + 0.1 * fall) * np.random.default_rng(noise_seed).standard_normal(len(lrs))
    return lrs, losses


def test_lag_free_bounds_match_the_true_curve_where_the_ema_lags():
    lrs, true = range_test_curve()
    ratios = {"lag-free": [], "ema": []}
    for seed in range(20):
        _, noisy = range_test_curve(noise_seed=seed)
        for rule in LR_MAX_RULES:
            truth = suggest_lr_range(lrs, true, 10, 1, rule)
            for name, curve in (("lag-free", lag_free_losses(noisy, 0.98)), ("ema", smooth_losses(noisy, 0.98))):
                found = suggest_lr_range(lrs, curve, 10, 1, rule)
                ratios[name].append([found.lr_min / truth.lr_min, found.lr_max / truth.lr_max])
    lag_free, ema = np.array(ratios["lag-free"]), np.array(ratios["ema"])
    # Every bound of every rule within 30% of the noiseless curve's, the median within 15%; the EMA,
    # which lags about 49 batches (10**(49 * 10 / 2500) = 1.57x in LR), puts them 1.15x higher or more.
    assert np.all((lag_free > 0.7) & (lag_free < 1.3))
    assert np.all(np.abs(np.median(lag_free, axis=0) - 1) < 0.15)
    assert np.all(np.median(ema, axis=0) > 1.15)
    exact = suggest_lr_range(lrs, true, 10, 1, "drop90")
    lagged = suggest_lr_range(lrs, smooth_losses(true, 0.98), 10, 1, "drop90")
    assert lagged.lr_min / exact.lr_min > 1.35 and lagged.lr_max / exact.lr_max > 1.5  # noiseless: 1.39x and 1.58x


def valley_rules():
    lrs = geometric_lrs(1e-9, 1e1, 2500)
    return lrs, valley(lrs)


def test_lr_max_rules_on_a_known_valley():
    lrs, losses = valley_rules()
    by_rule = {rule: suggest_lr_range(lrs, losses, lr_max_rule=rule) for rule in LR_MAX_RULES}
    # The sigmoid falls steepest at LR 1e-2 and the valley's minimum sits at LR 1.00 (3x**2 takes over).
    assert by_rule["minimum"].lr_max == pytest.approx(1.0, rel=0.02)
    assert by_rule["minimum/3"].lr_max == pytest.approx(1.0 / 3, rel=0.02)
    assert by_rule["steepest*10"].lr_max == pytest.approx(0.1, rel=0.02)
    assert by_rule["drop90"].lr_max == pytest.approx(10 ** (-2 + math.log(9) / 4), rel=0.05)
    lr_min = 10 ** (-2 - math.log(9) / 4)
    assert all(s.lr_min == pytest.approx(lr_min, rel=0.05) and s.lr_max_rule == rule for rule, s in by_rule.items())
    assert by_rule["steepest*10"].lr_steepest == pytest.approx(1e-2, rel=0.02)
    with pytest.raises(ValueError, match="lr_max_rule"):
        suggest_lr_range(lrs, losses, lr_max_rule="median")


def test_steepest_rule_never_goes_past_the_minimum():
    lrs = geometric_lrs(1e-4, 1e0, 400)
    x = np.log10(lrs)
    losses = 2.3 - 2.0 / (1 + np.exp(-8 * (x + 1.5))) + 5.0 * np.clip(x + 1.2, 0, None) ** 2  # minimum at 10**-1.2
    s = suggest_lr_range(lrs, losses, lr_max_rule="steepest*10")
    assert s.lr_steepest == pytest.approx(10**-1.5, rel=0.03) and s.lr_max == s.lr_at_minimum < 10 * s.lr_steepest


def test_no_descent_is_measured_from_the_first_point_not_after_the_skip():
    # A sweep that starts too high: the loss jumps in the skipped batches, then settles back near
    # (never below) its first value. Measured after the skip it would seem to fall by 20%.
    lrs = geometric_lrs(1.0, 1e3, 300)
    losses = np.full(300, 2.35)
    losses[0] = 2.31
    losses[1:10] = 3.0
    losses[10:40] = np.linspace(2.9, 2.35, 30)
    assert suggest_lr_range(lrs[10:], losses[10:])  # the old reading: a range on the way back down
    s = suggest_lr_range(lrs, losses, skip_begin=10, skip_end=1)
    assert not s and "never fell 5% below its first value (2.31; lowest 2.35)" in s.reason
    losses[200:] = 2.31 * 0.96  # a 4% fall is not meaningful either (batch noise at the start is about 1%)
    assert not suggest_lr_range(lrs, losses, skip_begin=10, skip_end=1)
    losses[200:] = 2.31 * 0.94
    assert suggest_lr_range(lrs, losses, skip_begin=10, skip_end=1)
