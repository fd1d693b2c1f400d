"""Target data sets for transfer learning: the Visual Decathlon (TFDS) or a folder of class subfolders.

Both sources give an ``ImageSet`` (``transfer.images``), to which
``with_selection`` adds the "selection" split that makes the choices: class
names, the labels of each split and a ``tf.data`` stream of encoded images (JPEG/PNG
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

SELECTION_FRACTION = 0.1  # of each class of the training split, held out for the choices
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


# --------------------------------------------------------------------------- the selection split

def selection_origin(fraction: float) -> str:
    """How ``with_selection`` holds out the selection images, as the origin of a data set states it."""
    return f"selection: a seeded {fraction:g} of each class of the training split"


def with_selection(image_set: ImageSet, fraction: float = SELECTION_FRACTION, seed: int = 42,
                   required: bool = True) -> ImageSet:
    """``image_set`` with a "selection" split: a seeded, stratified ``fraction`` of each class of "train".

    The selection images make the choices (the best LR of a mode, the
    winner), so that validation, where the figures are reported, is read
    once, after them: the Decathlon's test labels are withheld, so its
    validation split is the reported one (Reference section 9). Positions
    are drawn by ``stratified_split``: every class with two or more training
    images gives at least one and keeps at least one; both parts keep the
    training split's order. When nothing can be held out: ``DataError``, or
    without ``required`` (a description) the image set as it is.
    """
    import tensorflow as tf

    labels = image_set.labels["train"]
    held = np.zeros(len(labels), bool)
    classes = [np.flatnonzero(labels == label) for label in range(image_set.num_classes)]
    for positions, chosen in zip(classes, stratified_split([len(p) for p in classes], fraction, seed, minimum=1)):
        held[positions[chosen]] = True
    if not held.any() and not required:
        return image_set
    if not held.any():
        raise DataError(f"no class of {image_set.origin} has the 2 training images it needs to hold one out for the "
                        "choices (the selection split); add images")
    train_encoded = image_set.encoded

    def encoded(split: str):
        if split not in ("train", "selection"):
            return train_encoded(split)
        keep = tf.constant(held if split == "selection" else ~held)
        return (train_encoded("train").enumerate().filter(lambda position, element: keep[position])
                .map(lambda position, element: element))

    files = dict(image_set.files)
    if "train" in files:
        files = {**files, "train": [f for f, h in zip(files["train"], held) if not h],
                 "selection": [f for f, h in zip(files["train"], held) if h]}
    return ImageSet(image_set.name, image_set.origin, image_set.class_names,
                    {**image_set.labels, "train": labels[~held], "selection": labels[held]}, encoded, files,
                    image_set.source, selection_origin(fraction))


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
                         lambda split: _with_int32_labels(streams[split]), source="decathlon")
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
