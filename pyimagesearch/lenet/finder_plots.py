"""Plots of the LR range test and the LR grid.

Each function draws on the axes it is given (or a new figure), returns the
axes and never calls ``plt.show()``; scripts save the figures.
"""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def mark_suggestion(ax, suggestion) -> None:
    """Draw lr_min and lr_max as vertical lines, with their values in the legend."""
    if not suggestion:
        return
    ax.axvline(suggestion.lr_min, color="tab:green", linestyle="--", label=f"lr_min = {suggestion.lr_min:.2g}")
    ax.axvline(suggestion.lr_max, color="tab:red", linestyle="--", label=f"lr_max = {suggestion.lr_max:.2g}")


def plot_lr_range(lrs, losses, suggestion=None, title: str = "", ax=None):
    """Smoothed training loss against the learning rate (log axis), as in the LR range test."""
    ax = _axes(ax)
    ax.plot(lrs, losses, color="tab:blue", label="smoothed training loss")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
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


def plot_lr_grid(rows, suggestion=None, title: str = "", ax=None):
    """Final training loss of each LR in the grid, diverged runs marked with x (Smith Figure 3 style)."""
    ax = _axes(ax)
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
    ax.legend(loc="best")
    return ax
