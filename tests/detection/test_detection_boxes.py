"""IoU, NMS (against TensorFlow and a plain-Python loop), box decoding and encoding, clipping."""

import math

import numpy as np
import pytest

from pyimagesearch.detection.boxes import (
    MAX_LOG_SCALE,
    area,
    clip,
    decode,
    encode,
    iou_matrix,
    large_enough,
    nms,
)


# --- independent references ------------------------------------------------------------


def iou_reference(a, b):
    """One pair, written out."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_reference(boxes, scores, threshold):
    """Plain-Python greedy NMS: visit boxes by score (ties by index), keep a box unless a kept one overlaps it > t."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if all(iou_reference(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


def random_boxes(rng, n, size=100.0):
    corner = rng.uniform(0, size, (n, 2))
    extent = rng.uniform(1, size / 2, (n, 2))
    return np.concatenate([corner, corner + extent], axis=1)


# --- IoU -----------------------------------------------------------------------------------


def test_iou_of_hand_made_pairs():
    a = [0, 0, 10, 10]
    cases = [
        ([0, 0, 10, 10], 1.0),                 # identical
        ([20, 20, 30, 30], 0.0),               # disjoint
        ([10, 0, 20, 10], 0.0),                # touching along an edge
        ([10, 10, 20, 20], 0.0),               # touching at a corner
        ([2, 2, 7, 7], 25 / 100),              # nested: the inner area over the outer
        ([5, 0, 15, 10], 50 / 150),            # half overlap
        ([0, 0, 10, 5], 50 / 100),             # nested, sharing three edges
        ([-5, -5, 5, 5], 25 / 175),            # corner overlap
    ]
    for b, expected in cases:
        assert iou_matrix(a, b)[0, 0] == pytest.approx(expected, abs=1e-15)
        assert iou_matrix(b, a)[0, 0] == pytest.approx(expected, abs=1e-15)


def test_iou_of_empty_boxes_is_zero_not_nan():
    assert iou_matrix([3, 3, 3, 3], [3, 3, 3, 3]).tolist() == [[0.0]]
    assert iou_matrix([0, 0, 0, 5], [0, 0, 4, 5]).tolist() == [[0.0]]


def test_iou_matrix_matches_the_pairwise_reference():
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 30), random_boxes(rng, 20)
    expected = [[iou_reference(x, y) for y in b] for x in a]
    assert np.allclose(iou_matrix(a, b), expected, atol=1e-15)
    assert iou_matrix(a, b).shape == (30, 20)


def test_area():
    assert area([[0, 0, 10, 5], [1, 1, 1, 9]]).tolist() == [50.0, 0.0]


# --- NMS -----------------------------------------------------------------------------------


def test_nms_matches_the_plain_python_loop():
    for seed in range(30):
        rng = np.random.default_rng(seed)
        boxes, scores = random_boxes(rng, 60), rng.random(60)
        for threshold in (0.3, 0.5, 0.7):
            assert nms(boxes, scores, threshold).tolist() == nms_reference(boxes, scores, threshold)


@pytest.fixture(scope="module")
def tf():
    from pyimagesearch.core.cli import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow

    return tensorflow


def tf_nms(tf, boxes, scores, threshold):
    # TensorFlow wants (y1, x1, y2, x2) and computes in float32.
    yx = boxes[:, [1, 0, 3, 2]].astype(np.float32)
    return tf.image.non_max_suppression(yx, scores.astype(np.float32), len(boxes), threshold).numpy().tolist()


def test_nms_keeps_what_tensorflow_keeps_on_random_boxes(tf):
    for seed in range(50):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 200))
        # Coordinates on a 1/8 px grid are exact in float32 too, so both compute the same IoUs.
        boxes = np.round(random_boxes(rng, n) * 8) / 8
        scores = rng.random(n).astype(np.float32).astype(np.float64)
        threshold = float(rng.choice([0.3, 0.5, 0.7, 0.9]))
        assert nms(boxes, scores, threshold).tolist() == tf_nms(tf, boxes, scores, threshold), seed


