"""VGG-16 up to conv5_3, the feature map the RPN slides over, through the architecture calculator.

VGG-16 (configuration D of Simonyan and Zisserman 2015, Table 1) has 13 3x3
convolutions with 1 pixel of padding and, before conv5_3, four 2x2 max-pools of
stride 2. Each pool rounds its output size down (``anchors.feature_map_size``),
but the calculator only accepts sliding windows that fit a whole number of
times; so VGG-16 is walked on the top-left crop of 16*H' x 16*W' pixels, which
pools exactly and reaches the same H' x W' conv5_3 map. The walk gives the
map's size and its receptive field; its multiply-adds belong to the crop, not
to the whole image, and are not reported.
"""

from __future__ import annotations

from pyimagesearch.architectures import Conv2D, Network, Pool2D, walk
from pyimagesearch.detection.anchors import STRIDE, feature_map_size

# (filters, 3x3 convolutions) of VGG-16's five blocks; conv5_3 is the last convolution, before pool5.
VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
CONV5_3_CHANNELS = 512


def vgg16_conv5_3_layers() -> list:
    """conv1_1 ... conv5_3 with pool1 ... pool4 in between."""
    layers = []
    for block, (filters, convolutions) in enumerate(VGG16_BLOCKS, start=1):
        layers += [Conv2D(f"conv{block}_{i}", filters, 3, padding=1) for i in range(1, convolutions + 1)]
        if block < len(VGG16_BLOCKS):
            layers.append(Pool2D(f"pool{block}", 2))
    return layers


def vgg16_conv5_3(height: int, width: int) -> Network:
    """Walk VGG-16 to conv5_3 on the 16*floor(H/16) x 16*floor(W/16) crop of an H x W x 3 image."""
    feature_height, feature_width = feature_map_size(height, width, STRIDE)
    return walk("vgg16-conv5_3", (STRIDE * feature_height, STRIDE * feature_width, 3), vgg16_conv5_3_layers())
