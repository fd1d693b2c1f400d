"""From anchors, objectness scores and box deltas to region proposals, counting the boxes after each step.

The order of the released Faster R-CNN code (``proposal_layer.py``):

1. decode the deltas onto the anchors (equation 2) and clip the boxes to the image;
2. drop boxes narrower or lower than ``min_size`` pixels;
3. sort by objectness and keep the ``pre_nms_top_n`` best (12,000 when training, 6,000 when testing);
4. non-maximum suppression at IoU ``iou_threshold`` (0.7);
5. keep the ``post_nms_top_n`` best survivors (2,000 when training, 300 when testing).

``propose`` takes the scores and deltas as plain arrays, so a real RPN's
outputs can replace the stand-ins of ``objectness``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pyimagesearch.detection.boxes import as_boxes, clip, decode, large_enough, nms, score_order

MIN_SIZE = 16.0
PRE_NMS_TOP_N = 12000
IOU_THRESHOLD = 0.7
POST_NMS_TOP_N = 2000
TEST_PRE_NMS_TOP_N = 6000
TEST_POST_NMS_TOP_N = 300

# Step names in pipeline order; `Proposals.counts` has one entry for each.
STEPS = ("anchors", "decoded and clipped", "at least min size", "pre-NMS top-N", "after NMS", "post-NMS top-N")


@dataclass(frozen=True)
class Proposals:
    """The proposals, best first, and what each step left.

    ``boxes``, ``scores`` and ``anchor_indices`` (row of the anchor each box
    came from) are the post-NMS top-N; ``nms_indices`` are all anchors that
    survived NMS, best first; ``pre_nms_indices`` those that entered it.
    ``candidates`` are all decoded, clipped boxes, one per anchor.
    """

    boxes: np.ndarray
    scores: np.ndarray
    anchor_indices: np.ndarray
    nms_indices: np.ndarray
    pre_nms_indices: np.ndarray
    candidates: np.ndarray
    counts: dict[str, int]

    def top(self, n: int) -> np.ndarray:
        """Indices of the first ``n`` survivors of NMS, the proposals a smaller post-NMS top-N keeps."""
        return self.nms_indices[:n]

    def survivors_within(self, n: int) -> int:
        """How many NMS survivors rank among the ``n`` best boxes that entered NMS.

        Greedy NMS decides each box from the boxes ranked above it only, so a
        pre-NMS top-n would keep exactly these survivors, in the same order.
        """
        return int(np.isin(self.nms_indices, self.pre_nms_indices[:n]).sum())


def propose(
    anchors,
    scores,
    deltas,
    image_shape: tuple[int, int],
    min_size: float = MIN_SIZE,
    pre_nms_top_n: int = PRE_NMS_TOP_N,
    iou_threshold: float = IOU_THRESHOLD,
    post_nms_top_n: int = POST_NMS_TOP_N,
) -> Proposals:
    """Run steps 1-5 of the module docstring on N anchors.

    Args:
        anchors: (N, 4) boxes (x1, y1, x2, y2).
        scores: (N,) objectness of each anchor, higher is more object-like.
        deltas: (N, 4) offsets (tx, ty, tw, th) of each anchor.
        image_shape: (height, width) of the image the anchors lie on.

    Returns:
        ``Proposals``; ``counts`` maps each name of ``STEPS`` to the number of boxes after it.
    """
    anchors = as_boxes(anchors)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(anchors),):
        raise ValueError(f"Argument `scores` must have one value per anchor. Received: scores.shape={scores.shape} "
                         f"for {len(anchors)} anchors")
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"Argument `iou_threshold` must be in (0, 1]. Received: iou_threshold={iou_threshold}")
    height, width = image_shape
    candidates = clip(decode(anchors, deltas), height, width)
    large = np.flatnonzero(large_enough(candidates, min_size))
    pre_nms = large[score_order(scores[large])[:pre_nms_top_n]]
    survivors = pre_nms[nms(candidates[pre_nms], scores[pre_nms], iou_threshold)]
    kept = survivors[:post_nms_top_n]
    counts = dict(zip(STEPS, (len(anchors), len(candidates), len(large), len(pre_nms), len(survivors), len(kept))))
    return Proposals(
        boxes=candidates[kept], scores=scores[kept], anchor_indices=kept, nms_indices=survivors,
        pre_nms_indices=pre_nms, candidates=candidates, counts=counts,
    )
