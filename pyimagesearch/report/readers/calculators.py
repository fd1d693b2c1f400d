"""Problem 2's results: the architecture calculator's tables (2.1-2.4) and the region proposals (2.5).

Both commands write their answers as Markdown with every calculation shown;
the report shows those files as they are, with the figures beside them. A
folder counts as finished only when ``core.run.completion`` says so (a run cut
short shows as unfinished, never as computed); detection's ``counts.json`` is
read through its record, and a damaged one raises its ``RecordError``, whose
sentence the report shows as the question's caveat.
"""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.core.run import completion
from pyimagesearch.records.detection import DetectionCounts, RpnHead
from pyimagesearch.report.document import Source, text
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


def architecture_folder(root: Path, key: str) -> Path:
    """Where ``python -m pyimagesearch.architectures <command> --output root`` writes: ``root/<command>/``."""
    return Path(root) / ARCHITECTURE_FILES[key]


def read_architecture(context: Context, key: str) -> list[Source]:
    source = new_source(context, key)
    name = ARCHITECTURE_FILES[key]
    folder = architecture_folder(source.folder, key)
    page = folder / f"{name}.md"
    if completion(folder) is None:
        source.status = "partial" if page.is_file() else "missing"
        return [source]
    source.status = "full"
    source.blocks = markdown_file(page)
    return [finish(source, context, key, [page], folder / "config.json", ("format", "output"))]


def read_detection(context: Context) -> list[Source]:
    """The proposals' pages and figures of a finished folder; ``RecordError`` for a counts.json that fails its checks."""
    source = new_source(context, "detection")
    folder = source.folder
    if completion(folder) is None:
        source.status = "partial" if (folder / "config.json").is_file() else "missing"
        return [source]
    counts = DetectionCounts.read(folder)
    RpnHead.read(folder)
    source.status = "full"
    for name in DETECTION_MARKDOWN:
        source.blocks += markdown_file(folder / name)
    captions = {**DETECTION_FIGURES, "proposals_after_nms.png": "The highest-scoring proposals after NMS at IoU "
                                                                f"{counts.settings.iou:g}"}
    source.blocks += figures(folder, captions)
    source.caveats.append(text("Stand-in RPN outputs, not a trained network's: ", counts.stand_in))
    return [finish(source, context, "detection", [folder / "counts.md"], folder / "config.json",
                   ("output", "plot_top", "image_sha256"))]
