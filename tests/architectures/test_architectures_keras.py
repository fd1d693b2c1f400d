"""Cross-check the architecture calculator against Keras: per-layer parameters, output shapes and MACs."""

import random
from math import prod

import pytest

from pyimagesearch.architectures.errors import LayerError
from pyimagesearch.core.cli import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
from keras import layers  # noqa: E402

from pyimagesearch.architectures import (  # noqa: E402
    Conv2D,
    Pool2D,
    alexnet,
    inception_naive,
    inception_reduction,
    lenet5,
    vgg19,
    walk,
)
from pyimagesearch.lenet.model import LENET5_PARAMS, build_lenet5  # noqa: E402


def keras_macs(layer):
    """MACs from Keras' own shapes: every kernel weight is used once per output position.

    Conv2D kernels are (k_h, k_w, C/groups, K); Dense kernels are (N_in, N_out).
    """
    if isinstance(layer, layers.Conv2D):
        return prod(layer.output.shape[1:3]) * prod(layer.kernel.shape)
    if isinstance(layer, layers.Dense):
        return prod(layer.kernel.shape)
    return 0


def compare(network, keras_layers):
    """Row by row: name, output shape, parameter count and MACs; then the totals."""
    rows = [row for row in network.rows if row.type != "input"]
    assert len(rows) == len(keras_layers)
    for row, layer in zip(rows, keras_layers):
        assert row.name.replace("/", "_") == layer.name
        assert row.output_shape == tuple(layer.output.shape[1:]), row.name
        assert row.params == layer.count_params(), row.name
        assert row.macs == keras_macs(layer), row.name
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            assert row.biases == prod(layer.bias.shape), row.name
    assert network.totals["params"] == sum(layer.count_params() for layer in keras_layers)


def keras_alexnet(groups):
    return keras.Sequential(
        [
            keras.Input((227, 227, 3)),
            layers.Conv2D(96, 11, strides=4, name="conv1"),
            layers.MaxPooling2D(3, strides=2, name="pool1"),
            layers.Conv2D(256, 5, padding="same", groups=groups, name="conv2"),
            layers.MaxPooling2D(3, strides=2, name="pool2"),
            layers.Conv2D(384, 3, padding="same", name="conv3"),
            layers.Conv2D(384, 3, padding="same", groups=groups, name="conv4"),
            layers.Conv2D(256, 3, padding="same", groups=groups, name="conv5"),
            layers.MaxPooling2D(3, strides=2, name="pool5"),
            layers.Flatten(name="flatten"),
            layers.Dense(4096, name="fc6"),
            layers.Dense(4096, name="fc7"),
            layers.Dense(1000, name="fc8"),
        ]
    )


@pytest.mark.parametrize("two_gpus", [True, False])
def test_alexnet_against_keras(two_gpus):
    model = keras_alexnet(groups=2 if two_gpus else 1)
    network = alexnet(two_gpus=two_gpus)
    compare(network, [layer for layer in model.layers if layer.name != "flatten"])
    assert model.count_params() == (60_965_224 if two_gpus else 62_378_344)


def test_vgg19_against_keras_applications():
    model = keras.applications.VGG19(weights=None)
    try:
        keras_layers = [layer for layer in model.layers if not isinstance(layer, (layers.InputLayer, layers.Flatten))]
        network = vgg19()
        rows = network.rows[1:]
        assert len(rows) == len(keras_layers) == 24
        for row, layer in zip(rows, keras_layers):
            assert row.output_shape == tuple(layer.output.shape[1:]), (row.name, layer.name)
            assert row.params == layer.count_params(), (row.name, layer.name)
            assert row.macs == keras_macs(layer), (row.name, layer.name)
        assert model.count_params() == network.totals["params"] == 143_667_240
        assert sum(prod(w.shape) for w in model.weights if w.name == "kernel") == network.totals["weights"] == 143_652_544
    finally:
        del model
        keras.backend.clear_session()


def test_lenet5_against_train_lenet_model():
    model = build_lenet5()
    compare(lenet5(), model.layers)
    assert model.count_params() == LENET5_PARAMS


