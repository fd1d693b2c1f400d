"""Target data sets for transfer learning: the Visual Decathlon (TFDS) or a folder of class subfolders.

Both sources give an ``ImageSet``: class names, the labels of each split and a
``tf.data`` stream of encoded images (JPEG/PNG bytes) with their labels. The
images are decoded only in the pipeline, after shuffling, so shuffling a split
holds its compressed bytes, not its pixels.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.core.cli import UserError

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
SPLITS = ("train", "validation")
IMAGE_TYPES = {  # suffix: what tf.io.decode_image reads, with the file's first bytes
    ".jpg": ("JPEG", (b"\xff\xd8\xff",)),
    ".jpeg": ("JPEG", (b"\xff\xd8\xff",)),
    ".png": ("PNG", (b"\x89PNG\r\n\x1a\n",)),
    ".bmp": ("BMP", (b"BM",)),
    ".gif": ("GIF", (b"GIF87a", b"GIF89a")),
}
MIN_IMAGE_SIZE = 32  # keras.applications.ResNet50(include_top=False) needs at least 32x32


@dataclass
class ImageSet:
    """A classification data set: class names, labels per split and a stream of encoded images.

    ``labels[split]`` is an ``int32`` array in the order ``encoded(split)``
    yields its (bytes, label) pairs; ``origin`` says where the data came from;
    ``files[split]`` names each image's file, in the same order, when the
    images come from files.
    """

    name: str
    origin: str
    class_names: list[str]
    labels: dict[str, np.ndarray]
    _encoded: Callable[[str], object] = field(repr=False)
    files: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def encoded(self, split: str):
        """``tf.data.Dataset`` of (encoded image bytes, int32 label), in a fixed order."""
        return self._encoded(split)

    def size(self, split: str) -> int:
        return len(self.labels[split])


# --------------------------------------------------------------------------- Visual Decathlon (TFDS)

def check_decathlon_name(name: str) -> None:
    """Raise ``UserError`` unless ``name`` is a Decathlon target this project trains on."""
    if name in EXCLUDED:
        raise UserError(f"--dataset {name} is refused: {EXCLUDED[name]}; choose one of {', '.join(DECATHLON)}")
    if name not in DECATHLON:
        raise UserError(
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
        raise UserError(f"{builder} is not prepared in {folder} and its download server {DOWNLOAD_HOST[0]} "
                        f"cannot be reached ({unreachable}); {offline_hint}")
    try:
        return tfds.load(builder, split=split, as_supervised=True, shuffle_files=False, **kwargs)
    except Exception as error:  # a failed download surfaces as many exception types (URL, import, archive)
        raise UserError(f"TFDS could not download and prepare {builder} ({error_reason(error)}); {offline_hint}") from None


def _labels_of(dataset) -> np.ndarray:
    batches = [labels for _, labels in dataset.batch(4096).as_numpy_iterator()]
    return np.concatenate(batches).astype(np.int32) if batches else np.zeros(0, np.int32)


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
    image_set = ImageSet(name, f"tfds {TFDS_BUILDER}/{name}", class_names, labels,
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
            raise UserError(f"the {split} split of {image_set.origin} holds no images")
        if labels.min() < 0 or labels.max() >= image_set.num_classes:
            raise UserError(
                f"the {split} split of {image_set.origin} has labels outside 0-{image_set.num_classes - 1} "
                "(unlabelled images?); train on labelled splits only"
            )


# --------------------------------------------------------------------------- a folder of class subfolders

def _image_type_error(path: Path) -> str | None:
    """Why ``path`` is not an image ``tf.io.decode_image`` can read, or None."""
    kind, signatures = IMAGE_TYPES[path.suffix.lower()]
    try:
        with open(path, "rb") as stream:
            head = stream.read(8)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not head.startswith(signatures):
        return f"is not a {kind} image (its first bytes do not match)" if head else "is empty"
    return None


def list_class_folder(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """Image files of each class subfolder of ``folder``: ``{class name: sorted paths}``.

    Class names are the subfolder names, sorted; hidden entries and files that
    are not .jpg/.jpeg/.png/.bmp/.gif are ignored. Raises ``UserError`` for a
    missing or unreadable folder, a class without images, an image file whose
    content is not what its suffix says, or fewer than two classes.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise UserError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise UserError(f"data folder {root} is not a folder; pass a folder with one subfolder of images per class")
    try:
        subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        classes = {
            sub.name: sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_TYPES and not p.name.startswith("."))
            for sub in subfolders
        }
    except OSError as error:
        raise UserError(f"cannot read data folder {error.filename or root}: {error.strerror or error}") from None
    if not classes:
        raise UserError(
            f"data folder {root} has no class subfolders; put each class's images in a subfolder named after the class"
        )
    for name, paths in classes.items():
        if not paths:
            raise UserError(
                f"class folder {root / name} holds no .jpg, .jpeg, .png, .bmp or .gif images; add some or remove the folder"
            )
        for path in paths:
            reason = _image_type_error(path)
            if reason:
                raise UserError(f"image {path} {reason}; remove or replace it")
    if len(classes) < 2:
        raise UserError(
            f"data folder {root} has one class only ({next(iter(classes))}); a classifier needs at least two class subfolders"
        )
    return classes


