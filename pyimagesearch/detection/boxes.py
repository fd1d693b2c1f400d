"""Box arithmetic in NumPy: areas, IoU, non-maximum suppression, the deltas of Faster R-CNN, clipping.

Boxes are rows ``(x1, y1, x2, y2)`` in continuous pixel coordinates: pixel
column i covers x in [i, i + 1), so a box's width is ``x2 - x1`` (no "+ 1" as
in the original Caffe code) and an image of W x H pixels spans [0, W] x [0, H].
Every function expects x1 <= x2 and y1 <= y2.
"""

from __future__ import annotations

import math

import numpy as np

# Largest tw, th accepted by `decode` (torchvision's and Detectron's bbox_xform_clip): exp(4.135) = 62.5,
# so one anchor can grow at most to 62.5 times its size and a wild prediction cannot overflow exp().
MAX_LOG_SCALE = math.log(1000.0 / 16)


def as_boxes(boxes) -> np.ndarray:
    """``boxes`` as a float64 array of shape (N, 4); a single box becomes shape (1, 4)."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"Argument `boxes` must have shape (N, 4). Received: shape={array.shape}")
    return array


def area(boxes) -> np.ndarray:
    """(x2 - x1) * (y2 - y1) of every box."""
    boxes = as_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def iou_matrix(a, b) -> np.ndarray:
    """Intersection over union of every box of ``a`` (N rows) with every box of ``b`` (M rows): shape (N, M).

        inter = max(0, min(x2a, x2b) - max(x1a, x1b)) * max(0, min(y2a, y2b) - max(y1a, y1b))
        iou   = inter / (area_a + area_b - inter)

    Boxes that only touch along an edge have IoU 0; so does a pair whose union is empty.
    """
    a, b = as_boxes(a), as_boxes(b)
    width = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    height = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def score_order(scores) -> np.ndarray:
    """Indices of ``scores`` from highest to lowest; equal scores keep their index order (lower index first)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def nms(boxes, scores, iou_threshold: float, max_output: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression: the indices of the kept boxes, highest score first.

    Repeat until no box is left: keep the remaining box with the highest score,
    then drop every remaining box whose IoU with it is greater than
    ``iou_threshold``. A dropped box never drops another one. Ties in score are
    taken in index order, which is what ``tf.image.non_max_suppression`` does.
    ``max_output`` stops after that many boxes are kept.

        order = indices by score, highest first
        while order: i = order[0]; keep i; order = [j in order[1:] if iou(i, j) <= threshold]
    """
    boxes = as_boxes(boxes)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(boxes),):
        raise ValueError(f"Argument `scores` must have one value per box. Received: scores.shape={scores.shape} "
                         f"for {len(boxes)} boxes")
    order = score_order(scores)
    keep = []
    while order.size and (max_output is None or len(keep) < max_output):
        best, rest = order[0], order[1:]
        keep.append(best)
        order = rest[iou_matrix(boxes[best], boxes[rest])[0] <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def centre_size(boxes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y, width and height of every box."""
    boxes = as_boxes(boxes)
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + width / 2, boxes[:, 1] + height / 2, width, height


def corners(x, y, width, height) -> np.ndarray:
    """Boxes ``(x1, y1, x2, y2)`` from centres and sizes."""
    return np.stack([x - width / 2, y - height / 2, x + width / 2, y + height / 2], axis=1)


def decode(anchors, deltas) -> np.ndarray:
    """Apply deltas (tx, ty, tw, th) to anchors: Ren et al. 2015, equation 2, solved for the box.

        x = xa + tx*wa    y = ya + ty*ha    w = wa*exp(tw)    h = ha*exp(th)

    (x, y) is a box's centre and (w, h) its size. tw and th are capped at
    ``MAX_LOG_SCALE``.
    """
    xa, ya, wa, ha = centre_size(anchors)
    deltas = np.asarray(deltas, dtype=np.float64)
    if deltas.shape != (len(xa), 4):
        raise ValueError(f"Argument `deltas` must have shape ({len(xa)}, 4), one row per anchor. "
                         f"Received: deltas.shape={deltas.shape}")
    tx, ty = deltas[:, 0], deltas[:, 1]
    tw, th = np.minimum(deltas[:, 2], MAX_LOG_SCALE), np.minimum(deltas[:, 3], MAX_LOG_SCALE)
    return corners(xa + tx * wa, ya + ty * ha, wa * np.exp(tw), ha * np.exp(th))


def encode(anchors, boxes) -> np.ndarray:
    """The deltas that move ``anchors`` onto ``boxes`` (equation 2): the inverse of ``decode``.

        tx = (x - xa)/wa    ty = (y - ya)/ha    tw = log(w/wa)    th = log(h/ha)
    """
    xa, ya, wa, ha = centre_size(anchors)
    x, y, w, h = centre_size(boxes)
    return np.stack([(x - xa) / wa, (y - ya) / ha, np.log(w / wa), np.log(h / ha)], axis=1)


def clip(boxes, height: int, width: int) -> np.ndarray:
    """Boxes cut to the image [0, width] x [0, height]."""
    boxes = as_boxes(boxes).copy()
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    return boxes


def large_enough(boxes, min_size: float) -> np.ndarray:
    """True for boxes at least ``min_size`` pixels wide and high."""
    boxes = as_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0] >= min_size) & (boxes[:, 3] - boxes[:, 1] >= min_size)
