"""The figures of the three experiments. Each draws on ``ax`` (new axes when None) and returns it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np

from pyimagesearch.core.outputs import save_figure
from pyimagesearch.core.plotting import axes_or_new, place_legend

P_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
            "tab:olive", "tab:cyan")


def save(ax, path: str | Path) -> Path:
    """Save the figure that holds ``ax`` as PNG and close it."""
    return save_figure(ax.figure, path)


def _k_axis(ax, students: Sequence[dict]) -> None:
    """A log K axis ticked at the K values swept."""
    from matplotlib.ticker import NullLocator

    ax.set_xscale("log")
    ks = sorted({row["k"] for row in students})
    if ks:
        ax.set_xticks(ks, [f"{k:,}" for k in ks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("K, images selected per class (log scale)")


def _by_p(students: Sequence[dict]) -> dict[int, list[dict]]:
    lines: dict[int, list[dict]] = {}
    for row in sorted(students, key=lambda r: (r["p"], r["k"])):
        lines.setdefault(row["p"], []).append(row)
    return lines


def accuracy_vs_k(students: Sequence[dict], teacher: dict, ceiling: dict | None = None, ax=None,
                  note: str | None = None):
    """Test accuracy of the students against K, one colour per P: fine-tuned (solid) and pre-trained only (dashed).

    ``note``: why the sweep cannot be compared with Figure 5, written under the title.
    """
    ax = axes_or_new(ax, width=9.0, height=6.0)
    for index, (p, rows) in enumerate(_by_p(students).items()):
        ks = [row["k"] for row in rows]
        color = P_COLORS[index % len(P_COLORS)]
        ax.plot(ks, [100 * row["test_accuracy"] for row in rows], marker="o", color=color,
                label=f"student, P = {p}: pre-trained + fine-tuned on L")
        ax.plot(ks, [100 * row["pretrained_test_accuracy"] for row in rows], marker="s", linestyle="--",
                color=color, alpha=0.7, label=f"student, P = {p}: pre-trained only")
    ax.axhline(100 * teacher["test_accuracy"], color="black", linestyle=":",
               label=f"teacher (L only) {100 * teacher['test_accuracy']:.2f}%")
    if ceiling:
        ax.axhline(100 * ceiling["test_accuracy"], color="tab:gray", linestyle="-.",
                   label=f"ceiling (L + U, true labels) {100 * ceiling['test_accuracy']:.2f}%")
    _k_axis(ax, students)
    ax.set_ylabel("test accuracy (%)")
    lines = textwrap.wrap(note, 120) if note else []
    if lines:  # between the title and the axes, clear of the curves
        ax.text(0.5, 1.015, "\n".join(lines), transform=ax.transAxes, ha="center", va="bottom", fontsize="small",
                color="tab:red")
    ax.set_title("Teacher/student on Fashion-MNIST: test accuracy against K (cf. Yalniz et al., Figure 5)",
                 pad=6 + 11 * len(lines))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    return ax


def precision_vs_k(students: Sequence[dict], ax=None):
    """Share of the selected pairs whose class is the image's hidden true class, against K, one colour per P.

    Solid: all the pairs selected at K; dashed (when the rows have ``added_precision``): only the pairs that K
    adds to the previous K.
    """
    ax = axes_or_new(ax)
    for index, (p, rows) in enumerate(_by_p(students).items()):
        color = P_COLORS[index % len(P_COLORS)]
        ks = [row["k"] for row in rows]
        ax.plot(ks, [100 * row["precision"] for row in rows], marker="o", color=color, label=f"P = {p}: all selected pairs")
        if all(row.get("added_precision") is not None for row in rows):
            ax.plot(ks, [100 * row["added_precision"] for row in rows], marker="s", linestyle="--", color=color,
                    alpha=0.7, label=f"P = {p}: pairs added since the previous K")
    _k_axis(ax, students)
    ax.set_ylabel("pseudo-label precision (% of selected pairs)")
    ax.set_title("Precision of the teacher's pseudo-labels against K")
    ax.grid(True, alpha=0.3)
    place_legend(ax)
    return ax


def accuracy_vs_noise(rows: Sequence[dict], ax=None):
    """Test accuracy against the share of training labels replaced, and how well the noisy labels were fitted."""
    ax = axes_or_new(ax)
    rows = sorted(rows, key=lambda r: r["noise_percent"])
    noise = [row["noise_percent"] for row in rows]
    ax.plot(noise, [100 * row["test_accuracy"] for row in rows], marker="o", label="test accuracy (clean test labels)")
    ax.plot(noise, [100 * row["train_accuracy"] for row in rows], marker="s", linestyle="--",
            label="training accuracy on the noisy labels")
    ax.set_xlabel("labels replaced, p (% of the training set)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("LeNet-5 on Fashion-MNIST with p% of the training labels replaced")
    ax.grid(True, alpha=0.3)
    place_legend(ax)
    return ax


def per_class_accuracy(rows: Sequence[dict], class_names: Sequence[str], counts: Sequence[int], ax=None):
    """Grouped bars: test accuracy of every class (head to tail) under each sampling, with the class's training images."""
    ax = axes_or_new(ax, width=11.0)
    positions = np.arange(len(class_names))
    width = 0.8 / max(len(rows), 1)
    for index, row in enumerate(rows):
        values = [100 * row["per_class"][c] for c in range(len(class_names))]
        ax.bar(positions + (index - (len(rows) - 1) / 2) * width, values, width,
               label=f"{row['label']} sampling (overall {100 * row['test_accuracy']:.2f}%)")
    ax.set_xticks(positions, [f"{name}\n{count:,}" for name, count in zip(class_names, counts)], fontsize="small")
    ax.set_xlabel("class, with its training images in the long-tailed set (most frequent first)")
    ax.set_ylabel("test accuracy of the class (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Long-tailed Fashion-MNIST: per-class test accuracy under natural, square-root and uniform sampling")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(rows))
    return ax