def test_nms_ties_are_taken_in_index_order_as_tensorflow_does(tf):
    # Equal scores: the lower index wins, so box 1 (not 2) suppresses its duplicate, and box 0 beats box 3.
    boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [20, 0, 30, 10], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.5, 0.9, 0.9, 0.5, 0.5])
    assert nms(boxes, scores, 0.7).tolist() == [1, 0, 4]
    assert tf_nms(tf, boxes, scores, 0.7) == [1, 0, 4]
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        many = np.round(random_boxes(rng, 80) * 8) / 8
        tied = rng.integers(0, 4, 80) / 4  # only four distinct scores
        assert nms(many, tied, 0.5).tolist() == tf_nms(tf, many, tied, 0.5)


def test_nms_suppresses_only_above_the_threshold():
    boxes = np.array([[0, 0, 2, 1], [1, 0, 3, 1]], float)  # IoU exactly 1/3
    assert nms(boxes, [1.0, 0.5], 1 / 3).tolist() == [0, 1]
    assert nms(boxes, [1.0, 0.5], 0.3).tolist() == [0]
    assert nms(boxes, [1.0, 0.5], 1.0).tolist() == [0, 1]


def test_nms_max_output_and_edge_cases():
    rng = np.random.default_rng(7)
    boxes, scores = random_boxes(rng, 100), rng.random(100)
    full = nms(boxes, scores, 0.5)
    assert nms(boxes, scores, 0.5, max_output=5).tolist() == full[:5].tolist()
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []
    with pytest.raises(ValueError, match="one value per box"):
        nms(boxes, scores[:-1], 0.5)


# --- decoding and encoding -------------------------------------------------------------------


def test_decode_by_hand():
    anchor = [[0, 0, 100, 50]]  # centre (50, 25), size 100 x 50
    cases = [
        ([0, 0, 0, 0], [0, 0, 100, 50]),
        ([0.1, 0, 0, 0], [10, 0, 110, 50]),                      # x = 50 + 0.1*100
        ([0, -0.2, 0, 0], [0, -10, 100, 40]),                    # y = 25 - 0.2*50
        ([0, 0, math.log(2), 0], [-50, 0, 150, 50]),             # w = 100*2
        ([0, 0, 0, math.log(0.5)], [0, 12.5, 100, 37.5]),        # h = 50/2
        ([0.5, 0.5, math.log(3), math.log(3)], [-50, -25, 250, 125]),  # centre (100, 50), size 300 x 150
    ]
    for delta, expected in cases:
        assert decode(anchor, [delta])[0] == pytest.approx(expected, abs=1e-12)


def test_encode_decode_round_trip():
    rng = np.random.default_rng(3)
    anchors, boxes = random_boxes(rng, 500), random_boxes(rng, 500)
    assert np.allclose(decode(anchors, encode(anchors, boxes)), boxes, atol=1e-9)
    deltas = rng.normal(0, 0.5, (500, 4))
    assert np.allclose(encode(anchors, decode(anchors, deltas)), deltas, atol=1e-9)
    assert encode([[0, 0, 100, 50]], [[10, 0, 110, 50]])[0] == pytest.approx([0.1, 0, 0, 0])


def test_decode_caps_the_log_scale_and_checks_shapes():
    box = decode([[0, 0, 16, 16]], [[0, 0, 100, 100]])[0]
    assert box[2] - box[0] == pytest.approx(16 * math.exp(MAX_LOG_SCALE)) == pytest.approx(1000)
    with pytest.raises(ValueError, match="one row per anchor"):
        decode([[0, 0, 16, 16]], [[0, 0, 0]])


def test_clip_and_min_size():
    boxes = np.array([[-10, -5, 50, 40], [90, 10, 130, 80], [20, 20, 30, 30]], float)
    assert clip(boxes, 60, 100).tolist() == [[0, 0, 50, 40], [90, 10, 100, 60], [20, 20, 30, 30]]
    assert large_enough(clip(boxes, 60, 100), 10).tolist() == [True, True, True]
    assert large_enough(clip(boxes, 60, 100), 10.5).tolist() == [True, False, False]
