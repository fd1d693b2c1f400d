"""Problem 2's results: the architecture calculator's tables (2.1-2.4) and the region proposals (2.5).

Both commands write their answers as Markdown with every calculation shown;
the report shows those files as they are, with the figures beside them.
"""

from __future__ import annotations

from pyimagesearch.report.document import Source, text
from pyimagesearch.report.files import load_dict
from pyimagesearch.report.readers.common import Context, figures, finish, markdown_file, new_source

ARCHITECTURE_FILES = {"alexnet": "alexnet", "vgg19": "vgg19", "receptive_field": "receptive-field", "inception": "inception"}

DETECTION_MARKDOWN = ("counts.md", "nms_example.md", "rpn_head.md")
DETECTION_FIGURES = {
    "proposals_before_nms.png": "The highest-scoring proposals before non-maximum suppression",
    "proposals_after_nms.png": "The highest-scoring proposals after NMS at IoU 0.7",
    "anchors_at_centre.png": "The k = 9 anchors (3 scales x 3 aspect ratios) at the image's centre",
    "anchor_centres.png": "Anchor centres: one per feature-map position, 16 px apart",
    "step_counts.png": "Boxes left after each step, from anchors to the final proposals",
    "nms_example.png": "The worked NMS example: six boxes, the kept and the suppressed",
    "edge_map.png": "The edge map behind the stand-in objectness scores",
}


def read_architecture(context: Context, key: str) -> list[Source]:
    source = new_source(context, key)
    name = ARCHITECTURE_FILES[key]
    page = source.folder / f"{name}.md"
    if not page.is_file():
        return [source]
    source.status = "full"
    source.blocks = markdown_file(page)
    return [finish(source, context, key, [page], source.folder / f"{name}.config.json", ("format", "output"))]


def read_detection(context: Context) -> list[Source]:
    source = new_source(context, "detection")
    folder = source.folder
    counts = load_dict(folder / "counts.json")
    if not (folder / "counts.md").is_file():
        return [source]
    source.status = "full"
    for name in DETECTION_MARKDOWN:
        source.blocks += markdown_file(folder / name)
    source.blocks += figures(folder, DETECTION_FIGURES)
    stand_in = counts.get("stand_in") or load_dict(folder / "config.json").get("stand_in")
    if stand_in:
        source.caveats.append(text("Stand-in RPN outputs, not a trained network's: ", str(stand_in)))
    return [finish(source, context, "detection", [folder / "counts.md"], folder / "config.json", ("output", "plot_top"))]
