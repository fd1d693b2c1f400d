"""Plots of Problem 1: the LR range test, the LR grid, and LeNet-5 training runs.

Each function draws on the axes it is given (a new figure when ``ax`` is
None) and returns them; none calls ``plt.show()``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from pyimagesearch.core.plotting import axes_or_new, mark_suggestion, place_legend, place_legends, plot_curves
from pyimagesearch.core.wording import nouns


def plot_lr_grid(rows, suggestion=None, title: str = "", ax=None):
    """Final training loss of each LR in the grid, diverged runs marked with x (Smith Figure 3 style)."""
    ax = axes_or_new(ax)
    lrs = np.array([row["lr"] for row in rows], dtype=float)
    losses = np.array([row["final_train_loss"] for row in rows], dtype=float)
    diverged = np.array([row["diverged"] for row in rows], dtype=bool)
    ax.plot(lrs[~diverged], losses[~diverged], "o-", color="tab:blue", label="final training loss")
    if diverged.any():
        finite = np.isfinite(losses[~diverged])
        top = losses[~diverged][finite].max() if finite.any() else 1.0
        ax.plot(lrs[diverged], np.full(diverged.sum(), top), "x", color="tab:red", markersize=10,
                label="diverged (stopped)")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss after the last epoch")
    mark_suggestion(ax, suggestion)
    ax.set_title(title or "Training loss against learning rate")
    ax.grid(True, which="both", alpha=0.3)
    place_legend(ax)
    return ax


def plot_lr_trace(lrs: Sequence[float], steps_per_epoch: int | None = None, ax=None, title: str = "",
                  lr_min: float | None = None, lr_max: float | None = None, note: str = ""):
    """The LR at every optimizer step (iteration), with epochs on the top axis.

    ``lr_min`` and ``lr_max``, when given, are drawn as horizontal lines;
    ``note`` is written under the plot (``lr_trace_note``). The cycle fills
    the band between them, so the legend usually goes below the axes.
    """
    ax = axes_or_new(ax, 7, 4.5 if note else 4)
    ax.plot(np.arange(len(lrs)), lrs, linewidth=1, label="LR used at each iteration")
    if lr_max is not None:
        ax.axhline(lr_max, color="tab:red", linestyle="--", linewidth=1, label=f"lr_max = {lr_max:.3g}")
    if lr_min is not None:
        ax.axhline(lr_min, color="tab:green", linestyle="--", linewidth=1, label=f"lr_min = {lr_min:.3g}")
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel("learning rate")
    ax.set_title(title or "learning rate per iteration")
    ax.grid(alpha=0.3)
    if steps_per_epoch:
        top = ax.secondary_xaxis("top", functions=(lambda i: i / steps_per_epoch, lambda e: e * steps_per_epoch))
        top.set_xlabel("epoch")
    if note:
        ax.figure.supxlabel(note, fontsize=8, wrap=True)  # below the axes, where the figure's layout makes room
    if lr_min is not None or lr_max is not None:
        place_legend(ax, fontsize=8)
    return ax


def lr_trace_note(mode: str | None, gamma: float | None, step_size_iterations: float | None,
                  lrs: Sequence[float]) -> str:
    """Why a cyclical run's peaks stay below lr_max, or "" when they reach it (triangular).

    exp_range multiplies the cycle's height by ``gamma**t`` from iteration
    t = 0, so with gamma < 1 even the first peak, at t = step size, is below
    lr_max; with gamma = 1 nothing decays and exp_range is triangular, every
    peak at lr_max. triangular2 halves the height after every cycle.
    """
    if mode == "exp_range" and gamma is not None and gamma >= 1:
        return "exp_range with gamma 1 does not decay: it is the triangular policy, and every peak reaches lr_max."
    if mode == "exp_range" and step_size_iterations:
        first = int(round(step_size_iterations))
        decay = f"exp_range: the height (lr_max - lr_min) is multiplied by gamma**t = {gamma:g}**t from iteration 0 on"
        if first >= len(lrs):
            return f"{decay}; the run ends at iteration {len(lrs) - 1}, before the first peak (iteration {first})."
        return f"{decay}, so no peak reaches lr_max: the first, at iteration {first}, is {lrs[first]:.3g}."
    if mode == "triangular2":
        return "triangular2: the height (lr_max - lr_min) is halved after every cycle; only the first peak reaches lr_max."
    return ""


def mark_batch_changes(ax, history: Sequence[Mapping[str, float]]) -> None:
    """Dotted lines between the epochs where the batch size changes, and each stage's batch size on a top axis."""
    epochs = [row["epoch"] for row in history]
    edges, sizes = [epochs[0] - 0.5], [history[0]["batch_size"]]
    for previous, row in zip(history, history[1:]):
        if row["batch_size"] != previous["batch_size"]:
            edges.append((previous["epoch"] + row["epoch"]) / 2)
            sizes.append(row["batch_size"])
            ax.axvline(edges[-1], color="0.5", linestyle=":", linewidth=1,
                       label="batch size changes" if len(sizes) == 2 else None)
    edges.append(epochs[-1] + 0.5)
    top = ax.secondary_xaxis("top")
    top.set_xticks([(a + b) / 2 for a, b in zip(edges, edges[1:])], [f"{size:.0f}" for size in sizes], fontsize=7)
    top.tick_params(length=0)
    top.set_xlabel("batch size", fontsize=8)


