"""Target data sets for transfer learning: the Visual Decathlon (TFDS) or a folder of class subfolders.

Both sources give an ``ImageSet`` (``transfer.images``): class names, the
labels of each split and a ``tf.data`` stream of encoded images (JPEG/PNG
bytes) with their labels. This module loads the Decathlon through TFDS; the
folder loader lives in ``transfer.images`` and is named here too, so
``data.load_folder`` and ``data.load_decathlon`` sit side by side. Problems
the user can fix raise ``images.DataError`` (a ``ValueError``).

The pipeline (``make_pipeline``) turns an image of any size into model input::

    resize so that the shorter side is round(image_size * 72 / 64)    (72 px for 64)
    crop image_size x image_size: the centre, or with --augment a random
        window (and a random left-right flip)
    batch, then ResNet50's preprocess_input (caffe: RGB -> BGR, minus the
        ImageNet channel means, no scaling)

The Decathlon images were resized to a shorter side of 72 px (Rebuffi et al.
2017, "Learning multiple visual domains with residual adapters"), so at the
default size the resize leaves them as they are and the crop keeps the central
64x64.
"""

from __future__ import annotations

import os
import socket

import numpy as np

from pyimagesearch.transfer.images import (  # noqa: F401  (the folder loader, named beside the Decathlon's)
    SPLITS, DataError, ImageSet, check_images, folder_origin, list_class_folder, load_folder, stratified_split,
    undecodable_images,
)

TFDS_BUILDER = "visual_domain_decathlon"
DECATHLON = {  # name: (classes, training images, validation images)
    "aircraft": (100, 3_334, 3_333),
    "cifar100": (100, 40_000, 10_000),
    "daimlerpedcls": (2, 23_520, 5_880),
    "dtd": (47, 1_880, 1_880),
    "gtsrb": (43, 31_367, 7_842),
    "omniglot": (1_623, 17_853, 6_492),
    "svhn": (10, 47_217, 26_040),
    "ucf101": (101, 7_585, 1_952),
    "vgg-flowers": (102, 1_020, 1_020),
}
EXCLUDED = {
    "imagenet12": (
        "imagenet12 is the source domain, not a target: ResNet50's ImageNet weights were "
        "trained on these very images, so training on it again measures no transfer"
    ),
}


# --------------------------------------------------------------------------- Visual Decathlon (TFDS)

def check_decathlon_name(name: str) -> None:
    """Raise ``DataError`` unless ``name`` is a Decathlon target this project trains on."""
    if name in EXCLUDED:
        raise DataError(f"--dataset {name} is refused: {EXCLUDED[name]}; choose one of {', '.join(DECATHLON)}")
    if name not in DECATHLON:
        raise DataError(
            f"unknown data set {name!r}: choose a Visual Decathlon target ({', '.join(DECATHLON)}) "
            "or pass --data-dir with a folder of class subfolders"
        )


def error_reason(error: Exception, limit: int = 400) -> str:
    """``Type: first line of the message``, for one-sentence errors.

    The whole first line is kept (a download error's reason comes last); only
    one longer than ``limit`` characters is cut, at a space, with " ...".
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    line = text.splitlines()[0]
    if len(line) > limit:
        line = line[:limit].rsplit(" ", 1)[0] + " ..."
    return f"{type(error).__name__}: {line}"


DOWNLOAD_HOST = ("www.robots.ox.ac.uk", 80)


def _reachable(address: tuple[str, int], timeout: float = 5.0) -> str:
    """"" if a TCP connection to ``address`` opens, else the reason it does not."""
    try:
        socket.create_connection(address, timeout=timeout).close()
    except OSError as error:
        return error_reason(error)
    return ""


def _tfds_load(name: str, split: str, **kwargs):
    """``tfds.load`` of a prepared data set, downloading it only when its server answers.

    TFDS retries a failed download for minutes; checking the server first
    lets an offline user hear at once what to do.
    """
    import tensorflow_datasets as tfds

    builder = f"{TFDS_BUILDER}/{name}"
    folder = os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
    offline_hint = (f"without internet, pass --data-dir with a folder of class subfolders, or run `tfds build {builder}` "
                    f"on a connected machine and copy its folder here (set TFDS_DATA_DIR if it is not ~/tensorflow_datasets)")
    try:
        return tfds.load(builder, split=split, as_supervised=True, shuffle_files=False, download=False, **kwargs)
    except Exception:  # not prepared yet (TFDS raises AssertionError or DatasetNotFoundError)
        pass
    unreachable = _reachable(DOWNLOAD_HOST)
    if unreachable:
        raise DataError(f"{builder} is not prepared in {folder} and its download server {DOWNLOAD_HOST[0]} "
                        f"cannot be reached ({unreachable}); {offline_hint}")
    try:
        return tfds.load(builder, split=split, as_supervised=True, shuffle_files=False, **kwargs)
    except Exception as error:  # a failed download surfaces as many exception types (URL, import, archive)
        raise DataError(f"TFDS could not download and prepare {builder} ({error_reason(error)}); {offline_hint}") from None


def _labels_of(dataset) -> np.ndarray:
    batches = [labels for _, labels in dataset.batch(4096).as_numpy_iterator()]
    return np.concatenate(batches).astype(np.int32) if batches else np.zeros(0, np.int32)


def decathlon_origin(name: str) -> str:
    """Where a Decathlon target's ``ImageSet`` comes from, as ``ImageSet.origin`` states it."""
    return f"tfds {TFDS_BUILDER}/{name}"


def load_decathlon(name: str) -> ImageSet:
    """Load a Visual Decathlon target through TFDS ``visual_domain_decathlon/<name>``.

    Trains on ``train`` and evaluates on ``validation``: the Decathlon's
    ``test`` split has no labels (label -1). Images stay JPEG-encoded
    (``SkipDecoding``) until the pipeline decodes them.
    """
    import tensorflow_datasets as tfds

    check_decathlon_name(name)
    streams, labels = {}, {}
    for split in SPLITS:
        streams[split], info = _tfds_load(name, split, decoders={"image": tfds.decode.SkipDecoding()}, with_info=True)
        labels[split] = _labels_of(streams[split])
    class_names = list(info.features["label"].names)
    image_set = ImageSet(name, decathlon_origin(name), class_names, labels,
                         lambda split: _with_int32_labels(streams[split]))
    _check_labels(image_set)
    return image_set


def _with_int32_labels(dataset):
    import tensorflow as tf

    return dataset.map(lambda image, label: (image, tf.cast(label, tf.int32)))


def _check_labels(image_set: ImageSet) -> None:
    for split in SPLITS:
        labels = image_set.labels[split]
        if len(labels) == 0:
            raise DataError(f"the {split} split of {image_set.origin} holds no images")
        if labels.min() < 0 or labels.max() >= image_set.num_classes:
            raise DataError(
                f"the {split} split of {image_set.origin} has labels outside 0-{image_set.num_classes - 1} "
                "(unlabelled images?); train on labelled splits only"
            )
