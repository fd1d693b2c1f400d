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
step_counts.png, nms_example.png and (with --scores edges) edge_map.png, then
complete.json last: only a folder with it is finished (``core.run.completion``).
One process at a time writes a folder; the same settings again keep a finished
folder as it is, other settings are refused unless --overwrite is given.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from pyimagesearch.core.checkpoints import file_sha256
from pyimagesearch.core.cli import ArgumentParser, HelpFormatter, UserError, bounded_float, bounded_int, unit_interval
from pyimagesearch.core.outputs import prepare_dir, write_text
from pyimagesearch.core.run import RunFolder, check_output_path
from pyimagesearch.detection.anchors import (
    RATIOS, SCALES, STRIDE, anchor_counts, anchor_shapes, feature_map_size, generate_anchors, inside_image,
)
from pyimagesearch.detection.figures import write_figures
from pyimagesearch.detection.image import (
    MAX_PIXELS, MAX_SIZE, SHORT_SIDE, ImageFileError, default_image_path, load_image, rescale, rescaled_size,
)
from pyimagesearch.detection.objectness import describe_stand_in, edge_scores, random_deltas, random_scores, strong_edges
from pyimagesearch.detection.proposals import (
    IOU_THRESHOLD, MIN_SIZE, POST_NMS_TOP_N, PRE_NMS_TOP_N, TEST_POST_NMS_TOP_N, TEST_PRE_NMS_TOP_N, propose,
)
from pyimagesearch.detection.report import counts_markdown
from pyimagesearch.detection.rpn_head import rpn_head_report
from pyimagesearch.detection.worked_example import nms_example_markdown
from pyimagesearch.records.detection import (
    AnchorCounts, DetectionCounts, ImageSizes, ProposalSettings, ReferenceSize, RpnHead, TestCounts,
)

DEFAULT_OUTPUT = "output/detection"
PLOT_TOP = 50
# (height, width) whose anchor counts counts.md compares with the paper's: its 1000 x 600 example, and a
# 500 x 375 image (a common PASCAL VOC size) rescaled to 800 x 600.
REFERENCE_SIZES = ((600, 1000), (600, 800))

