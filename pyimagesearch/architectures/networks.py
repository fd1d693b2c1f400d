"""The built-in networks: AlexNet, VGG19, the two Inception modules, LeNet-5 and a convolution stack."""

from __future__ import annotations

from typing import Sequence

from pyimagesearch.architectures.layers import Conv2D, Dense, Flatten, Network, Parallel, Pool2D
from pyimagesearch.architectures.walk import require_positive, walk
from pyimagesearch.architectures.receptive_field import MAX_LAYERS, MAX_SIZE, stacked_size_strided

ALEXNET_INPUT = (227, 227, 3)
VGG19_INPUT = (224, 224, 3)
INCEPTION_INPUT = (32, 32, 256)
LENET5_INPUT = (28, 28, 1)

# Filter counts of the Inception modules, by where they come from. "homework" are the calculator's defaults: the
# counts this project uses for the homework's Question 2.4 (its Figure 1, at the question's 32x32x256 input), not
# GoogLeNet's. "googlenet-3a" is GoogLeNet's inception (3a) (Szegedy et al. 2015, Table 1) on its 28x28x192 input;
# Table 1 lists 159K parameters and 128M operations for it.
INCEPTION_FILTERS = {
    "homework": {"n1x1": 128, "n3x3_reduce": 64, "n3x3": 192, "n5x5_reduce": 64, "n5x5": 96, "pool_proj": 64},
    "googlenet-3a": {"n1x1": 64, "n3x3_reduce": 96, "n3x3": 128, "n5x5_reduce": 16, "n5x5": 32, "pool_proj": 32},
}
INCEPTION_INPUTS = {"homework": INCEPTION_INPUT, "googlenet-3a": (28, 28, 192)}
INCEPTION_SOURCES = {
    "homework": "the counts this project uses for the homework's Question 2.4 (its Figure 1, at the question's "
                "32x32x256 input), not GoogLeNet's; check them against your copy of the figure",
    "googlenet-3a": "GoogLeNet's inception (3a), Szegedy et al. 2015, Table 1, on its 28x28x192 input (Table 1 "
                    "lists 159K parameters and 128M operations)",
}

# VGG configuration E (Simonyan and Zisserman 2015, Table 1): (filters, 3x3 convolutions) per block.
VGG19_BLOCKS = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def alexnet_layers(two_gpus: bool = True, classes: int = 1000) -> list:
    """AlexNet as in Krizhevsky et al. 2012, Section 3.5 and Figure 2.

    conv1 96 11x11 stride 4 -> max pool 3x3 stride 2 -> conv2 256 5x5 pad 2 ->
    max pool -> conv3 384 3x3 pad 1 -> conv4 384 3x3 pad 1 -> conv5 256 3x3 pad 1
    -> max pool -> fc6 4096 -> fc7 4096 -> fc8 1000. On two GPUs, conv2, conv4
    and conv5 see only the kernel maps of the previous layer on their own GPU
    (groups=2); conv3 and the fully connected layers see both. Response
    normalisation (after conv1 and conv2), ReLU and dropout have no parameters.
    """
    groups = 2 if two_gpus else 1
    return [
        Conv2D("conv1", 96, 11, stride=4),
        Pool2D("pool1", 3, stride=2),
        Conv2D("conv2", 256, 5, padding=2, groups=groups),
        Pool2D("pool2", 3, stride=2),
        Conv2D("conv3", 384, 3, padding=1),
        Conv2D("conv4", 384, 3, padding=1, groups=groups),
        Conv2D("conv5", 256, 3, padding=1, groups=groups),
        Pool2D("pool5", 3, stride=2),
        Dense("fc6", 4096),
        Dense("fc7", 4096),
        Dense("fc8", classes),
    ]


def alexnet(input_shape: Sequence[int] = ALEXNET_INPUT, two_gpus: bool = True) -> Network:
    """Walk AlexNet; the paper says 224x224x3, but only 227 gives its 55x55 conv1 output."""
    name = "alexnet" if two_gpus else "alexnet-single-gpu"
    return walk(name, input_shape, alexnet_layers(two_gpus))


def vgg19_layers(classes: int = 1000) -> list:
    """VGG19, configuration E of Simonyan and Zisserman 2015, Table 1.

    3x3 convolutions with stride 1 and 1 pixel of padding, 2x2 max pooling with
    stride 2, then fully connected layers of 4096, 4096 and 1000 units.
    """
    layers = []
    for block, (filters, convolutions) in enumerate(VGG19_BLOCKS, start=1):
        layers += [Conv2D(f"conv{block}_{i}", filters, 3, padding=1) for i in range(1, convolutions + 1)]
        layers.append(Pool2D(f"pool{block}", 2))
    return layers + [Dense("fc6", 4096), Dense("fc7", 4096), Dense("fc8", classes)]


def vgg19(input_shape: Sequence[int] = VGG19_INPUT) -> Network:
    """Walk VGG19 (configuration E)."""
    return walk("vgg19", input_shape, vgg19_layers())