def plot_loss_vs_log2_batch(history: Sequence[Mapping[str, float]], ax=None, title: str = ""):
    """Training loss of each epoch against log2(batch size), epochs joined in order."""
    ax = axes_or_new(ax, 7, 4)
    log2_batch = [math.log2(row["batch_size"]) for row in history]
    losses = [row["loss"] for row in history]
    ax.plot(log2_batch, losses, color="0.7", linewidth=1, zorder=1)
    points = ax.scatter(log2_batch, losses, c=[row["epoch"] for row in history], cmap="viridis", zorder=2)
    ax.figure.colorbar(points, ax=ax, label="epoch", ticks=MaxNLocator(integer=True))
    ticks = sorted(set(log2_batch))
    ax.set_xticks(ticks, [f"{tick:g}\n({2 ** tick:.0f})" for tick in ticks])
    ax.set_xlabel("log2(batch size)  (batch size)")
    ax.set_ylabel("training loss (epoch mean)")
    ax.set_title(title or "training loss against batch size")
    ax.grid(alpha=0.3)
    return ax


def save_run_plots(folder, history: Sequence[Mapping[str, float]], policy: str, title: str,
                   lr_at=None, steps_per_epoch: int | None = None, settings=None) -> None:
    """Write a run's figures into ``folder``.

    ``curves.png`` (loss and accuracy against epoch; for batch-growth, lines
    where the batch size changes) for every policy, ``lr_trace.png`` for clr
    (``lr_at(steps)`` gives the LR of each optimizer step; the run's
    ``PolicySettings`` add the lr_min and lr_max lines and the note on the
    peaks) and ``loss_vs_log2_batch.png`` for batch-growth.
    """
    import matplotlib.pyplot as plt

    from pyimagesearch.core.outputs import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    plot_curves(history, "loss", ax=left)
    plot_curves(history, "accuracy", ax=right)
    if policy == "batch-growth":
        for ax in (left, right):
            mark_batch_changes(ax, history)
    figure.suptitle(title, fontsize=10)
    place_legends((left, right), **({"fontsize": 8} if policy == "batch-growth" else {}))
    save_figure(figure, Path(folder) / "curves.png")
    if policy == "clr":
        lrs = lr_at(np.arange(history[-1]["iterations"]))
        bounds = {"lr_min": settings.lr_min, "lr_max": settings.lr_max} if settings else {}
        note = lr_trace_note(settings.mode, settings.gamma, settings.step_size_iterations, lrs) if settings else ""
        save_figure(plot_lr_trace(lrs, steps_per_epoch, title=title, note=note, **bounds).figure,
                    Path(folder) / "lr_trace.png")
    if policy == "batch-growth":
        save_figure(plot_loss_vs_log2_batch(history, title=title).figure, Path(folder) / "loss_vs_log2_batch.png")


def plot_band(histories: Sequence[Sequence[Mapping[str, float]]], key: str, x: str = "epoch", ax=None,
              label: str = "", color=None):
    """Mean of ``key`` over several runs' histories against ``x``, with a band from the lowest to the highest run.

    The runs are aligned row by row (epoch by epoch), up to the shortest one.
    A single run is drawn as a plain line.
    """
    ax = axes_or_new(ax)
    length = min(len(rows) for rows in histories)
    xs = np.mean([[row[x] for row in rows[:length]] for rows in histories], axis=0)
    values = np.array([[row[key] for row in rows[:length]] for rows in histories], dtype=float)
    line, = ax.plot(xs, values.mean(axis=0), marker="o", markersize=3, color=color,
                    label=label + (f" (mean of {len(histories)}, band: lowest to highest)" if len(histories) > 1 else ""))
    if len(histories) > 1:
        ax.fill_between(xs, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2, linewidth=0)
    return ax


def plot_seed_curves(histories: Mapping[int, Sequence[Mapping[str, float]]], title: str = "", axes=None):
    """Loss and accuracy (training and validation) against epoch over several seeds; returns the two axes."""
    from pyimagesearch.core.plotting import new_axes

    axes = new_axes(ncols=2, width=6.0, height=4.8) if axes is None else axes
    runs = list(histories.values())
    for ax, metric in zip(axes, ("loss", "accuracy")):
        plot_band(runs, metric, ax=ax, label=f"training {metric}")
        plot_band(runs, f"val_{metric}", ax=ax, label=f"validation {metric}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} per epoch, {nouns(len(histories), 'seed')} {', '.join(map(str, histories))}")
        ax.grid(alpha=0.3)
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    place_legends(axes, fontsize=8)
    return axes


def plot_comparison(sides: Mapping[str, Sequence[Sequence[Mapping[str, float]]]], title: str = "", axes=None):
    """Two (or more) runs side by side: validation accuracy and training loss against epoch and against optimizer steps.

    ``sides`` maps a run's name to its seeds' histories (one history for a
    single run); several seeds are drawn as a mean with a band. The four
    panels share one legend, below them, outside every axes (on given
    ``axes`` their figure needs constrained layout for it). Returns the
    2 x 2 axes.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(12, 8.5), layout="constrained")
    for row, (key, label) in enumerate((("val_accuracy", "validation accuracy"), ("loss", "training loss (epoch mean)"))):
        for column, (x, x_label) in enumerate((("epoch", "epoch"), ("iterations", "optimizer steps"))):
            ax = axes[row][column]
            for name, histories in sides.items():
                plot_band(histories, key, x=x, ax=ax, label=name)
            if x == "epoch":
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel(x_label)
            ax.set_ylabel(label)
            ax.set_title(f"{label} against {x_label}")
            ax.grid(alpha=0.3)
    figure = axes[0][0].figure
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    return axes