# Limits on what sizes the work, stated in --help and in the refusals: generous for photos, safe for memory.
MAX_SIDE = 4000            # --short-side, --max-size: a 4000 x 4000 rescaled image, 48 MB as RGB
MAX_SHAPES = 16            # --scales, --ratios: at most 16 of each, k <= 256
MAX_ANCHORS = 2_000_000    # H' * W' * k: 64 MB per array of boxes
MAX_TOP_N = 30_000         # --pre-nms-top-n and the post-NMS top-Ns: 2.5 x the released 12,000
MAX_STRIDE = 256
MAX_PLOT_TOP = 1000


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m pyimagesearch.detection", description=__doc__, formatter_class=HelpFormatter)
    image = parser.add_argument_group("image")
    image.add_argument("--image", type=Path, default=None, metavar="PATH",
                       help="JPEG or PNG photo of at most {:,} pixels (default: scikit-learn's sample photo "
                            "china.jpg, 640 x 427)".format(MAX_PIXELS))
    image.add_argument("--short-side", type=bounded_int(1, MAX_SIDE, "--short-side"), default=SHORT_SIDE,
                       help=f"rescale the image so its shorter side has this many pixels, as in the paper "
                            f"(at most {MAX_SIDE:,})")
    image.add_argument("--max-size", type=bounded_int(1, MAX_SIDE, "--max-size"), default=MAX_SIZE,
                       help=f"but scale less if the longer side would exceed this (the released code's MAX_SIZE; "
                            f"at most {MAX_SIDE:,})")

    anchors = parser.add_argument_group("anchors")
    anchors.add_argument("--scales", type=bounded_float(0, 4 * MAX_SIDE, "a scale", low_open=True), nargs="+",
                         default=list(SCALES), metavar="PX",
                         help="anchor scales s in pixels of the rescaled image; an anchor's area is s^2")
    anchors.add_argument("--ratios", type=bounded_float(1 / 64, 64, "a ratio"), nargs="+", default=list(RATIOS),
                         metavar="H/W",
                         help="anchor aspect ratios as height/width (0.5: half as high as wide; 2: twice as high "
                              "as wide); k = scales x ratios, ordered ratio-major as in the released code")
    anchors.add_argument("--stride", type=bounded_int(1, MAX_STRIDE, "--stride"), default=STRIDE,
                         help="pixels between feature-map positions (VGG-16 conv5_3: 16); map = floor(H/stride) x "
                              "floor(W/stride)")

    stand_in = parser.add_argument_group("stand-ins for a trained RPN")
    stand_in.add_argument("--scores", choices=("edges", "random"), default="edges",
                          help="objectness: edge density inside a box minus in a ring around it, or uniform random")
    stand_in.add_argument("--deltas", choices=("zero", "random"), default="zero",
                          help="box deltas: zero (proposals are clipped anchors) or seeded Gaussian jitter (std 0.1)")
    stand_in.add_argument("--seed", type=bounded_int(0, 2**32 - 1, "--seed"), default=None,
                          help="seed of --scores random and --deltas random (default 0); refused without either")

    steps = parser.add_argument_group("proposal steps")
    steps.add_argument("--min-size", type=bounded_float(0, MAX_SIDE, "--min-size"), default=MIN_SIZE,
                       help="drop boxes narrower or lower than this many pixels of the original image, min-size x "
                            "scale in the rescaled one, as the released code does (0: keep all)")
    top_n = bounded_int(1, MAX_TOP_N, "a top-N")
    steps.add_argument("--pre-nms-top-n", type=top_n, default=PRE_NMS_TOP_N,
                       help=f"boxes with the highest scores that enter NMS (released code: 12000 training, "
                            f"6000 testing; at most {MAX_TOP_N:,})")
    steps.add_argument("--iou", type=unit_interval, default=IOU_THRESHOLD,
                       help="NMS suppresses a box whose IoU with a kept, higher-scoring box is above this, in (0, 1]")
    steps.add_argument("--post-nms-top-n", type=top_n, default=POST_NMS_TOP_N,
                       help="proposals kept after NMS, the paper's training setting")
    steps.add_argument("--test-post-nms-top-n", type=top_n, default=TEST_POST_NMS_TOP_N,
                       help="also count the proposals at this smaller top-N, the paper's test setting")

    output = parser.add_argument_group("output")
    output.add_argument("--plot-top", type=bounded_int(1, MAX_PLOT_TOP, "--plot-top"), default=PLOT_TOP,
                        help="proposals drawn in proposals_before_nms.png and proposals_after_nms.png")
    output.add_argument("--output", default=DEFAULT_OUTPUT, help="folder for every file written")
    output.add_argument("--overwrite", action="store_true",
                        help="replace the results of other settings in --output (otherwise they are kept and the "
                             "run refused)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_output_path(args.output)
    args.seed = _seed(args)
    for flag, values in (("--scales", args.scales), ("--ratios", args.ratios)):
        if len(values) > MAX_SHAPES:
            raise UserError(f"{flag} lists {len(values)} values, more than {MAX_SHAPES}; give fewer")
    started = time.perf_counter()
    lines: list[str] = []

    def log(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    # Image: every check before the folder is touched.
    try:
        image_path = args.image if args.image is not None else default_image_path()
        original = load_image(image_path)
    except ImageFileError as error:
        raise UserError(f"image {error.path} {error.problem}; pass a JPEG or PNG file with --image") from None
    k = len(args.scales) * len(args.ratios)
    height, width = rescaled_size(*original.shape[:2], args.short_side, args.max_size)
    feature_height, feature_width = feature_map_size(height, width, args.stride)
    if not feature_height or not feature_width:
        raise UserError(f"the rescaled image ({width} x {height} px) is smaller than one --stride of {args.stride} px, "
                        "so the feature map has no position; use a larger --short-side or a smaller --stride")
    if feature_height * feature_width * k > MAX_ANCHORS:
        raise UserError(f"{feature_height}*{feature_width} positions x k = {k} would be "
                        f"{feature_height * feature_width * k:,} anchors, more than {MAX_ANCHORS:,}; lower "
                        "--short-side or --max-size, raise --stride, or give fewer --scales or --ratios")
    image, scale = rescale(original, args.short_side, args.max_size)
    anchors = generate_anchors(feature_height, feature_width, args.stride, args.scales, args.ratios)
    inside = int(inside_image(anchors, height, width).sum())
    if not inside:
        smallest = ", ".join(f"{w:.0f} x {h:.0f}" for w, h in anchor_shapes([min(args.scales)], args.ratios))
        raise UserError(f"no anchor fits inside the rescaled {width} x {height} px image (those of the smallest "
                        f"scale are {smallest} px); use a larger --short-side or smaller --scales")

    # Stand-in RPN outputs, then proposals (computed before the folder is touched, so a refusal leaves it as it is).
    stand_in = describe_stand_in(args.scores, args.deltas, args.seed)
    edges = strong_edges(image) if args.scores == "edges" else None
    scores = edge_scores(edges, anchors) if edges is not None else random_scores(len(anchors), args.seed)
    deltas = random_deltas(len(anchors), args.seed) if args.deltas == "random" else np.zeros_like(anchors)
    proposals = propose(anchors, scores, deltas, (height, width), args.min_size, args.pre_nms_top_n, args.iou,
                        args.post_nms_top_n, scale=scale)
    if not proposals.counts["post-NMS top-N"]:
        raise UserError(f"no box is at least --min-size {args.min_size:g} px of the original image "
                        f"({args.min_size * scale:.1f} px of the rescaled one) wide and high; lower --min-size or "
                        "use larger --scales")
    test_count = len(proposals.top(args.test_post_nms_top_n))

    settings = {key: value for key, value in vars(args).items() if key not in ("image", "output", "overwrite")}
    settings |= {"image": str(image_path), "image_sha256": file_sha256(Path(image_path))}
    with RunFolder(args.output, "detection", settings, overwrite=args.overwrite, seed=args.seed) as run:
        if run.finished:
            print(f"{run.folder} already holds this run, finished; its files are kept as they are "
                  "(pass --overwrite to compute it again)")
            return 0
        folder = prepare_dir(run.folder)  # removes the temporary files of a killed run's writes
        log(f"image: {image_path} {original.shape[1]} x {original.shape[0]} -> {width} x {height} px "
            f"(scale {scale:.4f})")
        log(f"feature map: floor({height}/{args.stride}) x floor({width}/{args.stride}) = {feature_height} x "
            f"{feature_width}; k = {k} (ratio-major); anchors {feature_height}*{feature_width}*{k} = {len(anchors):,}, "
            f"{inside:,} entirely inside the image")
        log(stand_in)
        log("boxes after each step: " + ", ".join(f"{name} {count:,}" for name, count in proposals.counts.items())
            + f"; test top-{args.test_post_nms_top_n} {test_count:,}")

        # Reports.
        counts = DetectionCounts(
            stand_in=stand_in, scores=args.scores, deltas=args.deltas,
            image=ImageSizes(path=str(image_path), original={"height": original.shape[0], "width": original.shape[1]},
                             rescaled={"height": height, "width": width}, scale=scale),
            anchors=AnchorCounts(stride=args.stride, scales=args.scales, ratios=args.ratios, k=k,
                                 feature_map={"height": feature_height, "width": feature_width},
                                 total=len(anchors), inside=inside),
            steps=proposals.counts,
            test=TestCounts(post_nms_top_n=args.test_post_nms_top_n, count=test_count, pre_nms_top_n=TEST_PRE_NMS_TOP_N,
                            survivors_in_test_pre_nms=proposals.survivors_within(TEST_PRE_NMS_TOP_N)),
            settings=ProposalSettings(min_size=args.min_size, min_size_rescaled=args.min_size * scale,
                                      pre_nms_top_n=args.pre_nms_top_n, iou=args.iou,
                                      post_nms_top_n=args.post_nms_top_n, seed=args.seed),
            reference_sizes=[ReferenceSize(height=h, width=w, **anchor_counts(h, w, args.stride, args.scales,
                                                                              args.ratios))
                             for h, w in REFERENCE_SIZES],
        )
        counts.write(folder)
        write_text(folder / "counts.md", counts_markdown(counts.to_json()))
        head_markdown, head_payload = rpn_head_report(height, width, k, args.stride)
        head = RpnHead(**head_payload)
        write_text(folder / "rpn_head.md", head_markdown)
        head.write(folder)
        write_text(folder / "nms_example.md", nms_example_markdown(args.iou))
        log(f"RPN head on the {feature_height} x {feature_width} x 512 map: {head.totals['params']:,} parameters, "
            f"{head.totals['macs']:,} multiply-adds")

        write_figures(folder, image, anchors, scores, proposals, edges, inside, test_count, args)
        log(f"wrote {folder}/ in {time.perf_counter() - started:.1f} s")
        write_text(folder / "log.txt", "\n".join(lines) + "\n")
        run.complete(summary={"proposals": proposals.counts["post-NMS top-N"], "anchors": len(anchors)})
    return 0


def _seed(args) -> int:
    """--seed, 0 when not given; refused when neither stand-in is random (nothing would use it)."""
    if args.seed is not None and args.scores != "random" and args.deltas != "random":
        raise UserError("--seed seeds only --scores random and --deltas random; drop it or choose one of them")
    return 0 if args.seed is None else args.seed

