"""Region proposals and non-maximum suppression on a real photo (Problem 2.5: Faster R-CNN's RPN).

  python -m pyimagesearch.detection
  python -m pyimagesearch.detection --image photo.jpg --iou 0.5
  python -m pyimagesearch.detection --scores random --deltas random --seed 3

The image is rescaled so its shorter side is 600 px (Ren et al. 2015). Anchors
of 3 scales x 3 aspect ratios (k = 9) sit on every position of VGG-16's
conv5_3 map, floor(H/16) x floor(W/16) positions, 16 px apart. Each anchor gets
an objectness score and box deltas, is decoded into a box, clipped to the
image, filtered by size, ranked, and thinned by non-maximum suppression (IoU
0.7) to the top 2,000 (training) or 300 (testing) proposals.

No trained RPN can be downloaded here, so the scores and deltas are stand-ins:
--scores edges (default) scores a box by the density of strong Sobel edges
inside it minus that in a ring around it (an EdgeBoxes-like rule), --scores
random draws them; --deltas zero (default) makes every proposal its clipped
anchor, --deltas random jitters the anchors. Every output says which were used.

Writes into --output: counts.json, counts.md, nms_example.md, rpn_head.md,
rpn_head.json, config.json, log.txt and the figures anchors_at_centre.png,
anchor_centres.png, proposals_before_nms.png, proposals_after_nms.png,
step_counts.png, nms_example.png and (with --scores edges) edge_map.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from pyimagesearch.core.cli import (
    HelpFormatter, UserError, nonnegative_float, nonnegative_int, positive_float, positive_int, unit_interval,
)
from pyimagesearch.core.outputs import prepare_dir, save_figure, write_config, write_json, write_text
from pyimagesearch.detection import plots
from pyimagesearch.detection.boxes import nms
from pyimagesearch.detection.anchors import (
    RATIOS,
    SCALES,
    STRIDE,
    anchor_centres,
    anchor_counts,
    anchor_shapes,
    base_anchors,
    feature_map_size,
    generate_anchors,
    inside_image,
)
from pyimagesearch.detection.image import MAX_SIZE, SHORT_SIDE, default_image_path, load_image, rescale
from pyimagesearch.detection.objectness import (
    describe_stand_in,
    edge_scores,
    random_deltas,
    random_scores,
    strong_edges,
)
from pyimagesearch.detection.proposals import (
    IOU_THRESHOLD,
    MIN_SIZE,
    POST_NMS_TOP_N,
    PRE_NMS_TOP_N,
    TEST_POST_NMS_TOP_N,
    TEST_PRE_NMS_TOP_N,
    Proposals,
    propose,
)
from pyimagesearch.detection.report import counts_markdown
from pyimagesearch.detection.rpn_head import rpn_head_report
from pyimagesearch.detection.worked_example import BOXES, NAMES, SCORES, nms_example_markdown

DEFAULT_OUTPUT = "output/detection"
PLOT_TOP = 50
# (height, width) whose anchor counts counts.md compares with the paper's: its 1000 x 600 example, and a
# 500 x 375 image (a common PASCAL VOC size) rescaled to 800 x 600.
REFERENCE_SIZES = ((600, 1000), (600, 800))


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are user errors: one sentence, exit status 2, no usage dump."""

    def error(self, message: str):
        raise UserError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pyimagesearch.detection", description=__doc__, formatter_class=HelpFormatter)
    image = parser.add_argument_group("image")
    image.add_argument("--image", type=Path, default=None, metavar="PATH",
                       help="JPEG or PNG photo (default: scikit-learn's sample photo china.jpg, 640 x 427)")
    image.add_argument("--short-side", type=positive_int, default=SHORT_SIDE,
                       help="rescale the image so its shorter side has this many pixels, as in the paper")
    image.add_argument("--max-size", type=positive_int, default=MAX_SIZE,
                       help="but scale less if the longer side would exceed this (the released code's MAX_SIZE)")

    anchors = parser.add_argument_group("anchors")
    anchors.add_argument("--scales", type=positive_float, nargs="+", default=list(SCALES), metavar="PX",
                         help="anchor scales s in pixels of the rescaled image; an anchor's area is s^2")
    anchors.add_argument("--ratios", type=positive_float, nargs="+", default=list(RATIOS), metavar="H/W",
                         help="anchor aspect ratios as height/width (0.5: half as high as wide; 2: twice as high "
                              "as wide); k = scales x ratios")
    anchors.add_argument("--stride", type=positive_int, default=STRIDE,
                         help="pixels between feature-map positions (VGG-16 conv5_3: 16); map = floor(H/stride) x "
                              "floor(W/stride)")

    stand_in = parser.add_argument_group("stand-ins for a trained RPN")
    stand_in.add_argument("--scores", choices=("edges", "random"), default="edges",
                          help="objectness: edge density inside a box minus in a ring around it, or uniform random")
    stand_in.add_argument("--deltas", choices=("zero", "random"), default="zero",
                          help="box deltas: zero (proposals are clipped anchors) or seeded Gaussian jitter (std 0.1)")
    stand_in.add_argument("--seed", type=nonnegative_int, default=0,
                          help="seed of --scores random and --deltas random (default 0)")

    steps = parser.add_argument_group("proposal steps")
    steps.add_argument("--min-size", type=nonnegative_float, default=MIN_SIZE,
                       help="drop boxes narrower or lower than this many pixels of the rescaled image (0: keep all)")
    steps.add_argument("--pre-nms-top-n", type=positive_int, default=PRE_NMS_TOP_N,
                       help="boxes with the highest scores that enter NMS (released code: 12000 training, "
                            "6000 testing)")
    steps.add_argument("--iou", type=unit_interval, default=IOU_THRESHOLD,
                       help="NMS suppresses a box whose IoU with a kept, higher-scoring box is above this, in (0, 1]")
    steps.add_argument("--post-nms-top-n", type=positive_int, default=POST_NMS_TOP_N,
                       help="proposals kept after NMS, the paper's training setting")
    steps.add_argument("--test-post-nms-top-n", type=positive_int, default=TEST_POST_NMS_TOP_N,
                       help="also count the proposals at this smaller top-N, the paper's test setting")

    output = parser.add_argument_group("output")
    output.add_argument("--plot-top", type=positive_int, default=PLOT_TOP,
                        help="proposals drawn in proposals_before_nms.png and proposals_after_nms.png")
    output.add_argument("--output", type=Path, default=Path(DEFAULT_OUTPUT), help="folder for every file written")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    lines: list[str] = []

    def log(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    # Image.
    image_path = args.image if args.image is not None else default_image_path()
    original = load_image(image_path)
    image, scale = rescale(original, args.short_side, args.max_size)
    height, width = image.shape[:2]
    log(f"image: {image_path} {original.shape[1]} x {original.shape[0]} -> {width} x {height} px (scale {scale:.4f})")

    # Anchors.
    feature_height, feature_width = feature_map_size(height, width, args.stride)
    if not feature_height or not feature_width:
        raise UserError(f"the rescaled image ({width} x {height} px) is smaller than one --stride of {args.stride} px, "
                        "so the feature map has no position; use a larger --short-side or a smaller --stride")
    anchors = generate_anchors(feature_height, feature_width, args.stride, args.scales, args.ratios)
    inside = int(inside_image(anchors, height, width).sum())
    k = len(args.scales) * len(args.ratios)
    if not inside:
        smallest = ", ".join(f"{w:.0f} x {h:.0f}" for w, h in anchor_shapes([min(args.scales)], args.ratios))
        raise UserError(f"no anchor fits inside the rescaled {width} x {height} px image (those of the smallest "
                        f"scale are {smallest} px); use a larger --short-side or smaller --scales")
    log(f"feature map: floor({height}/{args.stride}) x floor({width}/{args.stride}) = {feature_height} x "
        f"{feature_width}; k = {k}; anchors {feature_height}*{feature_width}*{k} = {len(anchors):,}, "
        f"{inside:,} entirely inside the image")
    folder = prepare_dir(args.output)

    # Stand-in RPN outputs, then proposals.
    stand_in = describe_stand_in(args.scores, args.deltas, args.seed)
    log(stand_in)
    edges = strong_edges(image) if args.scores == "edges" else None
    scores = edge_scores(edges, anchors) if edges is not None else random_scores(len(anchors), args.seed)
    deltas = random_deltas(len(anchors), args.seed) if args.deltas == "random" else np.zeros_like(anchors)
    proposals = propose(anchors, scores, deltas, (height, width), args.min_size, args.pre_nms_top_n, args.iou,
                        args.post_nms_top_n)
    test_count = len(proposals.top(args.test_post_nms_top_n))
    log("boxes after each step: " + ", ".join(f"{name} {count:,}" for name, count in proposals.counts.items())
        + f"; test top-{args.test_post_nms_top_n} {test_count:,}")

    # Reports.
    counts = {
        "stand_in": stand_in,
        "scores": args.scores,
        "deltas": args.deltas,
        "image": {
            "path": str(image_path),
            "original": {"height": original.shape[0], "width": original.shape[1]},
            "rescaled": {"height": height, "width": width},
            "scale": scale,
        },
        "anchors": {
            "stride": args.stride, "scales": args.scales, "ratios": args.ratios, "k": k,
            "feature_map": {"height": feature_height, "width": feature_width},
            "total": len(anchors), "inside": inside,
        },
        "steps": proposals.counts,
        "test": {
            "post_nms_top_n": args.test_post_nms_top_n, "count": test_count, "pre_nms_top_n": TEST_PRE_NMS_TOP_N,
            "survivors_in_test_pre_nms": proposals.survivors_within(TEST_PRE_NMS_TOP_N),
        },
        "settings": {
            "min_size": args.min_size, "pre_nms_top_n": args.pre_nms_top_n, "iou": args.iou,
            "post_nms_top_n": args.post_nms_top_n, "seed": args.seed,
        },
        "reference_sizes": [
            {"height": height, "width": width, **anchor_counts(height, width, args.stride, args.scales, args.ratios)}
            for height, width in REFERENCE_SIZES
        ],
    }
    write_json(folder / "counts.json", counts)
    write_text(folder / "counts.md", counts_markdown(counts))
    head_markdown, head_payload = rpn_head_report(height, width, k, args.stride)
    write_text(folder / "rpn_head.md", head_markdown)
    write_json(folder / "rpn_head.json", head_payload)
    write_text(folder / "nms_example.md", nms_example_markdown(args.iou))
    totals = head_payload["totals"]
    log(f"RPN head on the {feature_height} x {feature_width} x 512 map: {totals['params']:,} parameters, "
        f"{totals['macs']:,} multiply-adds")

    # Figures.
    _figures(folder, image, anchors, scores, proposals, edges, inside, test_count, args)
    write_config(folder, {
        **{key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "image": str(image_path),
    }, packages=("numpy", "matplotlib", "pillow", "scikit-learn"))
    log(f"wrote {folder}/ in {time.perf_counter() - started:.1f} s")
    write_text(folder / "log.txt", "\n".join(lines) + "\n")
    return 0


def _figures(folder: Path, image, anchors, scores, proposals: Proposals, edges, inside: int, test_count: int,
             args) -> None:
    """Every PNG of the run; titles name the stand-ins."""
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
                               title=f"the k = {len(at_centre)} anchors of position ({row}, {col}), centred on "
                                     f"({centre[0]:g}, {centre[1]:g}) px")
    save_figure(ax.figure, folder / "anchors_at_centre.png")

    centres = anchor_centres(feature_height, feature_width, args.stride)
    ax = plots.plot_anchor_centres(image, centres, args.stride,
                                   title=f"{feature_height} x {feature_width} = {len(centres):,} anchor centres "
                                         f"x k = {len(at_centre)}: {len(anchors):,} anchors")
    save_figure(ax.figure, folder / "anchor_centres.png")

    before, after = proposals.pre_nms_indices[:args.plot_top], proposals.nms_indices[:args.plot_top]
    shown = np.concatenate([scores[before], scores[after]])
    for indices, name, what in (
        (before, "proposals_before_nms.png", f"of {len(proposals.pre_nms_indices):,} boxes before NMS"),
        (after, "proposals_after_nms.png", f"of {len(proposals.nms_indices):,} boxes after NMS at IoU {args.iou:g}"),
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