def keras_inception(reduction):
    x = keras.Input((32, 32, 256))
    if reduction:
        b1 = layers.Conv2D(128, 1, padding="same", name="1x1_conv")(x)
        b3 = layers.Conv2D(64, 1, padding="same", name="3x3_reduce")(x)
        b3 = layers.Conv2D(192, 3, padding="same", name="3x3_conv")(b3)
        b5 = layers.Conv2D(64, 1, padding="same", name="5x5_reduce")(x)
        b5 = layers.Conv2D(96, 5, padding="same", name="5x5_conv")(b5)
        bp = layers.MaxPooling2D(3, strides=1, padding="same", name="pool_max")(x)
        bp = layers.Conv2D(64, 1, padding="same", name="pool_proj")(bp)
    else:
        b1 = layers.Conv2D(128, 1, padding="same", name="1x1_conv")(x)
        b3 = layers.Conv2D(192, 3, padding="same", name="3x3_conv")(x)
        b5 = layers.Conv2D(96, 5, padding="same", name="5x5_conv")(x)
        bp = layers.MaxPooling2D(3, strides=1, padding="same", name="pool_max")(x)
    out = layers.Concatenate(name="concat")([b1, b3, b5, bp])
    return keras.Model(x, out)


@pytest.mark.parametrize("reduction", [False, True])
def test_inception_against_keras(reduction):
    model = keras_inception(reduction)
    network = inception_reduction() if reduction else inception_naive()
    by_name = {layer.name: layer for layer in model.layers}
    compare(network, [by_name[row.name.replace("/", "_")] for row in network.rows[1:]])
    assert model.count_params() == network.totals["params"]


def test_random_windows_against_keras_shapes():
    """Output shapes of random convolution and pooling stacks, Keras padding rules included."""
    rng = random.Random(1)
    checked = 0
    while checked < 12:
        height, width = rng.randint(10, 40), rng.randint(10, 40)
        specs, keras_layers = [], []
        for i in range(rng.randint(1, 4)):
            kernel, padding = rng.randint(1, 4), rng.choice(["same", "valid"])
            stride, dilation = (rng.randint(1, 3), 1) if rng.random() < 0.6 else (1, rng.randint(1, 3))
            if rng.random() < 0.3:
                specs.append(Pool2D(f"pool{i}", kernel, stride=stride, padding=padding))
                keras_layers.append(layers.MaxPooling2D(kernel, strides=stride, padding=padding, name=f"pool{i}"))
            else:
                specs.append(Conv2D(f"conv{i}", 3, kernel, stride=stride, padding=padding, dilation=dilation))
                keras_layers.append(
                    layers.Conv2D(3, kernel, strides=stride, padding=padding, dilation_rate=dilation, name=f"conv{i}")
                )
        try:
            network = walk("random", (height, width, 2), specs)
        except LayerError:
            continue  # a kernel that does not fit or a size that is not whole; Keras would floor it silently
        model = keras.Sequential([keras.Input((height, width, 2)), *keras_layers])
        compare(network, model.layers)
        checked += 1


def test_googlenet_inception_3a_against_an_independent_keras_model():
    """GoogLeNet's (3a) (Szegedy et al. 2015, Table 1) built in Keras; its count_params() against the calculator's."""
    from pyimagesearch.architectures.networks import INCEPTION_FILTERS

    x = keras.Input((28, 28, 192))
    b1 = layers.Conv2D(64, 1, padding="same")(x)
    b3 = layers.Conv2D(128, 3, padding="same")(layers.Conv2D(96, 1, padding="same")(x))
    b5 = layers.Conv2D(32, 5, padding="same")(layers.Conv2D(16, 1, padding="same")(x))
    bp = layers.Conv2D(32, 1, padding="same")(layers.MaxPooling2D(3, strides=1, padding="same")(x))
    out = layers.Concatenate()([b1, b3, b5, bp])
    model = keras.Model(x, out)
    network = inception_reduction((28, 28, 192), **INCEPTION_FILTERS["googlenet-3a"])
    assert model.count_params() == network.totals["params"] == 163_696
    assert tuple(out.shape[1:]) == network.rows[-1].output_shape == (28, 28, 256)
