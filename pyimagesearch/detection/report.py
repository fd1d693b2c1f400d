"""counts.md: the run's counts (the dictionary written as counts.json) as tables a student can read."""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.architectures.report import table


def counts_markdown(counts: dict) -> str:
    """Image sizes, feature map, anchors and the boxes left after each step, each count with its calculation."""
    image, anchors, steps, settings, test = (counts[key] for key in ("image", "anchors", "steps", "settings", "test"))
    original, rescaled = image["original"], image["rescaled"]
    fmap, stride, k = anchors["feature_map"], anchors["stride"], anchors["k"]
    paper, pascal = counts["reference_sizes"]
    scales = ", ".join(f"{s:g}" for s in anchors["scales"])
    ratios = ", ".join(f"{r:g}" for r in anchors["ratios"])
    short = min(original["height"], original["width"])
    size_rows = [
        ["original", original["width"], original["height"]],
        ["rescaled", rescaled["width"], rescaled["height"]],
    ]
    what = {
        "anchors": "one box per anchor",
        "decoded and clipped": f"deltas applied (equation 2), boxes cut to the {rescaled['width']} x "
                               f"{rescaled['height']} image; nothing is dropped",
        "at least min size": f"boxes narrower or lower than {settings['min_size']:g} px of the original image "
                             f"({settings['min_size']:g} x {image['scale']:.4f} = {settings['min_size_rescaled']:.2f} "
                             "px of the rescaled one, as the released code) dropped",
        "pre-NMS top-N": f"the {settings['pre_nms_top_n']:,} highest scores kept",
        "after NMS": f"non-maximum suppression at IoU {settings['iou']:g}",
        "post-NMS top-N": f"the first {settings['post_nms_top_n']:,} survivors (training setting)",
    }
    step_rows = [[name, f"{count:,}", what[name]] for name, count in steps.items()]
    step_rows.append([f"test top-{test['post_nms_top_n']}", f"{test['count']:,}",
                      f"the first {test['post_nms_top_n']:,} survivors (test setting)"])
    lines = [
        f"# Region proposals on {Path(image['path']).name}",
        "",
        f"**Stand-in scores.** {counts['stand_in']}",
        "",
        "## Image",
        "",
        table(["", "width (px)", "height (px)"], size_rows),
        "",
        f"Scale {image['scale']:.4f}: the shorter side {short} px becomes {min(rescaled.values())} px "
        f"(--short-side, unless the longer side would exceed --max-size).",
        "",
        "## Anchors",
        "",
        f"- Feature map (VGG-16 conv5_3 at stride {stride}, pooling rounds down): floor({rescaled['height']}/{stride}) "
        f"x floor({rescaled['width']}/{stride}) = {fmap['height']} x {fmap['width']} positions.",
        f"- k = {len(anchors['scales'])} scales ({scales} px; area = scale^2) x {len(anchors['ratios'])} aspect ratios "
        f"(height/width {ratios}) = {k} anchors per position, ordered ratio-major as in the released code "
        "(for each ratio, every scale).",
        f"- Anchors: {fmap['height']}*{fmap['width']}*{k} = {anchors['total']:,}. For its {paper['width']} x "
        f"{paper['height']} example the paper says \"roughly 20000 (about 60 x 40 x 9)\"; the same rule gives "
        f"{paper['feature_height']}*{paper['feature_width']}*{paper['k']} = {paper['total']:,}.",
        f"- Entirely inside the image: {anchors['inside']:,} ({anchors['inside'] / anchors['total']:.1%}); only these "
        f"train the RPN. The paper: about 6,000 per image. The same rule gives {paper['inside']:,} for "
        f"{paper['width']} x {paper['height']} and {pascal['inside']:,} for {pascal['width']} x {pascal['height']} "
        "(a 500 x 375 image, common in PASCAL VOC, rescaled).",
        "",
        "## Boxes left after each step",
        "",
        table(["Step", "Boxes", "What happens"], step_rows),
        "",
        f"Greedy NMS decides each box only from the boxes ranked above it, so whether a box survives does not "
        f"depend on how many lower-ranked boxes entered NMS: {test['survivors_in_test_pre_nms']:,} survivors rank within the top "
        f"{test['pre_nms_top_n']:,}, the released code's test setting before NMS, "
        + (f"so that setting gives the same {test['count']:,} test proposals."
           if test["survivors_in_test_pre_nms"] >= test["count"]
           else f"so that setting's test proposals would differ after the first "
                f"{test['survivors_in_test_pre_nms']:,}."),
    ]
    return "\n".join(lines) + "\n"
