"""The RPN head's parameters and multiply-adds, counted by the architecture calculator.

Ren et al. 2015, Section 3.1: a 3x3 convolution with 512 outputs (and ReLU)
slides over the 512-channel conv5_3 map; two sibling 1x1 convolutions read its
output, a box-classification layer with 2k scores (object or not, for each of
the k anchors) and a box-regression layer with 4k offsets (tx, ty, tw, th for
each anchor). Layer names are those of the released code.
"""

from __future__ import annotations

from pyimagesearch.architectures import Conv2D, Network, Parallel, walk
from pyimagesearch.architectures.report import network_markdown, shape_text, table
from pyimagesearch.detection.anchors import STRIDE, feature_map_size, pooling_chain
from pyimagesearch.detection.backbone import CONV5_3_CHANNELS, vgg16_conv5_3, vgg16_conv5_3_layers

RPN_CHANNELS = 512


def rpn_conv() -> Conv2D:
    """The 3x3 sliding window, 512 outputs, padding that keeps the map's size."""
    return Conv2D("rpn_conv/3x3", RPN_CHANNELS, 3, padding="same")


def rpn_head_layers(k: int) -> list:
    """rpn_conv/3x3, then rpn_cls_score (2k) and rpn_bbox_pred (4k) side by side."""
    return [
        rpn_conv(),
        Parallel("rpn_outputs", {
            "cls": [Conv2D("rpn_cls_score", 2 * k, 1)],
            "reg": [Conv2D("rpn_bbox_pred", 4 * k, 1)],
        }),
    ]


def rpn_head(feature_height: int, feature_width: int, k: int, channels: int = CONV5_3_CHANNELS) -> Network:
    """Walk the RPN head over an H' x W' x ``channels`` feature map."""
    return walk("rpn-head", (feature_height, feature_width, channels), rpn_head_layers(k))


def rpn_head_report(image_height: int, image_width: int, k: int, stride: int = STRIDE) -> tuple[str, dict]:
    """Markdown and JSON for the head on the feature map of an image of this size.

    With ``stride`` 16 the map is VGG-16's conv5_3 and the report shows how its
    size arises; another stride stands for a backbone of that total stride.
    """
    feature_height, feature_width = feature_map_size(image_height, image_width, stride)
    head = rpn_head(feature_height, feature_width, k)
    positions = feature_height * feature_width
    scores, offsets = positions * 2 * k, positions * 4 * k
    notes = [
        f"The input is the {CONV5_3_CHANNELS}-channel feature map of the {image_width} x {image_height} image at "
        f"stride {stride}: floor({image_height}/{stride}) x floor({image_width}/{stride}) = "
        f"{feature_height} x {feature_width} positions" + (" (VGG-16's conv5_3, below)." if stride == STRIDE else "."),
        f"k = {k} anchors per position: rpn_cls_score has 2k = {2 * k} outputs (object / not object, a two-class "
        f"softmax per anchor), rpn_bbox_pred 4k = {4 * k} (tx, ty, tw, th per anchor).",
        "Channel order, as in the released code: channel a of rpn_cls_score is anchor a's 'not object' score and "
        "channel k + a its 'object' score; channels 4a to 4a + 3 of rpn_bbox_pred are anchor a's offsets; anchor a "
        "is ratio-major (ratio a // scales, scale a % scales), the order of generate_anchors "
        "(pyimagesearch.detection.rpn_rows reads both maps in that order).",
        "The two 1x1 layers are siblings, both reading rpn_conv/3x3; the row rpn_outputs only lists their outputs "
        f"together ({2 * k} + {4 * k} channels) and adds nothing.",
        "Receptive fields in the table are counted in feature-map positions, not image pixels.",
        "ReLU after rpn_conv/3x3 and the softmax have no parameters and are not counted as operations.",
    ]
    markdown = network_markdown(f"RPN head on a {shape_text(head.input_shape)} feature map", head, notes)
    markdown += (f"\nOutputs per image: {feature_height}*{feature_width}*{2 * k} = {scores:,} scores and "
                 f"{feature_height}*{feature_width}*{4 * k} = {offsets:,} offsets, for {positions * k:,} anchors.\n")
    payload = {
        **head.to_dict(),
        "feature_map": {"height": feature_height, "width": feature_width, "channels": CONV5_3_CHANNELS,
                        "stride": stride},
        "k": k,
        "outputs_per_image": {"scores": scores, "offsets": offsets},
    }
    if stride == STRIDE:
        text, backbone = _vgg16_section(image_height, image_width)
        markdown += text
        payload["vgg16"] = backbone
    return markdown, payload


def _vgg16_section(height: int, width: int) -> tuple[str, dict]:
    """How VGG-16 turns an H x W image into its conv5_3 map, and what the RPN's window sees of the image."""
    backbone = vgg16_conv5_3(height, width)
    conv5_3 = backbone.rows[-1]
    window = walk("vgg16+rpn_conv", backbone.input_shape, vgg16_conv5_3_layers() + [rpn_conv()]).rows[-1]
    field = window.receptive_field.size[0]
    heights, widths = pooling_chain(height, STRIDE), pooling_chain(width, STRIDE)
    rows = [["input", str(height), str(width)]] + [
        [f"pool{stage}", f"floor({heights[stage - 1]}/2) = {heights[stage]}",
         f"floor({widths[stage - 1]}/2) = {widths[stage]}"]
        for stage in range(1, len(heights))
    ]
    text = "\n".join([
        "",
        "## Where the feature map comes from",
        "",
        "VGG-16's 3x3 convolutions (1 pixel of padding) keep the size; each of its four 2x2 max-pools of stride 2 "
        "halves it, rounding down (Keras' and TensorFlow's 'valid' pooling), so H' = floor(H/16) and "
        "W' = floor(W/16). Caffe, used for the paper, rounds up instead: ceil(H/16) x ceil(W/16).",
        "",
        table(["Stage", "Height", "Width"], rows),
        "",
        f"Walking VGG-16 through the calculator on the {backbone.input_shape[1]} x {backbone.input_shape[0]} "
        f"top-left crop (the pixels that floor pooling divides exactly) gives conv5_3 "
        f"{shape_text(conv5_3.output_shape)} with receptive field {conv5_3.receptive_field.describe()} "
        "(pixel-centre coordinates): neighbouring positions are 16 px apart and position (i, j) is centred on image "
        "point (16*j + 8, 16*i + 8) in continuous coordinates, where its anchors are centred.",
        "",
        f"The RPN's 3x3 window on conv5_3 sees {field} x {field} image pixels (VGG-16 and rpn_conv/3x3 walked "
        "together; the paper gives 228 for VGG-16).",
        "",
    ])
    payload = {
        "pooling_chain": {"height": heights, "width": widths},
        "conv5_3_receptive_field": conv5_3.receptive_field.to_dict(),
        "rpn_window_receptive_field": field,
    }
    return text, payload
