"""The released py-faster-rcnn conventions: ratio-major anchors, the RPN outputs' layout, --min-size in original pixels."""

import numpy as np
import pytest

from pyimagesearch.detection.anchors import (
    anchor_shapes, base_anchors, feature_map_size, generate_anchors, released_area_change,
)
from pyimagesearch.detection.boxes import clip, large_enough
from pyimagesearch.detection.proposals import propose, rpn_rows

# py-faster-rcnn lib/rpn/generate_anchors.py, generate_anchors() with its defaults (base_size=16,
# ratios=[0.5, 1, 2], scales=2**arange(3, 6)): boxes (x1, y1, x2, y2) in "+1" pixel coordinates around the
# reference window (0, 0, 15, 15). (Its comment shows the MATLAB version's output, each number 1 higher.)
RELEASED_ANCHORS = [
    [-84, -40, 99, 55],
    [-176, -88, 191, 103],
    [-360, -184, 375, 199],
    [-56, -56, 71, 71],
    [-120, -120, 135, 135],
    [-248, -248, 263, 263],
    [-36, -80, 51, 95],
    [-80, -168, 95, 183],
    [-168, -344, 183, 359],
]


def released_generate_anchors(base_size=16, ratios=(0.5, 1, 2), scales=(8, 16, 32)):
    """generate_anchors.py written out again: _ratio_enum (rounded), then _scale_enum per ratio."""
    def whctrs(anchor):
        w, h = anchor[2] - anchor[0] + 1, anchor[3] - anchor[1] + 1
        return w, h, anchor[0] + 0.5 * (w - 1), anchor[1] + 0.5 * (h - 1)

    def mkanchors(ws, hs, x, y):
        return [[x - 0.5 * (w - 1), y - 0.5 * (h - 1), x + 0.5 * (w - 1), y + 0.5 * (h - 1)] for w, h in zip(ws, hs)]

    w, h, x, y = whctrs([0, 0, base_size - 1, base_size - 1])
    ws = [float(np.round(np.sqrt(w * h / r))) for r in ratios]  # np.round: half to even, as the released code
    hs = [float(np.round(wr * r)) for wr, r in zip(ws, ratios)]
    anchors = []
    for ratio_anchor in mkanchors(ws, hs, x, y):
        w, h, x, y = whctrs(ratio_anchor)
        anchors += mkanchors([w * s for s in scales], [h * s for s in scales], x, y)
    return np.array(anchors)


def test_the_independent_generate_anchors_gives_the_released_layout():
    assert released_generate_anchors().tolist() == RELEASED_ANCHORS


def test_anchors_are_in_the_released_ratio_major_order():
    released = released_generate_anchors()
    widths, heights = released[:, 2] - released[:, 0] + 1, released[:, 3] - released[:, 1] + 1
    ours = anchor_shapes()
    # Position a: the same scale (area within the rounding) and the same aspect, for every a.
    for a in range(9):
        area_change = widths[a] * heights[a] / (ours[a, 0] * ours[a, 1]) - 1
        assert abs(area_change) <= 0.0782
        nearest = np.argmin(np.abs(np.log(ours[:, 0] / widths[a])) + np.abs(np.log(ours[:, 1] / heights[a])))
        assert nearest == a
    # Centred where the released code centres them: (7.5, 7.5) in "+1" coordinates is (8, 8) here.
    boxes = generate_anchors(1, 1)
    assert np.allclose((boxes[:, 0] + boxes[:, 2]) / 2, 8) and np.allclose((boxes[:, 1] + boxes[:, 3]) / 2, 8)
    assert np.allclose(boxes - 8, base_anchors())
    assert np.allclose(((released[:, 0] + released[:, 2] + 1) / 2), 8)


