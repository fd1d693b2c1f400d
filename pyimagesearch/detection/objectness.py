"""Stand-ins for a trained RPN's outputs: objectness scores and box deltas computed without a network.

No trained Region Proposal Network can be downloaded here, so the scores that
rank the anchors come from one of two stated rules:

- ``edges``: a box scores high when it holds many strong edges and the band
  around it holds few, in the spirit of EdgeBoxes (Zitnick and Dollar 2014,
  "Edge Boxes: Locating Object Proposals from Edges"), much simplified:

      strong edge  = Sobel gradient magnitude of the grey image above its 90th percentile
      density(R)   = strong-edge pixels in R / pixels in R
      score(box)   = density(box) - density(ring),

  the ring being the box grown by a quarter of its width and height on every
  side, minus the box, both cut to the image. Sums over boxes come from an
  integral image, four look-ups per box. The rule favours textured regions
  set against smooth surroundings; it knows nothing about objects.
- ``random``: uniform scores in [0, 1) from a seeded generator.

Deltas are zero (every proposal is its clipped anchor) or small seeded
Gaussian offsets (``random_deltas``), so that decoding visibly moves boxes.
"""

from __future__ import annotations

import numpy as np

EDGE_PERCENTILE = 90.0
RING = 0.25
DELTA_STD = 0.1

SCORE_RULES = {
    "edges": f"the density of strong edges inside each box minus that in a ring around it (Sobel magnitude above "
             f"its {EDGE_PERCENTILE:g}th percentile; the ring {RING:g} of the box's width and height wide; "
             "EdgeBoxes-like)",
    "random": "uniform random numbers in [0, 1) drawn with seed {seed}",
}
DELTA_RULES = {
    "zero": "so every proposal is its anchor clipped to the image",
    "random": f"Gaussian jitter, standard deviation {DELTA_STD:g} for each of tx, ty, tw, th, drawn with seed {{seed}}",
}


def describe_stand_in(scores: str, deltas: str, seed: int) -> str:
    """Which stand-in scores and deltas were used, in two sentences and a caveat."""
    return (f"Objectness scores: {scores}, {SCORE_RULES[scores].format(seed=seed)}. "
            f"Box deltas: {deltas}, {DELTA_RULES[deltas].format(seed=seed)}. "
            "Both stand in for a trained RPN's outputs, which cannot be downloaded here.")


def grey(image: np.ndarray) -> np.ndarray:
    """Luma of an RGB image, 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), as float64."""
    image = np.asarray(image, dtype=np.float64)
    return image[..., :3] @ np.array([0.299, 0.587, 0.114]) if image.ndim == 3 else image


def sobel_magnitude(image: np.ndarray) -> np.ndarray:
    """sqrt(gx^2 + gy^2) with the 3x3 Sobel kernels, the border pixels repeated outwards."""
    padded = np.pad(grey(image), 1, mode="edge")

    def window(dy: int, dx: int) -> np.ndarray:
        return padded[1 + dy: padded.shape[0] - 1 + dy, 1 + dx: padded.shape[1] - 1 + dx]

    gx = (window(-1, 1) + 2 * window(0, 1) + window(1, 1)) - (window(-1, -1) + 2 * window(0, -1) + window(1, -1))
    gy = (window(1, -1) + 2 * window(1, 0) + window(1, 1)) - (window(-1, -1) + 2 * window(-1, 0) + window(-1, 1))
    return np.hypot(gx, gy)


def strong_edges(image: np.ndarray, percentile: float = EDGE_PERCENTILE) -> np.ndarray:
    """True where the Sobel magnitude is above its ``percentile``-th percentile over the image."""
    magnitude = sobel_magnitude(image)
    return magnitude > np.percentile(magnitude, percentile)


def integral_image(values: np.ndarray) -> np.ndarray:
    """S with S[y, x] = sum of values[:y, :x]; one row and one column of zeros in front."""
    total = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    total[1:, 1:] = np.cumsum(np.cumsum(values, axis=0), axis=1)
    return total


def box_sums(integral: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and pixel count inside each box, its edges rounded to whole pixels and cut to the image.

        sum = S[y2, x2] - S[y1, x2] - S[y2, x1] + S[y1, x1]
    """
    height, width = integral.shape[0] - 1, integral.shape[1] - 1
    edges = np.rint(np.asarray(boxes, dtype=np.float64)).astype(np.int64)
    x1, x2 = np.clip(edges[:, 0], 0, width), np.clip(edges[:, 2], 0, width)
    y1, y2 = np.clip(edges[:, 1], 0, height), np.clip(edges[:, 3], 0, height)
    total = integral[y2, x2] - integral[y1, x2] - integral[y2, x1] + integral[y1, x1]
    return total, (x2 - x1) * (y2 - y1)


def edge_scores(edges: np.ndarray, boxes: np.ndarray, ring: float = RING) -> np.ndarray:
    """density(box) - density(ring) for every box (module docstring); an empty region has density 0."""
    boxes = np.asarray(boxes, dtype=np.float64)
    integral = integral_image(edges.astype(np.float64))
    inner, inner_pixels = box_sums(integral, boxes)
    grow = np.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1) * ring
    outer, outer_pixels = box_sums(integral, boxes + np.concatenate([-grow, grow], axis=1))
    ring_sum, ring_pixels = outer - inner, outer_pixels - inner_pixels
    inside = np.divide(inner, inner_pixels, out=np.zeros_like(inner), where=inner_pixels > 0)
    around = np.divide(ring_sum, ring_pixels, out=np.zeros_like(ring_sum), where=ring_pixels > 0)
    return inside - around


def random_scores(count: int, seed: int) -> np.ndarray:
    """``count`` uniform scores in [0, 1)."""
    return np.random.default_rng([seed, 0]).random(count)


def random_deltas(count: int, seed: int, std: float = DELTA_STD) -> np.ndarray:
    """``count`` rows (tx, ty, tw, th) drawn from N(0, std^2); another stream than ``random_scores``."""
    return np.random.default_rng([seed, 1]).normal(0.0, std, size=(count, 4))