def stratified_split(counts: list[int], fraction: float, seed: int) -> list[np.ndarray]:
    """Per class, the positions (0..count-1) held out for validation.

    Each class gives ``min(count - 1, round(count * fraction))`` images, picked
    by a permutation seeded with ``seed``, so every class keeps at least one
    training image and the split is the same on every run.
    """
    rng = np.random.default_rng(seed)
    held_out = []
    for count in counts:
        n_val = min(count - 1, int(round(count * fraction)))
        held_out.append(np.sort(rng.permutation(count)[:n_val]))
    return held_out


def load_folder(data_dir, val_dir=None, val_fraction: float = 0.2, seed: int = 42, name: str | None = None) -> ImageSet:
    """An ``ImageSet`` from ``data_dir/<class>/<image>`` files.

    Validation images come from ``val_dir`` (same class subfolder names, a
    subset of the training classes is allowed) or, without it, from a seeded
    stratified split of ``val_fraction`` of each class (``stratified_split``).
    """
    train_classes = list_class_folder(data_dir)
    class_names = list(train_classes)
    files: dict[str, list[Path]] = {"train": [], "validation": []}
    labels: dict[str, list[int]] = {"train": [], "validation": []}
    if val_dir is not None:
        val_classes = list_class_folder(val_dir)
        unknown = [c for c in val_classes if c not in train_classes]
        if unknown:
            raise UserError(
                f"validation folder {val_dir} has class {unknown[0]!r}, which is not among the training classes of {data_dir}"
            )
        for split, classes in (("train", train_classes), ("validation", val_classes)):
            for class_name, paths in classes.items():
                files[split] += paths
                labels[split] += [class_names.index(class_name)] * len(paths)
    else:
        held_out = stratified_split([len(p) for p in train_classes.values()], val_fraction, seed)
        for label, (paths, val_positions) in enumerate(zip(train_classes.values(), held_out)):
            is_val = np.zeros(len(paths), bool)
            is_val[val_positions] = True
            for path, to_val in zip(paths, is_val):
                split = "validation" if to_val else "train"
                files[split].append(path)
                labels[split].append(label)
        if not files["validation"]:
            raise UserError(
                f"--val-fraction {val_fraction} holds out no image of {data_dir}; raise it or pass --val-dir"
            )

    def encoded(split: str):
        import tensorflow as tf

        paths = tf.constant([str(p) for p in files[split]])
        split_labels = tf.constant(labels[split], dtype=tf.int32)
        return tf.data.Dataset.from_tensor_slices((paths, split_labels)).map(
            lambda path, label: (tf.io.read_file(path), label), num_parallel_calls=tf.data.AUTOTUNE
        )

    origin = f"folder {Path(data_dir).expanduser()}" + (f" (validation {Path(val_dir).expanduser()})" if val_dir else
                                                       f" (validation: seeded {val_fraction:g} of each class)")
    return ImageSet(
        name or Path(data_dir).expanduser().resolve().name,
        origin,
        class_names,
        {split: np.asarray(labels[split], np.int32) for split in SPLITS},
        encoded,
        {split: [str(path) for path in files[split]] for split in SPLITS},
    )


def undecodable_images(image_set: ImageSet, split: str) -> list[int]:
    """Positions of the images of ``split`` that cannot be read or decoded as the pipeline decodes them."""
    import tensorflow as tf

    def decoded(position, element):
        image = tf.io.decode_image(element[0], channels=3, expand_animations=False)
        return position, tf.shape(image)[0]

    # Elements whose reading or decoding fails are dropped; the positions missing afterwards are the bad images.
    good = (image_set.encoded(split).enumerate().map(decoded, num_parallel_calls=tf.data.AUTOTUNE)
            .ignore_errors().map(lambda position, height: position).batch(4096))
    kept = np.zeros(image_set.size(split), bool)
    for positions in good.as_numpy_iterator():
        kept[positions] = True
    return [int(i) for i in np.flatnonzero(~kept)]


def check_images(image_set: ImageSet) -> None:
    """Decode every image of both splits before any training; a ``UserError`` names the first bad one.

    The sentence names the first image that cannot be decoded (the first
    file in name order, or the first position of the training split, then of
    the validation split) and how many of the images cannot.
    """
    bad = [image_set.files[split][i] if image_set.files.get(split) else f"{i} of the {split} split"
           for split in SPLITS for i in undecodable_images(image_set, split)]
    if not bad:
        return
    first = min(bad) if image_set.files else bad[0]
    total = sum(image_set.size(split) for split in SPLITS)
    raise UserError(f"image {first} cannot be decoded, and {len(bad)} of the {total:,} images in all cannot; "
                    "remove or replace them before training")


# --------------------------------------------------------------------------- describing a data set
