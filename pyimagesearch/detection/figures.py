"""The PNGs of one ``python -m pyimagesearch.detection`` run; every title names the stand-ins used."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pyimagesearch.core.outputs import save_figure
from pyimagesearch.core.wording import nouns, plural
from pyimagesearch.detection import plots
from pyimagesearch.detection.anchors import anchor_centres, base_anchors, feature_map_size
from pyimagesearch.detection.boxes import nms
from pyimagesearch.detection.proposals import Proposals
from pyimagesearch.detection.worked_example import BOXES, NAMES, SCORES


def write_figures(folder: Path, image, anchors, scores, proposals: Proposals, edges, inside: int, test_count: int,
                  args) -> None:
    """anchors_at_centre, anchor_centres, proposals before and after NMS, step_counts, edge_map and nms_example."""
    import matplotlib

    matplotlib.use("Agg")
    stand_in = f"scores: {args.scores}, deltas: {args.deltas} (stand-ins for a trained RPN)"
    height, width = image.shape[:2]
    feature_height, feature_width = feature_map_size(height, width, args.stride)

    # The position whose centre is nearest the image centre.
    row = min(max(round(height / 2 / args.stride - 0.5), 0), feature_height - 1)
    col = min(max(round(width / 2 / args.stride - 0.5), 0), feature_width - 1)
    centre = ((col + 0.5) * args.stride, (row + 0.5) * args.stride)
    at_centre = base_anchors(args.scales, args.ratios) + np.array([*centre, *centre])
    ax = plots.plot_anchors_at(image, at_centre, centre, args.scales, args.ratios,
                               title=f"the k = {len(at_centre)} {nouns(len(at_centre), 'anchor')} of position "
                                     f"({row}, {col}), centred on ({centre[0]:g}, {centre[1]:g}) px")
    save_figure(ax.figure, folder / "anchors_at_centre.png")

    centres = anchor_centres(feature_height, feature_width, args.stride)
    ax = plots.plot_anchor_centres(image, centres, args.stride,
                                   title=f"{feature_height} x {feature_width} = "
                                         f"{plural(len(centres), 'anchor centre')} x k = {len(at_centre)}: "
                                         f"{plural(len(anchors), 'anchor')}")
    save_figure(ax.figure, folder / "anchor_centres.png")

    before, after = proposals.pre_nms_indices[:args.plot_top], proposals.nms_indices[:args.plot_top]
    shown = np.concatenate([scores[before], scores[after]])
    for indices, name, what in (
        (before, "proposals_before_nms.png", f"of {plural(len(proposals.pre_nms_indices), 'box', 'boxes')} before NMS"),
        (after, "proposals_after_nms.png",
         f"of {plural(len(proposals.nms_indices), 'box', 'boxes')} after NMS at IoU {args.iou:g}"),
    ):
        ax = plots.plot_boxes(image, proposals.candidates[indices], scores[indices], vmin=shown.min(),
                              vmax=shown.max(), title=f"top {len(indices)} {what}\n{stand_in}",
                              label=f"objectness score ({args.scores})")
        save_figure(ax.figure, folder / name)

    counts = {**proposals.counts, f"test top-{args.test_post_nms_top_n}": test_count}
    ax = plots.plot_step_counts(counts, inside=inside, title=f"boxes left after each step\n{stand_in}")
    save_figure(ax.figure, folder / "step_counts.png")

    if edges is not None:
        ax = plots.plot_edge_map(edges, title=f"strong edges counted by --scores edges ({edges.mean():.1%} of pixels)")
        save_figure(ax.figure, folder / "edge_map.png")

    kept = nms(BOXES, SCORES, args.iou).tolist()
    ax = plots.plot_nms_example(BOXES, SCORES, NAMES, kept,
                                title=f"NMS example at IoU {args.iou:g}: kept {', '.join(NAMES[i] for i in kept)}")
    save_figure(ax.figure, folder / "nms_example.png")
