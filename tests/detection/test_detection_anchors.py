"""Anchors: shapes and areas, counts H'*W'*k, the inside-image count, and the feature-map size rule against VGG-16."""

import math

import numpy as np
import pytest

from pyimagesearch.detection.anchors import (
    anchor_centres,
    anchor_counts,
    anchor_shapes,
    base_anchors,
    feature_map_size,
    generate_anchors,
    inside_image,
    pooling_chain,
)
from pyimagesearch.detection.backbone import vgg16_conv5_3

SCALES = (128, 256, 512)
RATIOS = (0.5, 1.0, 2.0)


def test_every_anchor_has_area_scale_squared_and_height_over_width_equal_to_its_ratio():
    boxes = base_anchors(SCALES, RATIOS)
    assert boxes.shape == (9, 4)
    for index, box in enumerate(boxes):
        ratio, scale = RATIOS[index // 3], SCALES[index % 3]  # ratio-major, as the released code
        width, height = box[2] - box[0], box[3] - box[1]
        assert width * height == pytest.approx(scale**2, rel=1e-12)
        assert height / width == pytest.approx(ratio, rel=1e-12)
        assert (box[0] + box[2], box[1] + box[3]) == pytest.approx((0, 0), abs=1e-9)


def test_the_paper_anchor_sizes_rounded_to_pixels():
    widths, heights = np.rint(anchor_shapes(SCALES, RATIOS)).T
    assert widths.tolist() == [181, 362, 724, 128, 256, 512, 91, 181, 362]
    assert heights.tolist() == [91, 181, 362, 128, 256, 512, 181, 362, 724]


@pytest.mark.parametrize("height, width, expected", [
    (600, 899, (37, 56)), (600, 1000, (37, 62)), (600, 800, (37, 50)), (16, 16, (1, 1)), (15, 40, (0, 2)),
])
def test_feature_map_size_is_floor_of_size_over_stride(height, width, expected):
    assert feature_map_size(height, width, 16) == expected
    assert (pooling_chain(height)[-1], pooling_chain(width)[-1]) == expected


def test_pooling_chain_halves_with_floor():
    assert pooling_chain(600) == [600, 300, 150, 75, 37]
    assert pooling_chain(899) == [899, 449, 224, 112, 56]
    with pytest.raises(ValueError, match="power of two"):
        pooling_chain(600, 12)


@pytest.mark.parametrize("height, width", [(600, 899), (600, 1000), (333, 517), (64, 48)])
def test_calculator_walk_of_vgg16_reaches_the_floor_size_and_the_paper_receptive_field(height, width):
    conv5_3 = vgg16_conv5_3(height, width).rows[-1]
    assert conv5_3.name == "conv5_3"
    assert conv5_3.output_shape == (*feature_map_size(height, width), 512)
    assert conv5_3.receptive_field.size == (196, 196)
    assert conv5_3.receptive_field.jump == (16, 16)
    assert conv5_3.receptive_field.start == (7.5, 7.5)  # pixel-centre coordinates: the centre of the first 16x16 cell


def test_feature_map_size_matches_keras_vgg16_block5_conv3():
    from pyimagesearch.core.cli import quiet_tensorflow

    quiet_tensorflow()
    import keras

    for height, width in [(600, 899), (600, 1000), (333, 517)]:
        model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(height, width, 3))
        assert model.get_layer("block5_conv3").output.shape[1:3] == feature_map_size(height, width)


@pytest.mark.parametrize("height, width", [(600, 899), (600, 1000), (480, 640), (37, 200), (100, 100)])
@pytest.mark.parametrize("scales, ratios", [(SCALES, RATIOS), ((32, 64), (1.0,)), ((50,), (0.25, 0.5, 1, 2, 4))])
def test_anchor_count_is_positions_times_k(height, width, scales, ratios):
    fh, fw = feature_map_size(height, width)
    anchors = generate_anchors(fh, fw, 16, scales, ratios)
    assert anchors.shape == (fh * fw * len(scales) * len(ratios), 4)
    counts = anchor_counts(height, width, 16, scales, ratios)
    assert counts["total"] == fh * fw * len(scales) * len(ratios)
    assert (counts["feature_height"], counts["feature_width"], counts["k"]) == (fh, fw, len(scales) * len(ratios))


def test_anchor_layout_is_position_major_and_centred_on_the_stride_cells():
    anchors = generate_anchors(3, 4, 16, SCALES, RATIOS)
    k = 9
    for i in range(3):
        for j in range(4):
            block = anchors[(i * 4 + j) * k:(i * 4 + j + 1) * k]
            centres = np.stack([(block[:, 0] + block[:, 2]) / 2, (block[:, 1] + block[:, 3]) / 2], axis=1)
            assert np.allclose(centres, [16 * j + 8, 16 * i + 8])
            assert np.allclose(block - np.tile([16 * j + 8, 16 * i + 8], 2), base_anchors(SCALES, RATIOS))
    assert anchor_centres(2, 3, 16).tolist() == [[8, 8], [24, 8], [40, 8], [8, 24], [24, 24], [40, 24]]


@pytest.mark.parametrize("height, width, scales, ratios", [
    (600, 899, SCALES, RATIOS), (600, 1000, SCALES, RATIOS), (200, 300, (64, 100), (0.5, 1, 2)),
    (300, 170, (90,), (1,)),
])
def test_inside_count_matches_a_brute_force_loop(height, width, scales, ratios):
    fh, fw = feature_map_size(height, width)
    brute = 0
    for i in range(fh):
        for j in range(fw):
            cx, cy = 16 * j + 8, 16 * i + 8
            for scale in scales:
                for ratio in ratios:
                    w, h = scale / math.sqrt(ratio), scale * math.sqrt(ratio)
                    if cx - w / 2 >= 0 and cy - h / 2 >= 0 and cx + w / 2 <= width and cy + h / 2 <= height:
                        brute += 1
    anchors = generate_anchors(fh, fw, 16, scales, ratios)
    assert int(inside_image(anchors, height, width).sum()) == brute
    assert anchor_counts(height, width, 16, scales, ratios)["inside"] == brute


def test_inside_counts_of_the_default_image_and_the_paper_sizes():
    assert anchor_counts(600, 899) == {"feature_height": 37, "feature_width": 56, "k": 9, "total": 18648,
                                       "inside": 6928}
    assert anchor_counts(600, 1000)["total"] == 20646  # the paper: "roughly 20000 (about 60 x 40 x 9)"
    assert anchor_counts(600, 1000)["inside"] == 8044


def test_an_anchor_touching_the_border_is_inside_and_one_pixel_over_is_not():
    boxes = np.array([[0, 0, 100, 50], [-0.5, 0, 100, 50], [0, 0, 100, 50.5], [10, 10, 20, 20]])
    assert inside_image(boxes, 50, 100).tolist() == [True, False, False, True]
