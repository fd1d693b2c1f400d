"""scikit-learn's handwritten digits as a transfer target: the offline stand-in for a Visual Decathlon set.

``sklearn.datasets.load_digits`` ships with scikit-learn (no download): 1,797
real handwritten digits, 8x8 grayscale with values 0-16, 10 classes of 174-183
images. Each image becomes a model input of the transfer pipeline
(``transfer.pipeline.make_pipeline`` at ``image_size`` 32)::

    value 0-16 -> round(value * 255 / 16)           (0-255, what preprocess_input expects)
    8x8 -> 32x32: every pixel a 4x4 block           (nearest neighbour: no value is invented)
    32x32 -> 36x36: 2 px of background on each side (the pipeline resizes to a shorter side of
                                                     round(32 * 72 / 64) = 36, a no-op here, and
                                                     its centre crop gives back the 32x32 digit)
    encoded as a grayscale PNG; the pipeline decodes it to 3 channels

The split is seeded and stratified (``split_digits``): 1,437 training
images, 180 for the choices ("selection": the best epoch, the best LR, the
winner) and 180 for validation, where the reported figures come from, as on a
Decathlon target, whose test labels are withheld. 180 is 10% of the images,
18 per class: the binomial standard error of an accuracy of 0.9 on 180
images is sqrt(0.9 * 0.1 / 180) = 2.2 points; larger held-out parts would
leave fewer than the 1,437 training images (about 144 per class) that make
overfitting by fine-tuning a real question.
"""

from __future__ import annotations

import numpy as np

from pyimagesearch.transfer.data import ImageSet

NAME = "digits"
ORIGIN = "scikit-learn digits (sklearn.datasets.load_digits), an offline stand-in for a Visual Decathlon target"
TARGET_NOTE = "the target is scikit-learn's digits, not a Visual Decathlon set"
CLASS_NAMES = [str(digit) for digit in range(10)]
SPLITS = ("train", "selection", "validation")
SELECTION_IMAGES = 180
VALIDATION_IMAGES = 180
SELECTION_SPLIT = (f"selection: a seeded, stratified {SELECTION_IMAGES} of the 1,797 images, held out after the "
                   f"{VALIDATION_IMAGES} of validation")
MAX_VALUE = 16  # load_digits' pixel values are counts of set pixels in 4x4 blocks of a 32x32 bitmap: 0-16
UPSAMPLE = 4  # 8x8 -> 32x32, ResNet50's smallest input
PAD = 2  # 32 -> 36 px, the size the pipeline resizes a 32 px input to before its centre crop


def to_pixels(images: np.ndarray) -> np.ndarray:
    """load_digits' (N, 8, 8) values 0-16 as ``uint8`` (N, 36, 36, 1) images with values 0-255.

    ``round(value * 255 / 16)``, each pixel repeated into a 4x4 block, then
    2 px of zeros (the digits' background) on every side.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"Argument `images` must have shape (N, 8, 8). Received: shape={images.shape}")
    if images.size and (images.min() < 0 or images.max() > MAX_VALUE):
        raise ValueError(f"Argument `images` must hold values in [0, {MAX_VALUE}]. "
                         f"Received: values in [{images.min():g}, {images.max():g}]")
    scaled = np.rint(images * 255.0 / MAX_VALUE).astype(np.uint8)
    large = scaled.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)
    return np.pad(large, ((0, 0), (PAD, PAD), (PAD, PAD)))[..., np.newaxis]


def stratified_parts(labels: np.ndarray, sizes: dict[str, int], seed: int, rest: str = "train") -> dict[str, np.ndarray]:
    """Sorted positions of seeded, stratified parts of ``labels``: ``{name: positions}`` for ``sizes``, then ``rest``.

    The parts are held out in the order of ``sizes``, each from what the
    earlier ones left, by scikit-learn's ``train_test_split`` with
    ``stratify`` (every class gets its share of the exact size); ``rest``
    gets what is left. A part of size 0 is empty.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    remaining = np.arange(len(labels))
    parts = {}
    for name, size in sizes.items():
        if not 0 <= size < len(remaining):
            raise ValueError(f"Argument `sizes` must leave images for every part. Received: {name}={size} "
                             f"of {len(remaining)} images left")
        if size == 0:
            parts[name] = remaining[:0]
            continue
        remaining, held = train_test_split(remaining, test_size=size, stratify=labels[remaining], random_state=seed)
        parts[name] = np.sort(held)
    parts[rest] = np.sort(remaining)
    return parts


def split_digits(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Positions of the training, selection and validation images: validation held out first, then selection."""
    return stratified_parts(labels, {"validation": VALIDATION_IMAGES, "selection": SELECTION_IMAGES}, seed)


def encoded_images(pixels: np.ndarray, labels: np.ndarray):
    """``tf.data.Dataset`` of (PNG bytes, int32 label) from ``uint8`` (N, H, W, C) images, encoded as read."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((pixels, labels.astype(np.int32)))
    return dataset.map(lambda image, label: (tf.io.encode_png(image), label), num_parallel_calls=tf.data.AUTOTUNE)


def image_set_of(name: str, origin: str, class_names: list[str], pixels: dict[str, np.ndarray],
                 labels: dict[str, np.ndarray], selection_split: str | None = None) -> ImageSet:
    """An ``ImageSet`` of the stand-in over in-memory ``uint8`` images: ``{split: (N, H, W, C)}`` with ``{split: labels}``."""
    labels = {split: np.asarray(split_labels, np.int32) for split, split_labels in labels.items()}
    return ImageSet(name, origin, list(class_names), labels, lambda split: encoded_images(pixels[split], labels[split]),
                    source="standin", selection_split=selection_split)


def load_digits(seed: int = 42) -> ImageSet:
    """scikit-learn's digits as an ``ImageSet`` with the splits "train", "selection" and "validation"."""
    from sklearn import datasets

    digits = datasets.load_digits()
    pixels = to_pixels(digits.images)
    labels = digits.target.astype(np.int32)
    parts = split_digits(labels, seed)
    return image_set_of(NAME, ORIGIN, CLASS_NAMES, {split: pixels[parts[split]] for split in SPLITS},
                        {split: labels[parts[split]] for split in SPLITS}, SELECTION_SPLIT)
