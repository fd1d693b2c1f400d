"""Non-maximum suppression by hand: six boxes, their IoU matrix, and which box is kept or suppressed, step by step.

The boxes are two "objects" seen by several overlapping proposals. At the
paper's threshold of 0.7 they show three things: a box is suppressed only by
a kept box with a higher score; a moderately overlapping box survives; and a
box that overlaps a suppressed box strongly can still be kept.
"""

from __future__ import annotations

import numpy as np

from pyimagesearch.architectures.report import table
from pyimagesearch.detection.boxes import area, iou_matrix, nms, score_order

NAMES = ("A", "B", "C", "D", "E", "F")
BOXES = np.array([
    [10, 10, 110, 110],
    [15, 15, 115, 115],
    [40, 10, 140, 110],
    [200, 50, 280, 150],
    [205, 55, 285, 150],
    [20, 20, 120, 120],
], dtype=np.float64)
SCORES = np.array([0.95, 0.90, 0.80, 0.75, 0.70, 0.65])


def walk_through(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[dict]:
    """Greedy NMS written out: one entry per kept box, with the boxes it compares and the ones it suppresses.

    The same loop as ``boxes.nms``, kept apart so each decision can be reported.
    """
    ious = iou_matrix(boxes, boxes)
    remaining = list(score_order(scores))
    steps = []
    while remaining:
        best, rest = remaining[0], remaining[1:]
        suppressed = [j for j in rest if ious[best, j] > iou_threshold]
        steps.append({
            "kept": int(best),
            "compared": {int(j): float(ious[best, j]) for j in rest},
            "suppressed": [int(j) for j in suppressed],
        })
        remaining = [j for j in rest if j not in suppressed]
    return steps


def nms_example_markdown(iou_threshold: float, boxes: np.ndarray = BOXES, scores: np.ndarray = SCORES,
                         names=NAMES) -> str:
    """The worked example as Markdown, computed with ``boxes.iou_matrix`` and checked against ``boxes.nms``."""
    ious = iou_matrix(boxes, boxes)
    steps = walk_through(boxes, scores, iou_threshold)
    kept = [step["kept"] for step in steps]
    if kept != nms(boxes, scores, iou_threshold).tolist():
        raise AssertionError("the walk-through and boxes.nms disagree")
    areas = area(boxes)
    box_rows = [
        [names[i], *(f"{v:g}" for v in boxes[i]), f"{boxes[i, 2] - boxes[i, 0]:g}", f"{boxes[i, 3] - boxes[i, 1]:g}",
         f"{areas[i]:,.0f}", f"{scores[i]:.2f}"]
        for i in range(len(boxes))
    ]
    iou_rows = [[f"**{names[i]}**", *(f"{ious[i, j]:.3f}" for j in range(len(boxes)))] for i in range(len(boxes))]
    a, b = 0, 1
    width = min(boxes[a, 2], boxes[b, 2]) - max(boxes[a, 0], boxes[b, 0])
    height = min(boxes[a, 3], boxes[b, 3]) - max(boxes[a, 1], boxes[b, 1])
    inter = max(width, 0) * max(height, 0)
    union = areas[a] + areas[b] - inter
    lines = [
        "# Non-maximum suppression, worked by hand",
        "",
        "Boxes are (x1, y1, x2, y2) in pixels; width = x2 - x1, height = y2 - y1. "
        f"The IoU threshold is {iou_threshold:g}"
        + (", as in Faster R-CNN" if iou_threshold == 0.7 else " (Faster R-CNN uses 0.7)")
        + f": a box is suppressed when its IoU with a kept, higher-scoring box is **greater than** {iou_threshold:g}. "
        "Equal scores are taken in index order.",
        "",
        "## The boxes",
        "",
        table(["Box", "x1", "y1", "x2", "y2", "width", "height", "area", "score"], box_rows),
        "",
        "## IoU matrix",
        "",
        "IoU = intersection area / union area, union = area 1 + area 2 - intersection. "
        f"For {names[a]} and {names[b]}: the intersection is "
        f"(min({boxes[a, 2]:g}, {boxes[b, 2]:g}) - max({boxes[a, 0]:g}, {boxes[b, 0]:g})) x "
        f"(min({boxes[a, 3]:g}, {boxes[b, 3]:g}) - max({boxes[a, 1]:g}, {boxes[b, 1]:g})) = "
        f"{width:g} x {height:g} = {inter:,.0f}; the union {areas[a]:,.0f} + {areas[b]:,.0f} - {inter:,.0f} = "
        f"{union:,.0f}; IoU = {inter:,.0f} / {union:,.0f} = {inter / union:.3f}.",
        "",
        table(["", *names], iou_rows),
        "",
        "## Step by step",
        "",
    ]
    for number, step in enumerate(steps, start=1):
        best = step["kept"]
        lines.append(f"{number}. The highest score left is {names[best]} ({scores[best]:.2f}): **keep {names[best]}**.")
        for j, value in step["compared"].items():
            verdict = f"> {iou_threshold:g}, **suppress {names[j]}**" if j in step["suppressed"] else \
                f"<= {iou_threshold:g}, {names[j]} stays"
            lines.append(f"   - IoU({names[best]}, {names[j]}) = {value:.3f} {verdict}")
        if not step["compared"]:
            lines.append("   - No box is left to compare.")
    suppressed = [j for step in steps for j in step["suppressed"]]
    by = {j: step["kept"] for step in steps for j in step["suppressed"]}
    lines += [
        "",
        "## Result",
        "",
        f"Kept: {', '.join(names[i] for i in kept)} ({len(kept)} of {len(boxes)} boxes, best first). "
        f"Suppressed: {', '.join(f'{names[j]} (by {names[by[j]]})' for j in suppressed) or 'none'}.",
        "",
        *_lessons(ious, kept, by, iou_threshold, names),
    ]
    return "\n".join(lines) + "\n"


def _lessons(ious, kept, by, iou_threshold, names) -> list[str]:
    """Notes on the cases that surprise students, only where this example shows them."""
    notes = []
    for j in kept:
        for s, killer in by.items():
            if ious[j, s] > iou_threshold and ious[j, killer] <= iou_threshold and kept.index(j) > kept.index(killer):
                notes.append(
                    f"- {names[j]} overlaps {names[s]} with IoU {ious[j, s]:.3f} > {iou_threshold:g}, yet it is kept: "
                    f"{names[s]} was already suppressed when {names[j]}'s turn came, and a suppressed box suppresses "
                    f"nothing. Greedy NMS compares each box only with the boxes kept before it."
                )
    pairs = [(i, j) for i, j in zip(*np.nonzero(np.triu(ious, 1)))
             if i in kept and j in kept and ious[i, j] <= iou_threshold]
    if pairs:
        listed = ", ".join(f"{names[i]} and {names[j]} ({ious[i, j]:.3f})" for i, j in pairs)
        notes.append(
            f"- Kept boxes may still overlap: {listed}. At a threshold of {iou_threshold:g} NMS removes only "
            "near-duplicates, so a cluster of proposals around one object is thinned, not reduced to one box."
        )
    return notes
