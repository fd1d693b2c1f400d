"""The proposal pipeline: each step's count on hand-made anchors, and arrays from any RPN plugged in."""

import numpy as np
import pytest

from pyimagesearch.detection.anchors import feature_map_size, generate_anchors
from pyimagesearch.detection.boxes import clip, decode, nms
from pyimagesearch.detection.proposals import STEPS, propose


def test_each_step_by_hand():
    anchors = np.array([
        [0, 0, 20, 20],      # 0: kept, best score
        [1, 1, 21, 21],      # 1: IoU with 0 = 361/439 = 0.82 -> suppressed
        [-30, 0, 10, 20],    # 2: clipped to [0, 0, 10, 20], 10 px wide -> too small
        [50, 50, 70, 70],    # 3: kept
        [80, 0, 130, 20],    # 4: clipped to [80, 0, 100, 20]; lowest score, cut by the pre-NMS top-N
        [40, 40, 60, 60],    # 5: IoU with 3 = 100/700 -> kept
    ], dtype=float)
    scores = np.array([0.9, 0.8, 0.99, 0.7, 0.1, 0.6])
    result = propose(anchors, scores, np.zeros((6, 4)), (80, 100), min_size=16, pre_nms_top_n=4,
                     iou_threshold=0.7, post_nms_top_n=2)
    assert list(result.counts) == list(STEPS)
    assert list(result.counts.values()) == [6, 6, 5, 4, 3, 2]
    assert result.pre_nms_indices.tolist() == [0, 1, 3, 5]
    assert result.nms_indices.tolist() == [0, 3, 5]
    assert result.anchor_indices.tolist() == [0, 3]
    assert result.scores.tolist() == [0.9, 0.7]
    assert result.boxes.tolist() == [[0, 0, 20, 20], [50, 50, 70, 70]]
    assert result.candidates[[2, 4]].tolist() == [[0, 0, 10, 20], [80, 0, 100, 20]]
    assert result.top(1).tolist() == [0]
    assert result.survivors_within(2) == 1 and result.survivors_within(4) == 3


def test_plugged_in_rpn_outputs_give_the_same_proposals_as_the_steps_done_by_hand():
    height, width = 300, 400
    anchors = generate_anchors(*feature_map_size(height, width), 16, (64, 128), (0.5, 1, 2))
    rng = np.random.default_rng(0)
    scores, deltas = rng.random(len(anchors)), rng.normal(0, 0.2, (len(anchors), 4))
    result = propose(anchors, scores, deltas, (height, width), min_size=20, pre_nms_top_n=500, iou_threshold=0.6,
                     post_nms_top_n=100)
    boxes = clip(decode(anchors, deltas), height, width)
    large = [i for i, b in enumerate(boxes) if b[2] - b[0] >= 20 and b[3] - b[1] >= 20]
    ranked = sorted(large, key=lambda i: (-scores[i], i))[:500]
    kept = [ranked[i] for i in nms(boxes[ranked], scores[ranked], 0.6)]
    assert result.nms_indices.tolist() == kept
    assert result.anchor_indices.tolist() == kept[:100]
    assert np.array_equal(result.boxes, boxes[kept[:100]])
    counts = list(result.counts.values())
    assert counts == [len(anchors), len(anchors), len(large), 500, len(kept), 100]
    assert counts == sorted(counts, reverse=True)


def test_a_smaller_pre_nms_top_n_keeps_a_prefix_of_the_survivors():
    anchors = generate_anchors(20, 30, 16)
    scores = np.random.default_rng(1).random(len(anchors))
    full = propose(anchors, scores, np.zeros_like(anchors), (320, 480), pre_nms_top_n=5000, post_nms_top_n=5000)
    small = propose(anchors, scores, np.zeros_like(anchors), (320, 480), pre_nms_top_n=1000, post_nms_top_n=5000)
    within = full.survivors_within(1000)
    assert small.nms_indices.tolist() == full.nms_indices[:within].tolist()


def test_bad_arrays_are_programming_errors():
    anchors = np.array([[0, 0, 20, 20], [5, 5, 30, 30]], float)
    with pytest.raises(ValueError, match="one value per anchor"):
        propose(anchors, np.ones(3), np.zeros((2, 4)), (50, 50))
    with pytest.raises(ValueError, match="one row per anchor"):
        propose(anchors, np.ones(2), np.zeros((3, 4)), (50, 50))
    with pytest.raises(ValueError, match="iou_threshold"):
        propose(anchors, np.ones(2), np.zeros((2, 4)), (50, 50), iou_threshold=0)