def test_the_area_change_from_the_released_rounding_is_up_to_7_8_percent():
    released = released_generate_anchors()
    areas = (released[:, 2] - released[:, 0] + 1) * (released[:, 3] - released[:, 1] + 1)
    exact = np.prod(anchor_shapes(), axis=1)
    change = areas / exact - 1
    assert change.max() == pytest.approx(0.078125) and change.min() == pytest.approx(-0.0546875)
    assert released_area_change().tolist() == pytest.approx([0.078125, 0.0, -0.0546875])
    assert np.allclose(change, np.repeat(released_area_change(), 3))
    import pyimagesearch.detection.anchors as anchors_module

    assert "+7.8%" in anchors_module.__doc__ and "-5.5%" in anchors_module.__doc__


def test_rpn_rows_follow_the_released_output_layout():
    rng = np.random.default_rng(0)
    height, width, k = 3, 4, 9
    cls_score, bbox_pred = rng.normal(size=(height, width, 2 * k)), rng.normal(size=(height, width, 4 * k))
    scores, deltas = rpn_rows(cls_score, bbox_pred)
    assert scores.shape == (height * width * k,) and deltas.shape == (height * width * k, 4)
    for i in range(height):
        for j in range(width):
            for a in range(k):
                row = (i * width + j) * k + a
                background, foreground = cls_score[i, j, a], cls_score[i, j, k + a]
                expected = np.exp(foreground) / (np.exp(background) + np.exp(foreground))
                assert scores[row] == pytest.approx(expected, rel=1e-12)
                assert deltas[row].tolist() == bbox_pred[i, j, 4 * a:4 * a + 4].tolist()
    # The rows line up with generate_anchors: propose() accepts them as they are.
    anchors = generate_anchors(height, width)
    result = propose(anchors, scores, deltas, (48, 64), min_size=0, pre_nms_top_n=50, post_nms_top_n=10)
    assert result.counts["anchors"] == len(anchors)
    with pytest.raises(ValueError, match=r"Argument `bbox_pred` must have shape \(3, 4, 36\)"):
        rpn_rows(cls_score, bbox_pred[..., :-4])


def test_min_size_is_in_original_image_pixels():
    # Boxes 20, 30 and 40 px wide and high in the rescaled image; the image was rescaled by 2, so
    # --min-size 16 (original pixels) keeps boxes of at least 32 rescaled pixels.
    anchors = np.array([[0, 0, 20, 20], [30, 30, 60, 60], [100, 100, 140, 140]], float)
    scores = np.array([0.9, 0.8, 0.7])
    kept = propose(anchors, scores, np.zeros((3, 4)), (200, 200), min_size=16, scale=2.0)
    assert kept.counts["at least min size"] == 1 and kept.anchor_indices.tolist() == [2]
    same_pixels = propose(anchors, scores, np.zeros((3, 4)), (200, 200), min_size=16)
    assert same_pixels.counts["at least min size"] == 3
    boxes = clip(anchors, 200, 200)
    assert kept.counts["at least min size"] == int(large_enough(boxes, 32).sum())
    with pytest.raises(ValueError, match="Argument `scale` must be finite and > 0"):
        propose(anchors, scores, np.zeros((3, 4)), (200, 200), scale=0)


def test_the_default_run_filters_at_16_original_pixels(tmp_path):
    from pyimagesearch.core.cli import run
    from pyimagesearch.detection.command import main
    from pyimagesearch.records.detection import DetectionCounts

    assert run(main, ["--output", str(tmp_path), "--short-side", "300", "--plot-top", "3"]) == 0
    counts = DetectionCounts.read(tmp_path)
    assert counts.settings.min_size == 16
    assert counts.settings.min_size_rescaled == pytest.approx(16 * counts.image.scale)
    assert counts.anchors.order == "ratio-major"
    assert feature_map_size(counts.image.rescaled["height"], counts.image.rescaled["width"]) == (
        counts.anchors.feature_map["height"], counts.anchors.feature_map["width"])
    assert f"16 x {counts.image.scale:.4f}" in (tmp_path / "counts.md").read_text()
