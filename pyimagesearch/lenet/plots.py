"""Plots of LeNet-5 training runs: LR trace, learning curves, loss against log2(batch size).

Each function draws on the axes it is given (a new figure when ``ax`` is
None) and returns them; none calls ``plt.show()``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def plot_lr_trace(lrs: Sequence[float], steps_per_epoch: int | None = None, ax=None, title: str = ""):
    """The LR at every optimizer step (iteration), with epochs on the top axis."""
    ax = _axes(ax)
    ax.plot(np.arange(len(lrs)), lrs, linewidth=1)
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate")
    ax.set_title(title or "learning rate per iteration")
    ax.grid(alpha=0.3)
    if steps_per_epoch:
        top = ax.secondary_xaxis("top", functions=(lambda i: i / steps_per_epoch, lambda e: e * steps_per_epoch))
        top.set_xlabel("epoch")
    return ax


def plot_curves(history: Sequence[Mapping[str, float]], metric: str = "loss", ax=None, title: str = ""):
    """Training and validation ``metric`` ("loss" or "accuracy") against epoch."""
    ax = _axes(ax)
    epochs = [row["epoch"] for row in history]
    ax.plot(epochs, [row[metric] for row in history], marker="o", markersize=3, label=f"train {metric}")
    ax.plot(epochs, [row[f"val_{metric}"] for row in history], marker="s", markersize=3, label=f"validation {metric}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per epoch")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_loss_vs_log2_batch(history: Sequence[Mapping[str, float]], ax=None, title: str = ""):
    """Training loss of each epoch against log2(batch size), epochs joined in order."""
    ax = _axes(ax)
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
                   lr_at=None, steps_per_epoch: int | None = None) -> None:
    """Write a run's figures into ``folder``.

    ``curves.png`` (loss and accuracy against epoch) for every policy,
    ``lr_trace.png`` for clr (``lr_at(steps)`` gives the LR of each optimizer
    step) and ``loss_vs_log2_batch.png`` for batch-growth.
    """
    import matplotlib.pyplot as plt

    from pyimagesearch.core.outputs import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    plot_curves(history, "loss", ax=left)
    plot_curves(history, "accuracy", ax=right)
    figure.suptitle(title, fontsize=10)
    save_figure(figure, Path(folder) / "curves.png")
    if policy == "clr":
        lrs = lr_at(np.arange(history[-1]["iterations"]))
        save_figure(plot_lr_trace(lrs, steps_per_epoch, title=title).figure, Path(folder) / "lr_trace.png")
    if policy == "batch-growth":
        save_figure(plot_loss_vs_log2_batch(history, title=title).figure, Path(folder) / "loss_vs_log2_batch.png")
