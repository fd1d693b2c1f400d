"""The RPN head's arithmetic against hand formulas and a Keras model of the same layers."""

import pytest

from pyimagesearch.detection.rpn_head import rpn_head, rpn_head_report


def test_rpn_head_parameters_and_macs_by_hand():
    head = rpn_head(37, 56, k=9)
    conv, cls, reg = head.row("rpn_conv/3x3"), head.row("cls/rpn_cls_score"), head.row("reg/rpn_bbox_pred")
    assert conv.params == (3 * 3 * 512) * 512 + 512 == 2_359_808
    assert cls.params == 512 * 18 + 18 == 9_234
    assert reg.params == 512 * 36 + 36 == 18_468
    assert head.totals["params"] == 2_387_510
    assert conv.macs == 37 * 56 * 512 * 3 * 3 * 512
    assert cls.macs == 37 * 56 * 18 * 512 and reg.macs == 37 * 56 * 36 * 512
    assert conv.calculation == "(3*3*512)*512 + 512 = 2,359,808"
    assert (cls.output_shape, reg.output_shape) == ((37, 56, 18), (37, 56, 36))


@pytest.mark.parametrize("k, size", [(9, (37, 56)), (3, (10, 20)), (15, (5, 7))])
def test_rpn_head_parameters_match_keras(k, size):
    from pyimagesearch.core.cli import quiet_tensorflow

    quiet_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input((*size, 512))
    hidden = layers.Conv2D(512, 3, padding="same", activation="relu")(inputs)
    cls = layers.Conv2D(2 * k, 1)(hidden)
    reg = layers.Conv2D(4 * k, 1)(hidden)
    model = keras.Model(inputs, [cls, reg])
    head = rpn_head(*size, k=k)
    assert head.totals["params"] == model.count_params()
    assert head.row("cls/rpn_cls_score").output_shape == tuple(cls.shape[1:])
    assert head.row("reg/rpn_bbox_pred").output_shape == tuple(reg.shape[1:])


def test_report_shows_the_calculations_and_the_vgg16_chain():
    markdown, payload = rpn_head_report(600, 899, k=9)
    assert "(3*3*512)*512 + 512 = 2,359,808" in markdown
    assert "(1*1*512)*18 + 18 = 9,234" in markdown
    assert "(1*1*512)*36 + 36 = 18,468" in markdown
    assert "| pool4 | floor(75/2) = 37 | floor(112/2) = 56 |" in markdown
    assert "37*56*18 = 37,296 scores" in markdown
    assert "channel a of rpn_cls_score is anchor a's 'not object' score and channel k + a its 'object' score" in markdown
    assert "anchor a is ratio-major" in markdown
    assert payload["totals"]["params"] == 2_387_510
    assert payload["vgg16"]["rpn_window_receptive_field"] == 228  # the paper's figure for VGG-16
    assert payload["vgg16"]["pooling_chain"] == {"height": [600, 300, 150, 75, 37], "width": [899, 449, 224, 112, 56]}
    other, other_payload = rpn_head_report(600, 899, k=9, stride=8)
    assert "vgg16" not in other_payload and other_payload["feature_map"]["height"] == 75
