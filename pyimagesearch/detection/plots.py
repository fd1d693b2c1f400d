"""Figures of anchors, proposals and counts drawn over the example image.

Each function draws on the axes it is given (a new figure when ``ax`` is
None) and returns them; none calls ``plt.show()``. Image coordinates are
pixels of the rescaled image, y pointing down.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from pyimagesearch.core.plotting import axes_or_new, place_legend
from pyimagesearch.core.wording import plural

SCALE_COLOURS = ("tab:red", "tab:orange", "tab:cyan", "tab:purple", "tab:green", "tab:pink")
RATIO_STYLES = ("--", "-", ":", "-.")


def _show_image(ax, image: np.ndarray, alpha: float = 1.0):
    height, width = image.shape[:2]
    ax.imshow(image, extent=(0, width, height, 0), alpha=alpha, interpolation="bilinear")
    ax.set_xlabel("x (px, rescaled image)")
    ax.set_ylabel("y (px, rescaled image)")


def _rectangle(box, **style):
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    return Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, **style)


def plot_anchors_at(image: np.ndarray, anchors: np.ndarray, centre: Sequence[float], scales: Sequence[float],
                    ratios: Sequence[float], ax=None, title: str = ""):
    """The k anchors of one position (ratio-major rows, as ``anchors.base_anchors``): colour = scale, line = ratio."""
    from matplotlib.lines import Line2D

    ax = axes_or_new(ax, 8.0, 5.5)
    _show_image(ax, image)
    height, width = image.shape[:2]
    for index, box in enumerate(anchors):
        ratio, scale = divmod(index, len(scales))
        ax.add_patch(_rectangle(box, edgecolor=SCALE_COLOURS[scale % len(SCALE_COLOURS)],
                                linestyle=RATIO_STYLES[ratio % len(RATIO_STYLES)], linewidth=1.8))
    ax.plot(*centre, marker="+", color="white", markersize=12, markeredgewidth=2)
    ax.add_patch(_rectangle((0, 0, width, height), edgecolor="black", linewidth=1))
    left, top = min(0, anchors[:, 0].min()), min(0, anchors[:, 1].min())
    right, bottom = max(width, anchors[:, 2].max()), max(height, anchors[:, 3].max())
    margin = 0.03 * max(right - left, bottom - top)
    ax.set_xlim(left - margin, right + margin)
    ax.set_ylim(bottom + margin, top - margin)
    ax.set_aspect("equal")
    handles = [Line2D([], [], color=SCALE_COLOURS[i % len(SCALE_COLOURS)], label=f"scale {s:g} px (area {s:g}^2)")
               for i, s in enumerate(scales)]
    handles += [Line2D([], [], color="black", linestyle=RATIO_STYLES[i % len(RATIO_STYLES)],
                       label=f"ratio h/w = {r:g}") for i, r in enumerate(ratios)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.set_title(title or f"the {plural(len(anchors), 'anchor')} at ({centre[0]:g}, {centre[1]:g})")
    return ax


def plot_anchor_centres(image: np.ndarray, centres: np.ndarray, stride: int, ax=None, title: str = ""):
    """One dot per feature-map position, at the image point its anchors are centred on."""
    ax = axes_or_new(ax, 8.0, 5.5)
    _show_image(ax, image, alpha=0.6)
    ax.scatter(centres[:, 0], centres[:, 1], s=4, color="tab:red", label=f"anchor centre (every {stride} px)")
    ax.set_title(title or plural(len(centres), "anchor centre"))
    place_legend(ax, corners=(), fontsize="small")  # the image and its dots fill the axes: below them
    return ax


def plot_boxes(image: np.ndarray, boxes: np.ndarray, scores: np.ndarray, ax=None, title: str = "",
               vmin: float | None = None, vmax: float | None = None, label: str = "objectness score"):
    """Boxes over the image coloured by score (highest drawn last, on top), with a colorbar."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    ax = axes_or_new(ax, 8.0, 5.5)
    _show_image(ax, image, alpha=0.7)
    scores = np.asarray(scores, dtype=np.float64)
    norm = Normalize(vmin=scores.min() if vmin is None else vmin, vmax=scores.max() if vmax is None else vmax)
    cmap = plt.get_cmap("viridis")
    for index in np.argsort(scores, kind="stable"):
        ax.add_patch(_rectangle(boxes[index], edgecolor=cmap(norm(scores[index])), linewidth=1.2))
    ax.figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=label, shrink=0.8)
    ax.set_title(title or plural(len(boxes), "box", "boxes"))
    return ax


def plot_step_counts(counts: Mapping[str, int], inside: int | None = None, ax=None, title: str = ""):
    """Boxes left after each step (log scale), and the anchors inside the image, used only to train the RPN."""
    ax = axes_or_new(ax, 9.0, 4.8)
    values = list(counts.values())
    bars = list(ax.bar(list(counts), values, color="tab:blue", label="proposal pipeline"))
    if inside is not None:
        bars += list(ax.bar(["inside image"], [inside], color="tab:gray", hatch="//",
                            label="anchors inside the image (RPN training only)"))
    for bar in bars:
        ax.annotate(f"{bar.get_height():,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small", xytext=(0, 2), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_ylim(top=max(max(values), inside or 0) * 3)
    ax.set_ylabel("boxes (log scale)")
    ax.set_xlabel("step")
    ax.tick_params(axis="x", labelrotation=25)
    ax.set_title(title or "boxes left after each step")
    place_legend(ax, fontsize="small")  # the bars stand on the bottom edge: a top corner above the short ones, or below
    return ax


def plot_edge_map(edges: np.ndarray, ax=None, title: str = ""):
    """The strong-edge pixels the ``edges`` scores count."""
    ax = axes_or_new(ax, 8.0, 5.5)
    height, width = edges.shape
    ax.imshow(edges, cmap="gray_r", extent=(0, width, height, 0), interpolation="nearest")
    ax.set_xlabel("x (px, rescaled image)")
    ax.set_ylabel("y (px, rescaled image)")
    ax.set_title(title or f"strong edges ({edges.mean():.1%} of pixels)")
    return ax


def plot_nms_example(boxes: np.ndarray, scores: np.ndarray, names: Sequence[str], kept: Sequence[int], ax=None,
                     title: str = ""):
    """The worked example's boxes: kept ones solid, suppressed ones dashed; the legend names each with its score."""
    from matplotlib.lines import Line2D

    ax = axes_or_new(ax, 7.0, 4.5)
    handles = []
    for index, box in enumerate(boxes):
        keep = index in kept
        style = {"edgecolor": f"C{index % 10}", "linestyle": "-" if keep else "--", "linewidth": 2 if keep else 1.2}
        ax.add_patch(_rectangle(box, **style))
        handles.append(Line2D([], [], color=style["edgecolor"], linestyle=style["linestyle"],
                              linewidth=style["linewidth"],
                              label=f"{names[index]} {scores[index]:.2f} {'kept' if keep else 'suppressed'}"))
    pad = 10
    ax.set_xlim(boxes[:, 0].min() - pad, boxes[:, 2].max() + pad)
    ax.set_ylim(boxes[:, 3].max() + pad, boxes[:, 1].min() - pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", title="box, score")
    ax.set_title(title or "non-maximum suppression example")
    return ax
