"""Axes helpers, legends that hide no data, and the learning-curve panel that every problem's plots share.

Plot functions draw on the axes they are given (new ones when ``ax`` is
None), return them and never call ``plt.show()``; scripts save the figures.
Their legends go through ``place_legend``: in a corner of the axes that the
data leaves empty, measured on the drawn figure, or else below the axes.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


LEGEND_CORNERS = ("upper right", "upper left", "lower left", "lower right")
LEGEND_MARGIN = 3  # points of clear space a legend in a corner keeps from the data


def new_axes(ncols: int = 1, width: float = 7.0, height: float = 4.5):
    """A new figure with ``ncols`` axes side by side: one axes, or an array of them."""
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return axes[0] if ncols > 1 else axes[0, 0]


def axes_or_new(ax, width: float = 7.0, height: float = 4.5):
    """``ax`` itself, or a new single axes of ``width`` x ``height`` inches."""
    return ax if ax is not None else new_axes(1, width, height)


def _finite_runs(points: np.ndarray):
    """The stretches of ``points`` between non-finite ones (a NaN loss breaks a line, as matplotlib draws it)."""
    finite = np.isfinite(points).all(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(int), [0]])))
    return [points[start:end] for start, end in zip(edges[::2], edges[1::2])]


def _covers(box, artist, renderer) -> bool:
    """Whether the display-space ``box`` covers a drawn part of ``artist``: a line, collection, patch, image or text."""
    from matplotlib.cbook import STEP_LOOKUP_MAP
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.path import Path
    from matplotlib.transforms import Bbox

    if not artist.get_visible():
        return False
    if artist.get_clip_on() and artist.get_clip_box() is not None:  # the part outside the axes is not drawn
        box = Bbox.intersection(box, artist.get_clip_box())
        if box is None:
            return False
    pixels_per_point = artist.figure.dpi / 72
    if isinstance(artist, Line2D):
        points = artist.get_transform().transform(np.asarray(artist.get_xydata(), dtype=float))
        drawn = np.transpose(STEP_LOOKUP_MAP[artist.get_drawstyle()](*points.T))  # "steps-post" adds the corners
        runs = _finite_runs(drawn)
        if artist.get_linestyle() not in ("None", "none", "", " ") and any(
                len(run) > 1 and Path(run).intersects_bbox(box, filled=False) for run in runs):
            return True
        if artist.get_marker() in (None, "None", "none", ""):
            return False
        return _any_inside(points, box.padded(artist.get_markersize() * pixels_per_point / 2))
    if isinstance(artist, PathCollection):  # scatter: one marker per offset
        points = artist.get_offset_transform().transform(np.asarray(artist.get_offsets(), dtype=float))
        radius = np.sqrt(np.max(artist.get_sizes(), initial=1.0)) * pixels_per_point / 2
        return _any_inside(points, box.padded(radius))
    if isinstance(artist, Patch):
        path = artist.get_transform().transform_path(artist.get_path())
        return path.intersects_bbox(box, filled=artist.get_fill())
    if hasattr(artist, "get_paths"):  # fill_between bands and other polygons
        transform = artist.get_transform()
        return any(transform.transform_path(path).intersects_bbox(box, filled=True) for path in artist.get_paths())
    return artist.get_window_extent(renderer).overlaps(box)  # images, texts


def _any_inside(points: np.ndarray, box) -> bool:
    points = points[np.isfinite(points).all(axis=1)]
    return bool(((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                 & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)).any())


def legend_hides_data(ax, legend=None) -> bool:
    """Whether ``legend`` (the axes' own by default) covers a line, marker, band, bar, box, image or label of ``ax``.

    Measured in display space on the figure as last drawn: a line by its
    segments as well as its points, markers by their radius, with a margin
    of ``LEGEND_MARGIN`` points around the legend so that no line grazes it.
    """
    legend = legend or ax.get_legend()
    if legend is None:
        return False
    renderer = ax.figure.canvas.get_renderer()
    box = legend.get_window_extent(renderer).padded(LEGEND_MARGIN * ax.figure.dpi / 72)
    artists = [*ax.lines, *ax.collections, *ax.patches, *ax.images, *ax.texts]
    return any(_covers(box, artist, renderer) for artist in artists)


def place_legend(ax, handles=None, labels=None, corners: Sequence[str] = LEGEND_CORNERS, **options):
    """A legend of ``ax`` where it hides no data; returns it (None when nothing is labelled).

    The first of ``corners`` whose legend covers none of the data
    (``legend_hides_data``, on the figure drawn as it will be saved), else
    below the axes, under the x-axis label, in as many columns as fit the
    axes' width. ``options`` go to ``ax.legend``. Call it after everything is
    drawn, titles included: they move the axes.
    """
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    elif labels is None:
        labels = [handle.get_label() for handle in handles]
    if not handles:
        return None
    ax.figure.canvas.draw()  # lays the figure out: the axes are where they will be saved
    for corner in corners:
        legend = ax.legend(handles, labels, loc=corner, **options)
        if not legend_hides_data(ax, legend):
            return legend
        legend.remove()
    return legend_below(ax, handles, labels, **options)


def legend_below(ax, handles, labels, **options):
    """A legend centred under the axes' x-axis label, where no data can be, in as many columns as fit its width."""
    from matplotlib.transforms import offset_copy

    figure = ax.figure
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    renderer = figure.canvas.get_renderer()
    gap = (ax.bbox.y0 - ax.get_tightbbox(renderer).y0) * 72 / figure.dpi + 2  # tick labels and x label, in points
    under = offset_copy(ax.transAxes, fig=figure, y=-gap, units="points")
    for columns in range(len(handles), 0, -1):
        legend = ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=under,
                           ncols=columns, **options)
        if columns == 1 or legend.get_window_extent(renderer).width <= ax.bbox.width:
            return legend
        legend.remove()


def place_legends(axes, **options) -> None:
    """``place_legend`` on each of ``axes`` (of one figure), again until none hides data.

    A legend moved below one axes shrinks its row, which can bring another
    axes' data under a corner legend chosen before; that one moves below too.
    """
    axes = [ax for ax in np.ravel(axes) if ax.get_legend_handles_labels()[0]]
    for ax in axes:
        place_legend(ax, **options)
    for _ in axes:
        axes[0].figure.canvas.draw()
        crowded = [ax for ax in axes if legend_hides_data(ax)]
        if not crowded:
            return
        for ax in crowded:
            legend_below(ax, *ax.get_legend_handles_labels(), **options)


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
    place_legend(ax)
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
    place_legend(ax)  # the steep fall, the minimum and the rise take most corners: usually below the axes
    return ax
