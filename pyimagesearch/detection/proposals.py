"""From anchors, objectness scores and box deltas to region proposals, counting the boxes after each step.

The order of the released Faster R-CNN code (``proposal_layer.py``):

1. decode the deltas onto the anchors (equation 2) and clip the boxes to the image;
2. drop boxes narrower or lower than ``min_size`` pixels of the *original* image,
   ``min_size * scale`` pixels of the rescaled one the boxes lie on (the released
   ``_filter_boxes(proposals, min_size * im_info[2])``);
3. sort by objectness and keep the ``pre_nms_top_n`` best (12,000 when training, 6,000 when testing);
4. non-maximum suppression at IoU ``iou_threshold`` (0.7);
5. keep the ``post_nms_top_n`` best survivors (2,000 when training, 300 when testing).

``propose`` takes the scores and deltas as plain arrays, one row per anchor
in ``anchors.generate_anchors``' order, so a real RPN's outputs can replace the
stand-ins of ``objectness``; ``rpn_rows`` turns the RPN head's two output maps
into those rows.
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
    scale: float = 1.0,
) -> Proposals:
    """Run steps 1-5 of the module docstring on N anchors.

    Args:
        anchors: (N, 4) boxes (x1, y1, x2, y2).
        scores: (N,) objectness of each anchor, higher is more object-like.
        deltas: (N, 4) offsets (tx, ty, tw, th) of each anchor.
        image_shape: (height, width) of the image the anchors lie on.
        min_size: smallest width and height kept, in pixels of the original image.
        scale: the factor that rescaled the original image to ``image_shape``; boxes
            narrower or lower than ``min_size * scale`` pixels there are dropped.

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
    if not 0 < scale < float("inf"):
        raise ValueError(f"Argument `scale` must be finite and > 0. Received: scale={scale}")
    height, width = image_shape
    candidates = clip(decode(anchors, deltas), height, width)
    large = np.flatnonzero(large_enough(candidates, min_size * scale))
    pre_nms = large[score_order(scores[large])[:pre_nms_top_n]]
    survivors = pre_nms[nms(candidates[pre_nms], scores[pre_nms], iou_threshold)]
    kept = survivors[:post_nms_top_n]
    counts = dict(zip(STEPS, (len(anchors), len(candidates), len(large), len(pre_nms), len(survivors), len(kept))))
    return Proposals(
        boxes=candidates[kept], scores=scores[kept], anchor_indices=kept, nms_indices=survivors,
        pre_nms_indices=pre_nms, candidates=candidates, counts=counts,
    )


def rpn_rows(cls_score, bbox_pred) -> tuple[np.ndarray, np.ndarray]:
    """The RPN head's two output maps as ``propose``'s rows: (scores (H'*W'*k,), deltas (H'*W'*k, 4)).

    Args:
        cls_score: (H', W', 2k) ``rpn_cls_score`` logits, channels last. As in the
            released code, channel a is anchor a's "not object" score and channel
            k + a its "object" score.
        bbox_pred: (H', W', 4k) ``rpn_bbox_pred``; channels 4a .. 4a + 3 are anchor
            a's (tx, ty, tw, th).

    Returns:
        The object probability of each anchor (softmax over its two scores) and
        its deltas, row ``(i*W' + j)*k + a`` as in ``anchors.generate_anchors``:
        the released ``proposal_layer.py``'s ``transpose((0, 2, 3, 1)).reshape(...)``.
    """
    cls_score = np.asarray(cls_score, dtype=np.float64)
    bbox_pred = np.asarray(bbox_pred, dtype=np.float64)
    if cls_score.ndim != 3 or cls_score.shape[2] % 2:
        raise ValueError(f"Argument `cls_score` must have shape (H, W, 2k). Received: cls_score.shape={cls_score.shape}")
    k = cls_score.shape[2] // 2
    if bbox_pred.shape != (*cls_score.shape[:2], 4 * k):
        raise ValueError(f"Argument `bbox_pred` must have shape {(*cls_score.shape[:2], 4 * k)} for k = {k} anchors. "
                         f"Received: bbox_pred.shape={bbox_pred.shape}")
    background, foreground = cls_score[..., :k], cls_score[..., k:]
    scores = 1.0 / (1.0 + np.exp(background - foreground))  # softmax of (background, foreground), object part
    return scores.reshape(-1), bbox_pred.reshape(-1, 4)
