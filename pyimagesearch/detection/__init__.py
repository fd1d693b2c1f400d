"""Faster R-CNN's Region Proposal Network without a trained network (Problem 2.5).

Anchors on VGG-16's conv5_3 grid, box decoding, IoU and non-maximum
suppression in NumPy; the RPN head's arithmetic through the architecture
calculator; stand-in objectness scores computed from the image. Importing this
package imports no deep-learning framework.

    from pyimagesearch.detection import generate_anchors, propose
    anchors = generate_anchors(37, 56)                           # 37*56*9 = 18,648 boxes
    scores, deltas = rpn_rows(cls_score, bbox_pred)             # a trained RPN's (37, 56, 18) and (37, 56, 36) maps
    result = propose(anchors, scores, deltas, (600, 899), scale=1.4052)  # scale: original -> rescaled image
    result.boxes, result.scores, result.counts

Command line: ``python -m pyimagesearch.detection`` (see ``command.py``).
"""

from pyimagesearch.detection.anchors import (
    anchor_centres,
    anchor_counts,
    anchor_shapes,
    base_anchors,
    feature_map_size,
    generate_anchors,
    inside_image,
    released_area_change,
)
from pyimagesearch.detection.boxes import area, clip, decode, encode, iou_matrix, large_enough, nms
from pyimagesearch.detection.objectness import edge_scores, random_deltas, random_scores, strong_edges
from pyimagesearch.detection.proposals import Proposals, propose, rpn_rows
from pyimagesearch.detection.rpn_head import rpn_head

__all__ = [
    "Proposals", "anchor_centres", "anchor_counts", "anchor_shapes", "area", "base_anchors", "clip", "decode",
    "edge_scores", "encode", "feature_map_size", "generate_anchors", "inside_image", "iou_matrix", "large_enough",
    "nms", "propose", "random_deltas", "random_scores", "released_area_change", "rpn_head", "rpn_rows", "strong_edges",
]
