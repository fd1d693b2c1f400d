"""Anchors of the Region Proposal Network (Ren et al. 2015, Section 3.1): shapes, grid, counts.

At every position of the last shared feature map (VGG-16 conv5_3, total
stride 16) the RPN places k = len(scales) * len(ratios) anchors, all centred on
that position. An anchor of scale s and aspect ratio r = height/width has

    area = s^2,   width = s/sqrt(r),   height = s*sqrt(r)

(the paper: scales 128, 256, 512 px, ratios 1:2, 1:1, 2:1, k = 9).

The k anchors of a position are ordered **ratio-major**, as the released code
(py-faster-rcnn ``lib/rpn/generate_anchors.py``) and torchvision order them:
for each ratio 0.5, 1, 2, the scales 128, 256, 512 (its 8, 16, 32 x a base of
16 px), so anchor a has ratio ``ratios[a // len(scales)]`` and scale
``scales[a % len(scales)]``. The RPN's 2k scores and 4k offsets per position
follow that order (``proposals.rpn_rows``), so a trained RPN's outputs pair with
the right shapes.

Sizes are not rounded to whole pixels. The released code rounds the base
anchor's width to ``round(sqrt(256/r))`` and its height to ``round(width*r)``
(23 x 12, 16 x 16, 11 x 22 px) before scaling, so its anchors of ratio 0.5 are
184 x 96 px at scale 128 where these are 181.02 x 90.51: the areas differ by
+7.8% (17,664 against 16,384 px^2) for ratio 0.5, 0 for ratio 1 and -5.5%
(15,488) for ratio 2, at every scale (``released_area_change``). It also
counts widths as x2 - x1 + 1 ("+1" pixel coordinates); here a box's width is
x2 - x1.

The feature map of an H x W image has H' x W' positions with

    H' = floor(H/stride),  W' = floor(W/stride):

VGG-16's 3x3 convolutions have 1 pixel of padding and keep the size, and its
four 2x2 max-pools of stride 2 each halve it rounding down (Keras' and
TensorFlow's 'valid' pooling); floor(floor(n/2)/2) = floor(n/4), so four of
them give floor(n/16). (Caffe, which the paper used, rounds pooled sizes up,
ceil(n/16), one more row or column when 16 does not divide n.)

Position (i, j) of the map is centred on the image point
(x, y) = ((j + 0.5)*stride, (i + 0.5)*stride): the centre of the receptive
field of conv5_3's unit (i, j), 7.5 px from the corner in pixel-centre
coordinates, the base anchor [0, 0, 15, 15] of the released code.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SCALES = (128.0, 256.0, 512.0)
RATIOS = (0.5, 1.0, 2.0)
STRIDE = 16


def feature_map_size(height: int, width: int, stride: int = STRIDE) -> tuple[int, int]:
    """(H', W') = (floor(H/stride), floor(W/stride)), the positions of the RPN's sliding window."""
    return height // stride, width // stride


def pooling_chain(size: int, stride: int = STRIDE) -> list[int]:
    """Sizes after each 2x2 stride-2 floor pooling: ``pooling_chain(600) == [600, 300, 150, 75, 37]``.

    Only for a power-of-two ``stride`` (one pooling per factor of 2); the last
    size equals ``size // stride``.
    """
    if stride < 1 or stride & (stride - 1):
        raise ValueError(f"Argument `stride` must be a power of two. Received: stride={stride}")
    chain = [size]
    while stride > 1:
        chain.append(chain[-1] // 2)
        stride //= 2
    return chain


def anchor_shapes(scales: Sequence[float] = SCALES, ratios: Sequence[float] = RATIOS) -> np.ndarray:
    """(width, height) of the k anchors of one position, ratio-major: shape (k, 2).

    Row ``a`` has ratio ``ratios[a // len(scales)]`` and scale ``scales[a % len(scales)]``;
    width = s/sqrt(r), height = s*sqrt(r) for r = height/width, so width*height = s^2.
    """
    ratio, scale = np.meshgrid(np.asarray(ratios, float), np.asarray(scales, float), indexing="ij")
    return np.stack([scale / np.sqrt(ratio), scale * np.sqrt(ratio)], axis=-1).reshape(-1, 2)


def released_area_change(ratios: Sequence[float] = RATIOS, base_size: int = 16) -> np.ndarray:
    """Relative change of anchor area from the released code's rounding, per ratio: (released - exact)/exact.

    The released code rounds the base anchor (area ``base_size**2``) to
    ``w = round(sqrt(base_size**2/r))``, ``h = round(w*r)`` and then scales both,
    so the change is the same at every scale: +0.078125, 0, -0.0546875 for
    ratios 0.5, 1, 2.
    """
    ratios = np.asarray(ratios, float)
    widths = np.round(np.sqrt(base_size**2 / ratios))
    return widths * np.round(widths * ratios) / base_size**2 - 1


def base_anchors(scales: Sequence[float] = SCALES, ratios: Sequence[float] = RATIOS) -> np.ndarray:
    """The k anchors of one position centred at (0, 0), as boxes (x1, y1, x2, y2): shape (k, 4)."""
    half = anchor_shapes(scales, ratios) / 2
    return np.concatenate([-half, half], axis=1)


def anchor_centres(feature_height: int, feature_width: int, stride: int = STRIDE) -> np.ndarray:
    """Image coordinates (x, y) of every feature-map position, row by row: shape (H'*W', 2)."""
    ys, xs = np.meshgrid(np.arange(feature_height), np.arange(feature_width), indexing="ij")
    return (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) * stride


def generate_anchors(
    feature_height: int,
    feature_width: int,
    stride: int = STRIDE,
    scales: Sequence[float] = SCALES,
    ratios: Sequence[float] = RATIOS,
) -> np.ndarray:
    """All H'*W'*k anchors as boxes: shape (H'*W'*k, 4).

    Row ``(i*W' + j)*k + a`` is anchor a (ratio-major, see the module docstring)
    at position (i, j): the rows of the released ``proposal_layer.py``, and of the
    RPN's outputs read through ``proposals.rpn_rows``.
    """
    centres = anchor_centres(feature_height, feature_width, stride)
    shifts = np.concatenate([centres, centres], axis=1)
    return (shifts[:, None, :] + base_anchors(scales, ratios)[None, :, :]).reshape(-1, 4)


def inside_image(anchors: np.ndarray, height: int, width: int) -> np.ndarray:
    """True for anchors entirely inside the image: x1 >= 0, y1 >= 0, x2 <= W, y2 <= H.

    Ren et al. ignore the others ("cross-boundary anchors") when training the RPN.
    """
    anchors = np.asarray(anchors, dtype=np.float64)
    return (anchors[:, 0] >= 0) & (anchors[:, 1] >= 0) & (anchors[:, 2] <= width) & (anchors[:, 3] <= height)


def anchor_counts(height: int, width: int, stride: int = STRIDE, scales: Sequence[float] = SCALES,
                  ratios: Sequence[float] = RATIOS) -> dict[str, int]:
    """Feature-map size, k, all anchors (H'*W'*k) and those entirely inside an H x W image."""
    feature_height, feature_width = feature_map_size(height, width, stride)
    anchors = generate_anchors(feature_height, feature_width, stride, scales, ratios)
    return {
        "feature_height": feature_height,
        "feature_width": feature_width,
        "k": len(scales) * len(ratios),
        "total": len(anchors),
        "inside": int(inside_image(anchors, height, width).sum()),
    }
