"""The stand-in scores: Sobel against SciPy, integral-image sums against slicing, edge scores on a drawn square."""

import numpy as np
import pytest
from scipy import ndimage

from pyimagesearch.detection.objectness import (
    box_sums,
    describe_stand_in,
    edge_scores,
    integral_image,
    random_deltas,
    random_scores,
    sobel_magnitude,
    strong_edges,
)


def test_sobel_magnitude_matches_scipy():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (23, 31, 3)).astype(np.uint8)
    grey = image.astype(float) @ [0.299, 0.587, 0.114]
    expected = np.hypot(ndimage.sobel(grey, axis=1, mode="nearest"), ndimage.sobel(grey, axis=0, mode="nearest"))
    assert np.allclose(sobel_magnitude(image), expected)


def test_box_sums_match_slicing():
    rng = np.random.default_rng(1)
    values = rng.random((40, 60))
    integral = integral_image(values)
    boxes = np.array([[0, 0, 60, 40], [5.2, 3.7, 20.4, 30.1], [-10, -10, 5, 5], [50, 30, 90, 70], [7, 7, 7, 20]])
    sums, pixels = box_sums(integral, boxes)
    for box, total, count in zip(boxes, sums, pixels):
        x1, y1, x2, y2 = (int(np.clip(np.rint(v), 0, limit)) for v, limit in zip(box, (60, 40, 60, 40)))
        assert total == pytest.approx(values[y1:y2, x1:x2].sum())
        assert count == (x2 - x1) * (y2 - y1)


def test_edge_scores_prefer_the_box_around_a_textured_square():
    image = np.zeros((120, 160, 3), np.uint8)
    rng = np.random.default_rng(2)
    image[40:80, 60:100] = rng.integers(0, 256, (40, 40, 3))  # texture inside, flat outside
    edges = strong_edges(image)
    tight, shifted, huge = [58, 38, 102, 82], [20, 38, 64, 82], [0, 0, 160, 120]
    scores = edge_scores(edges, np.array([tight, shifted, huge], float))
    assert scores[0] > scores[1] and scores[0] > scores[2]
    # By hand: all edge pixels inside the tight box, none in its ring -> density(box) - 0.
    inner = edges[38:82, 58:102].mean()
    assert edges.sum() == edges[38:82, 58:102].sum()
    assert scores[0] == pytest.approx(inner)


def test_strong_edges_keep_the_top_decile():
    rng = np.random.default_rng(3)
    edges = strong_edges(rng.integers(0, 256, (100, 100, 3)).astype(np.uint8))
    assert edges.mean() == pytest.approx(0.1, abs=0.005)


def test_random_stand_ins_are_seeded_and_independent():
    assert np.array_equal(random_scores(50, 4), random_scores(50, 4))
    assert not np.array_equal(random_scores(50, 4), random_scores(50, 5))
    assert random_deltas(1000, 4).shape == (1000, 4)
    assert random_deltas(20000, 4).std() == pytest.approx(0.1, rel=0.02)
    assert np.all((random_scores(1000, 0) >= 0) & (random_scores(1000, 0) < 1))


def test_description_names_the_stand_ins():
    text = describe_stand_in("random", "random", 7)
    assert text.startswith("Objectness scores: random,") and "seed 7" in text and "stand in for a trained RPN" in text
    assert "Box deltas: zero" in describe_stand_in("edges", "zero", 0)
