"""Axes helpers and the learning-curve panel that every problem's plots share.

Plot functions draw on the axes they are given (new ones when ``ax`` is
None), return them and never call ``plt.show()``; scripts save the figures.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def new_axes(ncols: int = 1, width: float = 7.0, height: float = 4.5):
    """A new figure with ``ncols`` axes side by side: one axes, or an array of them."""
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return axes[0] if ncols > 1 else axes[0, 0]


def axes_or_new(ax, width: float = 7.0, height: float = 4.5):
    """``ax`` itself, or a new single axes of ``width`` x ``height`` inches."""
    return ax if ax is not None else new_axes(1, width, height)


AXIS_LABELS = {"loss": "loss (cross-entropy)", "accuracy": "accuracy (fraction correct)"}


def plot_curves(rows: Sequence[Mapping[str, float]], metric: str = "loss", ax=None, title: str = ""):
    """Training and validation ``metric`` ("loss" or "accuracy") against epoch.

    ``rows`` are history rows with ``epoch``, ``metric`` and ``val_<metric>``.
    """
    from matplotlib.ticker import MaxNLocator

    ax = axes_or_new(ax)
    epochs = [row["epoch"] for row in rows]
    ax.plot(epochs, [row[metric] for row in rows], marker="o", markersize=3, label=f"training {metric}")
    ax.plot(epochs, [row[f"val_{metric}"] for row in rows], marker="s", markersize=3, label=f"validation {metric}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(AXIS_LABELS.get(metric, metric))
    ax.set_title(title or f"{metric} per epoch")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def mark_suggestion(ax, suggestion) -> None:
    """Draw lr_min and lr_max as vertical lines, with their values in the legend."""
    if not suggestion:
        return
    ax.axvline(suggestion.lr_min, color="tab:green", linestyle="--", label=f"lr_min = {suggestion.lr_min:.2g}")
    ax.axvline(suggestion.lr_max, color="tab:red", linestyle="--", label=f"lr_max = {suggestion.lr_max:.2g}")


def plot_lr_range(lrs, losses, suggestion=None, title: str = "", ax=None, raw_losses=None):
    """Smoothed training loss against the learning rate (log axis), as in the LR range test.

    ``raw_losses`` (each batch's own loss), when given, are drawn faintly behind the curve.
    """
    ax = axes_or_new(ax)
    if raw_losses is not None:
        ax.plot(lrs, raw_losses, color="tab:blue", alpha=0.25, linewidth=0.6, label="batch loss")
    ax.plot(lrs, losses, color="tab:blue", label="smoothed training loss (the curve the suggestion reads)")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss (smoothed, per batch)")
    mark_suggestion(ax, suggestion)
    finite = np.asarray(losses, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = finite.min(), min(finite.max(), 4 * finite[0]) if finite[0] > 0 else finite.max()
        ax.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low) + 1e-12)
    ax.set_title(title or "LR range test")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best")
    return ax
