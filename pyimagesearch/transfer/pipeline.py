"""The image pipeline of the transfer runs: decode, resize, crop (random or central), preprocess, batch.

The Decathlon's images have a shorter side of 72 px; at the default size the
resize leaves them as they are and the crop keeps the central (or a random)
64 x 64 window.
"""

from __future__ import annotations

import numpy as np

CROP_RATIO = 64 / 72  # the Decathlon's 72 px images cropped to 64 px
AUGMENTATIONS = ("none", "crop", "crop-flip")


def resize_side(image_size: int) -> int:
    """Shorter side an image is resized to before cropping ``image_size`` (72 for 64)."""
    return int(round(image_size / CROP_RATIO))


def preprocess(images):
    """ResNet50's ``preprocess_input`` on a float32 copy: the caller's data is never changed.

    Caffe mode: ``x[..., ::-1] - (103.939, 116.779, 123.68)``, RGB to BGR and
    minus the ImageNet channel means, on 0-255 values. Keras' own function
    changes float NumPy arrays in place and wraps around on uint8 tensors, so
    the input is first cast (or copied) to float32.
    """
    import tensorflow as tf
    from keras.applications import resnet50

    images = tf.cast(images, tf.float32) if tf.is_tensor(images) else np.array(images, dtype=np.float32)
    return resnet50.preprocess_input(images)


def _decode_resize(data, image_size: int):
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = resize_side(image_size) / tf.reduce_min(shape)
    target = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), resize_side(image_size))
    return tf.image.resize(image, target, method="bilinear", antialias=True)


def _center_crop(image, image_size: int):
    import tensorflow as tf

    shape = tf.shape(image)
    top = (shape[0] - image_size) // 2
    left = (shape[1] - image_size) // 2
    return tf.image.crop_to_bounding_box(image, top, left, image_size, image_size)



def make_pipeline(encoded, image_size: int, batch_size: int, augment: str = "none", shuffle: bool = False,
                  seed: int = 0, size: int | None = None, epoch: int | None = None):
    """Batches of (preprocessed float32 images, int32 labels) from (encoded image, label) pairs.

    ``augment``: "none" (centre crop), "crop" (random window of the resized
    image) or "crop-flip" (and a random left-right flip). The random numbers are
    stateless, drawn from ``tf.data.Dataset.random``. ``shuffle`` shuffles with
    a buffer of ``size`` (the whole split) elements.

    With ``epoch`` the pipeline is that epoch's: its order and its crops and
    flips are drawn from ``pipeline.epoch_seed(seed, epoch, stream)``, so
    they depend on (seed, epoch) only, in a run resumed in the middle and in
    every run of a sweep alike. Without it they are drawn anew from ``seed``
    at every pass.
    """
    import tensorflow as tf

    from pyimagesearch.core.pipeline import epoch_seed

    if augment not in AUGMENTATIONS:
        raise ValueError(f"Argument `augment` must be one of {AUGMENTATIONS}. Received: augment={augment!r}")
    each_pass = epoch is None
    shuffle_seed, draw_seed = (seed, seed) if each_pass else (epoch_seed(seed, epoch, 0), epoch_seed(seed, epoch, 1))
    dataset = encoded
    if shuffle:
        dataset = dataset.shuffle(size or 10_000, seed=shuffle_seed, reshuffle_each_iteration=each_pass)
    if augment == "none":
        dataset = dataset.map(lambda data, label: (_center_crop(_decode_resize(data, image_size), image_size), label),
                              num_parallel_calls=tf.data.AUTOTUNE)
    else:
        flip = augment == "crop-flip"

        def augmented(element, draw):
            data, label = element
            image = _decode_resize(data, image_size)
            image = tf.image.stateless_random_crop(image, [image_size, image_size, 3], seed=tf.stack([draw, 0]))
            if flip:
                image = tf.image.stateless_random_flip_left_right(image, seed=tf.stack([draw, 1]))
            return image, label

        draws = tf.data.Dataset.random(seed=draw_seed, rerandomize_each_iteration=each_pass)
        dataset = tf.data.Dataset.zip((dataset, draws)).map(augmented, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size).map(lambda images, labels: (preprocess(images), labels))
    return dataset.prefetch(tf.data.AUTOTUNE)
