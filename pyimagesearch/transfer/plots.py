"""Figures of the transfer-learning script: class distribution, sample images, training curves.

Each function draws on the axes it is given (or new ones), returns them and
never calls ``plt.show()``; the script saves the figure.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from pyimagesearch.core.plotting import new_axes, place_legend, place_legends
from pyimagesearch.core.plotting import plot_curves as plot_curves_panel

MAX_CLASS_TICKS = 40  # beyond this many classes the names are unreadable as tick labels


def plot_class_distribution(counts: Mapping[str, Sequence[int]], class_names: Sequence[str], title: str = "", ax=None):
    """Images per class, one bar series per split stacked on the previous one."""
    if ax is None:
        ax = new_axes(width=max(6.0, min(16.0, 0.25 * len(class_names))))
    positions = np.arange(len(class_names))
    bottom = np.zeros(len(class_names))
    for split, split_counts in counts.items():
        values = np.asarray(split_counts, dtype=float)
        ax.bar(positions, values, bottom=bottom, width=1.0 if len(class_names) > MAX_CLASS_TICKS else 0.8,
               label=f"{split} ({int(values.sum()):,})")
        bottom += values
    if len(class_names) <= MAX_CLASS_TICKS:
        ax.set_xticks(positions, class_names, rotation=90 if len(class_names) > 10 else 0, fontsize=7)
        ax.set_xlabel("class")
    else:
        ax.set_xlabel(f"class index (0-{len(class_names) - 1})")
    ax.set_ylim(0, 1.25 * max(bottom.max(), 1))  # room for the legend above the bars
    ax.set_ylabel("images")
    ax.set_title(title or "Images per class")
    place_legend(ax, ncols=len(counts))
    return ax


def plot_samples(images: Sequence[np.ndarray], titles: Sequence[str], axes=None, title: str = ""):
    """A row of images (uint8, any size) with their titles and sizes (height x width); returns the axes.

    ``title`` goes above the row (the figure's title).
    """
    if axes is None:
        axes = new_axes(ncols=len(images), width=2.6, height=3.1)
    axes = np.atleast_1d(axes)
    for ax, image, name in zip(axes, images, titles):
        ax.imshow(image)
        ax.set_title(f"{name}\nH x W = {image.shape[0]} x {image.shape[1]} px", fontsize=9)
        ax.axis("off")
    if title:
        axes[0].figure.suptitle(title, fontsize=10)
    return axes


def plot_curves(rows: Sequence[Mapping[str, float]], title: str = "", axes=None, stopped: str | None = None):
    """Loss, accuracy (training and validation) and the learning rate per epoch.

    ``rows`` are history rows (``core.history.read_history``): epoch, lr,
    loss, accuracy, val_loss, val_accuracy. ``stopped``: why a diverged run
    was stopped; a red line on every panel marks its last epoch. Returns the three axes.
    """
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        axes = new_axes(ncols=3, width=4.2, height=3.2)
    for ax, metric in zip(axes[:2], ("loss", "accuracy")):
        plot_curves_panel(rows, metric, ax=ax, title=metric)
    axes[2].plot([row["epoch"] for row in rows], [row["lr"] for row in rows], marker=".", drawstyle="steps-post")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("learning rate")
    axes[2].set_title("learning rate")
    axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = [row["epoch"] for row in rows]
    if epochs and max(epochs) - min(epochs) < 2:  # a run stopped early: whole epochs on the axis, not 0.95-1.05
        for ax in axes[:3]:
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
            ax.set_xticks(range(int(min(epochs)), int(max(epochs)) + 1))
    if stopped and rows:
        last = rows[-1]["epoch"]
        for ax in axes[:3]:
            ax.axvline(last, color="tab:red", linestyle="--", label=f"diverged: stopped after epoch {last:g}")
        axes[0].set_title(f"loss (stopped: {stopped})", fontsize=8)
    if title:
        axes[0].figure.suptitle(title)
    place_legends(axes, **({"fontsize": 7} if stopped else {}))
    return axes
