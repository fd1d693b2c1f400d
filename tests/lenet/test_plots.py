"""What the figures say: lr_min/lr_max lines and the note on the peaks, batch-size changes, axis labels, titles,
and legends that hide no data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pyimagesearch.core.plotting import legend_hides_data, place_legend, plot_curves, plot_lr_range  # noqa: E402
from pyimagesearch.lenet.plots import (  # noqa: E402
    lr_trace_note, mark_batch_changes, plot_comparison, plot_lr_grid, plot_lr_trace, plot_seed_curves,
)
from pyimagesearch.lr_policies import clr, geometric_lrs  # noqa: E402
from pyimagesearch.lr_range import lag_free_losses, suggest_lr_range  # noqa: E402


def horizontal_lines(ax) -> dict[str, float]:
    return {line.get_label(): line.get_ydata()[0] for line in ax.get_lines() if len(set(line.get_ydata())) == 1}


def test_lr_trace_draws_lr_min_and_lr_max_and_says_why_exp_range_peaks_stay_below():
    step = 2110  # 2.5 epochs of 844 batches
    lrs = clr(np.arange(4 * step), 0.00073, 0.0216, step, "exp_range", 0.99994)
    note = lr_trace_note("exp_range", 0.99994, step, lrs)
    peak = 0.00073 + (0.0216 - 0.00073) * 0.99994**step  # 0.0191
    assert note.endswith(f"the first, at iteration {step}, is {peak:.3g}.") and f"{peak:.3g}" == "0.0191"
    assert "from iteration 0" in note
    ax = plot_lr_trace(lrs, 844, lr_min=0.00073, lr_max=0.0216, note=note, title="clr")
    assert horizontal_lines(ax) == {"lr_min = 0.00073": 0.00073, "lr_max = 0.0216": 0.0216}
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "LR used at each iteration", "lr_max = 0.0216", "lr_min = 0.00073"]
    assert ax.figure.get_supxlabel() == note
    plt.close(ax.figure)
    assert lr_trace_note("triangular", 1.0, step, lrs) == ""
    assert "halved after every cycle" in lr_trace_note("triangular2", 1.0, step, lrs)


def test_exp_range_with_gamma_1_is_triangular_and_its_note_says_every_peak_reaches_lr_max():
    step = 100
    lrs = clr(np.arange(4 * step), 0.001, 0.02, step, "exp_range", 1.0)
    np.testing.assert_allclose(lrs, clr(np.arange(4 * step), 0.001, 0.02, step, "triangular"))
    assert lrs[step] == pytest.approx(0.02) and lrs[3 * step] == pytest.approx(0.02)  # the peaks reach lr_max
    note = lr_trace_note("exp_range", 1.0, step, lrs)
    assert note == "exp_range with gamma 1 does not decay: it is the triangular policy, and every peak reaches lr_max."
    assert "no peak reaches lr_max" not in note
    short = clr(np.arange(50), 0.001, 0.02, step, "exp_range", 0.99)
    assert lr_trace_note("exp_range", 0.99, step, short).endswith(
        "the run ends at iteration 49, before the first peak (iteration 100).")


def test_batch_growth_curves_mark_each_change_of_batch_size():
    history = [{"epoch": e, "batch_size": 32 * 2 ** ((e - 1) // 2)} for e in range(1, 7)]  # 32, 32, 64, 64, 128, 128
    _, ax = plt.subplots()
    ax.plot([1, 6], [0, 1])
    mark_batch_changes(ax, history)
    changes = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in changes] == [2.5, 4.5]
    assert changes[0].get_label() == "batch size changes"
    top = ax.child_axes[0]  # the secondary x axis
    assert [label.get_text() for label in top.get_xticklabels()] == ["32", "64", "128"]
    assert list(top.get_xticks()) == [1.5, 3.5, 5.5]
    plt.close(ax.figure)


def test_range_test_says_which_loss_it_plots():
    ax = plot_lr_range(np.geomspace(1e-5, 1, 50), np.linspace(2.3, 0.5, 50))
    assert ax.get_ylabel() == "training loss (smoothed, per batch)"
    assert ax.get_xlabel() == "learning rate (log scale)" and ax.get_title()
    plt.close(ax.figure)


# Legends: measured on the drawn figure, independently of core.plotting's own check.

def covered_points(ax, legend=None) -> int:
    """Points of ``ax``'s lines under the legend, each drawn segment sampled every pixel in display space.

    Only what is drawn counts: points inside the axes, segments between
    finite points (a NaN breaks a line), the vertices alone of a marker-only line.
    """
    figure = ax.figure
    figure.canvas.draw()
    box = (legend or ax.get_legend()).get_window_extent()
    counted = 0
    for line in ax.lines:
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        if line.get_linestyle() in ("None", ""):
            samples = [xy]
        else:
            samples = [a + np.linspace(0, 1, int(np.hypot(*(b - a))) + 2)[:, None] * (b - a)
                       for a, b in zip(xy[:-1], xy[1:]) if np.isfinite(a).all() and np.isfinite(b).all()]
        for points in samples:
            counted += int((inside(ax.bbox, points) & inside(box, points)).sum())
    return counted


def inside(box, points) -> np.ndarray:
    return (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)


def range_test_curve():
    """A LeNet-like range test: flat at 2.3, a steep fall over two decades, the minimum near 0.1, then the rise."""
    lrs = geometric_lrs(1e-6, 1e1, 900)[:850]
    x = np.log10(lrs)
    raw = (2.3 - 2.0 / (1 + np.exp(-4 * (x + 2))) + 3.0 * np.clip(x + 0.5, 0, None) ** 2
           + 0.1 * np.random.default_rng(0).standard_normal(len(x)))
    return lrs, raw, lag_free_losses(raw)


def test_the_range_test_legend_leaves_the_steep_fall_visible(tmp_path):
    lrs, raw, smooth = range_test_curve()
    suggestion = suggest_lr_range(lrs, smooth, 10, 1)
    shown = slice(10, len(lrs) - 1)
    ax = plot_lr_range(lrs[shown], smooth[shown], suggestion, raw_losses=raw[shown])
    # The earlier placement, loc="best", found no empty place and covered the curve: the check can fail.
    assert covered_points(ax, ax.legend(loc="best")) > 0
    ax = plot_lr_range(lrs[shown], smooth[shown], suggestion, raw_losses=raw[shown])
    assert covered_points(ax) == 0
    assert ax.get_legend().get_window_extent().y1 < ax.bbox.y0  # no corner is free: below the axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "batch loss", "smoothed training loss (the curve the suggestion reads)",
        f"lr_min = {suggestion.lr_min:.2g}", f"lr_max = {suggestion.lr_max:.2g}"]
    ax.figure.savefig(tmp_path / "lr_range.png")
    plt.close(ax.figure)


@pytest.mark.parametrize("mode, gamma, step_sizes", [("triangular", 1.0, 4), ("exp_range", 0.99994, 4.5)])
def test_the_lr_trace_legend_hides_no_peak(mode, gamma, step_sizes):
    step = 2110
    lrs = clr(np.arange(int(step_sizes * step)), 0.00073, 0.0216, step, mode, gamma)
    ax = plot_lr_trace(lrs, 844, lr_min=0.00073, lr_max=0.0216, note=lr_trace_note(mode, gamma, step, lrs))
    if mode == "triangular":  # the earlier legend, upper right, covered the second peak, at 3/4 of the run
        assert covered_points(ax, ax.legend(loc="upper right", fontsize=8)) > 0
        ax = plot_lr_trace(lrs, 844, lr_min=0.00073, lr_max=0.0216)
    assert covered_points(ax) == 0
    assert ax.get_legend().get_window_extent().y1 < ax.bbox.y0
    plt.close(ax.figure)


def history(seed: int, epochs: int = 10, batch: int = 64):
    noise = np.random.default_rng(seed).normal(0, 0.01, epochs)
    loss = 0.9 * np.exp(-np.arange(1, epochs + 1) / 3) + 0.25 + noise
    return [{"epoch": e + 1, "loss": loss[e], "accuracy": 1 - loss[e] / 2.2, "val_loss": loss[e] + 0.04,
             "val_accuracy": 0.98 - loss[e] / 2.2 - 0.002 * e, "iterations": (e + 1) * 54_000 // batch,
             "batch_size": batch} for e in range(epochs)]


def test_the_comparison_has_one_legend_below_all_four_panels():
    axes = plot_comparison({"clr": [history(s) for s in (1, 2, 3)], "batch growth": [history(s, 10, 128) for s in (4, 5)]})
    figure = axes[0][0].figure
    figure.canvas.draw()
    [legend] = figure.legends
    box = legend.get_window_extent()
    assert all(ax.get_legend() is None and not box.overlaps(ax.bbox) for ax in np.ravel(axes))
    assert box.y1 < min(ax.get_tightbbox().y0 for ax in np.ravel(axes))  # under the lowest x-axis labels
    assert [text.get_text() for text in legend.get_texts()] == [
        "clr (mean of 3, band: lowest to highest)", "batch growth (mean of 2, band: lowest to highest)"]
    plt.close(figure)


def test_curves_seed_curves_and_the_grid_keep_their_legends_off_the_data():
    axes = plot_seed_curves({1: history(1), 2: history(2)}, title="two seeds")
    assert [covered_points(ax) for ax in axes] == [0, 0]
    assert axes[0].get_title() == "loss per epoch, seeds 1, 2"
    plt.close(axes[0].figure)
    axes = plot_seed_curves({7: history(7)})
    assert axes[1].get_title() == "accuracy per epoch, seed 7"
    plt.close(axes[0].figure)
    ax = plot_curves(history(3), "accuracy")
    assert covered_points(ax) == 0
    plt.close(ax.figure)
    lrs = np.geomspace(1e-4, 1, 9)
    rows = [{"lr": lr, "final_train_loss": loss, "diverged": bool(np.isnan(loss))}
            for lr, loss in zip(lrs, [2.3, 2.2, 1.9, 1.2, 0.6, 0.45, 0.5, 1.5, np.nan])]
    ax = plot_lr_grid(rows, suggest_lr_range(lrs[:8], [row["final_train_loss"] for row in rows[:8]]))
    assert covered_points(ax) == 0
    plt.close(ax.figure)


def test_a_legend_goes_to_the_corner_the_data_leaves_empty_or_else_below():
    _, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [0, 1], label="rising")  # leaves the upper left and the lower right empty
    assert place_legend(ax, corners=("upper right", "upper left")).get_window_extent().y1 > ax.bbox.y0
    box = ax.get_legend().get_window_extent()
    assert covered_points(ax) == 0 and box.x0 - ax.bbox.x0 < 20 and ax.bbox.y1 - box.y1 < 20  # upper left
    ax.plot([0, 1], [1, 0], label="falling")  # an X: no corner is empty
    legend = place_legend(ax)
    assert covered_points(ax) == 0 and legend.get_window_extent().y1 < ax.bbox.y0
    assert len(ax.figure.legends) == 0 and ax.get_legend() is legend  # the earlier legend is replaced
    plt.close(ax.figure)


def test_a_nan_breaks_a_line_for_the_legend_check_as_it_does_on_screen():
    _, ax = plt.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.plot([0.0, 0.2, np.nan, 0.8, 1.0], [0.5] * 5, label="broken line")
    legend = ax.legend(loc="center")
    ax.figure.canvas.draw()
    assert not legend_hides_data(ax) and covered_points(ax) == 0
    ax.lines[0].set_xdata([0.0, 0.2, 0.5, 0.8, 1.0])  # the same line without its gap
    assert legend_hides_data(ax) and covered_points(ax) > 0
    plt.close(ax.figure)
