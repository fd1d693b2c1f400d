"""What the figures say: lr_min/lr_max lines and the note on the peaks, batch-size changes, axis labels, titles."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from pyimagesearch.core.plotting import plot_lr_range  # noqa: E402
from pyimagesearch.lenet.plots import lr_trace_note, mark_batch_changes, plot_lr_trace  # noqa: E402
from pyimagesearch.lr_policies import clr  # noqa: E402


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