def inception_naive(
    input_shape: Sequence[int] = INCEPTION_INPUT, n1x1: int = 128, n3x3: int = 192, n5x5: int = 96
) -> Network:
    """The naive Inception module (Szegedy et al. 2015, Figure 2a).

    1x1, 3x3 and 5x5 convolutions and 3x3 max pooling (stride 1), all with
    'same' padding, read the previous layer; their outputs are concatenated.
    """
    block = Parallel(
        "concat",
        {
            "1x1": [Conv2D("conv", n1x1, 1, padding="same")],
            "3x3": [Conv2D("conv", n3x3, 3, padding="same")],
            "5x5": [Conv2D("conv", n5x5, 5, padding="same")],
            "pool": [Pool2D("max", 3, stride=1, padding="same")],
        },
    )
    return walk("inception-naive", input_shape, [block])


def inception_reduction(
    input_shape: Sequence[int] = INCEPTION_INPUT,
    n1x1: int = 128,
    n3x3: int = 192,
    n5x5: int = 96,
    n3x3_reduce: int = 64,
    n5x5_reduce: int = 64,
    pool_proj: int = 64,
) -> Network:
    """The Inception module with dimension reductions (Szegedy et al. 2015, Figure 2b).

    1x1 convolutions shrink the channels before the 3x3 and 5x5 convolutions
    ("#3x3 reduce", "#5x5 reduce") and after the max pooling ("pool proj").
    """
    block = Parallel(
        "concat",
        {
            "1x1": [Conv2D("conv", n1x1, 1, padding="same")],
            "3x3": [Conv2D("reduce", n3x3_reduce, 1, padding="same"), Conv2D("conv", n3x3, 3, padding="same")],
            "5x5": [Conv2D("reduce", n5x5_reduce, 1, padding="same"), Conv2D("conv", n5x5, 5, padding="same")],
            "pool": [Pool2D("max", 3, stride=1, padding="same"), Conv2D("proj", pool_proj, 1, padding="same")],
        },
    )
    return walk("inception-reduction", input_shape, [block])


def convolution_macs(network: Network) -> int:
    """Multiply-adds of the convolution layers."""
    return sum(row.macs for row in network.rows if row.type == "conv")


def inception_saving(naive: Network, reduction: Network) -> dict:
    """How much the reductions save: ratio = naive/reduction, percent = 100*(naive - reduction)/naive."""
    naive_macs, reduction_macs = convolution_macs(naive), convolution_macs(reduction)
    saved = naive_macs - reduction_macs
    return {
        "naive_macs": naive_macs,
        "reduction_macs": reduction_macs,
        "saved_macs": saved,
        "ratio": naive_macs / reduction_macs,
        "percent": 100 * saved / naive_macs,
    }


def lenet5_layers(classes: int = 10) -> list:
    """The LeNet-5 of ``pyimagesearch.lenet.build_lenet5`` (and ``train_lenet.py``), layer for layer."""
    return [
        Conv2D("conv1", 6, 5, padding="same"),
        Pool2D("pool1", 2),
        Conv2D("conv2", 16, 5),
        Pool2D("pool2", 2),
        Flatten("flatten"),
        Dense("fc1", 120),
        Dense("fc2", 84),
        Dense("output", classes),
    ]


def lenet5(input_shape: Sequence[int] = LENET5_INPUT) -> Network:
    """Walk LeNet-5 as adapted to 28x28 Fashion-MNIST images."""
    return walk("lenet5", input_shape, lenet5_layers())


def convolution_stack(layers: int, kernel: int, stride: int = 1, channels: int = 64) -> Network:
    """``layers`` stacked ``kernel`` x ``kernel`` convolutions of ``channels`` filters, no padding.

    The input is exactly as large as the stack's receptive field, so the last
    layer has a single 1x1 position that sees the whole input. At most
    ``MAX_LAYERS`` layers, and a receptive field of at most ``MAX_SIZE`` pixels.
    """
    for argument, value in (("kernel", kernel), ("stride", stride), ("filters", channels)):
        require_positive("conv1", argument, value)
    if isinstance(layers, bool) or not isinstance(layers, int) or not 0 < layers <= MAX_LAYERS:
        raise ValueError(f"Argument `layers` must be an integer in [1, {MAX_LAYERS}]. Received: layers={layers!r}")
    size = stacked_size_strided(layers, kernel, stride)
    if size > MAX_SIZE:
        raise ValueError(f"Arguments `layers`, `kernel` and `stride` give a receptive field of more than 2**53 pixels, "
                         f"beyond exact arithmetic. Received: layers={layers}, kernel={kernel}, stride={stride}")
    convolutions = [Conv2D(f"conv{i}", channels, kernel, stride=stride) for i in range(1, layers + 1)]
    return walk(f"stack-{layers}x{kernel}x{kernel}", (size, size, channels), convolutions)
