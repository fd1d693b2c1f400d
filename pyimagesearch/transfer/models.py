"""ResNet50 with a new last layer, in the two modes of the task.

A new ``Dense`` layer of the target's class count goes on top of
``keras.applications.ResNet50(include_top=False, pooling="avg")``. Two modes
(keras.io guide "Transfer learning & fine-tuning"):

- ``finetune``: every layer trains with one learning rate; BatchNormalization
  runs in training mode.
- ``feature`` (feature extractor): the base is frozen (``trainable = False``,
  called with ``training=False`` so BatchNormalization keeps its moving
  statistics) and only the new layer trains.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import keras

from pyimagesearch.core.training import FreshStart, compile_classifier
from pyimagesearch.transfer.data import error_reason
from pyimagesearch.transfer.settings import IMAGENET_NOTOP_FILE, MODES, dtype_policy

MOMENTUM = 0.9
HEAD_NAME = "classifier"
BASE_NAME = "resnet50"  # the name keras.applications.ResNet50 gives the base
IMAGENET_NOTOP_MD5 = "4d473c1dd8becc155b73f8504c6f6626"


class WeightsError(ValueError):
    """ResNet50's weights cannot be loaded (offline, or a file that does not fit); the message is one sentence."""


def load_base(image_size: int, weights: str = "imagenet"):
    """``ResNet50(include_top=False, pooling="avg")`` for ``image_size`` inputs.

    ``weights``: "imagenet" (Keras' download cache, else a download), "none"
    (random) or a weights file. Failures a user can fix become ``WeightsError``.
    """
    source = None if weights == "none" else weights
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a mismatched file warns once per layer before it fails
            return keras.applications.ResNet50(
                include_top=False, weights=source, input_shape=(image_size, image_size, 3), pooling="avg"
            )
    except Exception as error:  # Keras raises a bare Exception for a failed download
        if weights == "imagenet":
            cache = Path(os.environ.get("KERAS_HOME", "~/.keras")) / "models"
            raise WeightsError(
                f"the ImageNet weights of ResNet50 could not be loaded or downloaded ({error_reason(error)}); without "
                f"internet, copy {IMAGENET_NOTOP_FILE} (md5 {IMAGENET_NOTOP_MD5}) into {cache} or pass "
                "--weights PATH to it (or --weights none for random weights)"
            ) from None
        if source is not None:
            raise WeightsError(
                f"weights file {weights} does not fit ResNet50 without its top layers ({error_reason(error)}); pass "
                f"{IMAGENET_NOTOP_FILE} or a .weights.h5 file saved from "
                "keras.applications.ResNet50(include_top=False)"
            ) from None
        raise


class Models(NamedTuple):
    """The models of one run.

    ``model``: image -> class probabilities (base + head). ``base``: ResNet50
    without top. ``trained``: the compiled model ``fit`` trains: ``model``
    when fine-tuning, the head alone on pooled features for feature extraction.
    """

    model: keras.Model
    base: keras.Model
    trained: keras.Model


def build_models(num_classes: int, mode: str, lr: float, image_size: int, weights: str = "imagenet",
                 dtype_policy_name: str = "float32", base=None) -> Models:
    """Create the models and their SGD optimizer and compile them.

    The only function that creates models or optimizers, so that a
    ``tf.distribute`` strategy scope can wrap it. ``base`` reuses a (frozen)
    base across the runs of a feature-extraction sweep, so every run's head
    sees the very features that were cached. The
    head starts at zero, as in Big Transfer (Kolesnikov et al. 2020, section
    3.3): its first predictions are uniform, so the first loss is ln(number of
    classes) whatever the scale of the features, the reference of the
    divergence guard. It computes in float32 under mixed precision, so its
    softmax is not rounded to 16 bits.
    """
    if mode not in MODES:
        raise ValueError(f"Argument `mode` must be one of {MODES}. Received: mode={mode!r}")
    with dtype_policy(dtype_policy_name):
        base = base if base is not None else load_base(image_size, weights)
        head = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer="zeros", dtype="float32",
                                  name=HEAD_NAME)
        images = keras.Input((image_size, image_size, 3), name="image")
        if mode == "feature":
            base.trainable = False
            model = keras.Model(images, head(base(images, training=False)), name="resnet50_feature")
            features = keras.Input((base.output_shape[-1],), name="features")
            trained = keras.Model(features, head(features), name="head")
        else:
            base.trainable = True
            model = trained = keras.Model(images, head(base(images)), name="resnet50_finetune")
        compile_classifier(trained, keras.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM))
    return Models(model, base, trained)


class ModelPool:
    """The models of a sweep, built once per mode and put back to their initial state for every run.

    A new ResNet50 (or head) for every LR has new train and test steps to
    trace, and a sweep of short runs makes TensorFlow warn about tf.function
    retracing. Here a mode's models are built on its first run and restored
    for each later one (``core.training.FreshStart``: initial weights, zero
    momentum, iteration 0), so every run starts as freshly built models
    would. Only the mode last used is kept: the fine-tuning model is released
    when feature extraction begins.
    """

    def __init__(self):
        self.mode, self.models, self.fresh = None, None, None

    def get(self, mode: str, lr: float, build: Callable[[], Models], strategy) -> Models:
        """The models for a run of ``mode`` at ``lr``: ``build()`` in ``strategy``'s scope the first time."""
        if mode == self.mode:
            self.fresh.restore(lr)
            return self.models
        self.mode, self.models, self.fresh = None, None, None
        with strategy.scope():
            self.models = build()
            self.fresh = FreshStart(self.models.trained)
        self.mode = mode
        return self.models
