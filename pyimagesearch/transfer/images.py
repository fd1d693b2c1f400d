"""Images for transfer learning: the ``ImageSet`` both sources give, and folders of class subfolders.

An ``ImageSet`` holds the class names, the labels of each split and a
``tf.data`` stream of encoded images (JPEG/PNG bytes) with their labels. The
images are decoded only in the pipeline, after shuffling, so shuffling a split
holds its compressed bytes, not its pixels.

Problems with the data that its user can fix (a missing folder, a class
without images, a file that is not the image its suffix says, an image too
large to decode) raise ``DataError``, a ``ValueError`` whose message is one
sentence; the command line prints it as its error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

SPLITS = ("train", "validation")  # the splits a data set comes with; ``data.with_selection`` adds "selection"
SOURCES = ("decathlon", "folder", "standin")  # where an ImageSet's images come from (records.transfer)
IMAGE_TYPES = {  # suffix: what tf.io.decode_image reads, with the file's first bytes
    ".jpg": ("JPEG", (b"\xff\xd8\xff",)),
    ".jpeg": ("JPEG", (b"\xff\xd8\xff",)),
    ".png": ("PNG", (b"\x89PNG\r\n\x1a\n",)),
    ".bmp": ("BMP", (b"BM",)),
    ".gif": ("GIF", (b"GIF87a", b"GIF89a")),
}
# An image is decoded whole before it is resized: 40 megapixels are 120 MB of RGB bytes (and 480 MB as float32).
MAX_IMAGE_PIXELS = 40_000_000


class DataError(ValueError):
    """A data set that cannot be used as it is; ``str(error)`` is one sentence naming the file or folder."""


@dataclass
class ImageSet:
    """A classification data set: class names, labels per split and a stream of encoded images.

    ``labels[split]`` is an ``int32`` array in the order ``encoded(split)``
    yields its (bytes, label) pairs; ``origin`` says where the data came from
    and ``source`` which kind of data set it is (one of ``SOURCES``);
    ``files[split]`` names each image's file, in the same order, when the
    images come from files. ``selection_split`` says how the "selection"
    split, when there is one, was held out.
    """

    name: str
    origin: str
    class_names: list[str]
    labels: dict[str, np.ndarray]
    _encoded: Callable[[str], object] = field(repr=False)
    files: dict[str, list[str]] = field(default_factory=dict, repr=False)
    source: str = "folder"
    selection_split: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def encoded(self, split: str):
        """``tf.data.Dataset`` of (encoded image bytes, int32 label), in a fixed order."""
        return self._encoded(split)

    def size(self, split: str) -> int:
        return len(self.labels[split])


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
    return _size_error(path)


def _size_error(path: Path) -> str | None:
    """Why ``path`` is too large to decode (its header's width x height over ``MAX_IMAGE_PIXELS``), or None.

    Only the header is read (Pillow opens lazily); a header Pillow cannot read
    is left to the decoder, which ``check_images`` runs on every image.
    """
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings(), Image.open(path) as image:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            width, height = image.size
    except Image.DecompressionBombError:
        width = height = MAX_IMAGE_PIXELS
    except Exception:  # a damaged file: check_images names it when it cannot be decoded
        return None
    if width * height > MAX_IMAGE_PIXELS:
        return (f"is {width:,} x {height:,} pixels, over the limit of {MAX_IMAGE_PIXELS:,} pixels an image may have "
                "(it is decoded whole before it is resized); shrink it")
    return None


def list_class_folder(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """Image files of each class subfolder of ``folder``: ``{class name: sorted paths}``.

    Class names are the subfolder names, sorted; hidden entries and files that
    are not .jpg/.jpeg/.png/.bmp/.gif are ignored. Raises ``DataError`` for a
    missing or unreadable folder, a class without images, an image file whose
    content is not what its suffix says, or fewer than two classes.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DataError(f"data folder {root} is not a folder; pass a folder with one subfolder of images per class")
    try:
        subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        classes = {
            sub.name: sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_TYPES and not p.name.startswith("."))
            for sub in subfolders
        }
    except OSError as error:
        raise DataError(f"cannot read data folder {error.filename or root}: {error.strerror or error}") from None
    if not classes:
        raise DataError(
            f"data folder {root} has no class subfolders; put each class's images in a subfolder named after the class"
        )
    for name, paths in classes.items():
        if not paths:
            raise DataError(
                f"class folder {root / name} holds no .jpg, .jpeg, .png, .bmp or .gif images; add some or remove the folder"
            )
        for path in paths:
            reason = _image_type_error(path)
            if reason:
                raise DataError(f"image {path} {reason}; remove or replace it")
    if len(classes) < 2:
        raise DataError(
            f"data folder {root} has one class only ({next(iter(classes))}); a classifier needs at least two class subfolders"
        )
    return classes


def stratified_split(counts: list[int], fraction: float, seed: int, minimum: int = 0) -> list[np.ndarray]:
    """Per class, the positions (0..count-1) held out for validation.

    Each class gives ``min(count - 1, max(minimum, round(count * fraction)))``
    images, picked by a permutation seeded with ``seed``, so every class keeps
    at least one training image and the split is the same on every run.
    """
    rng = np.random.default_rng(seed)
    held_out = []
    for count in counts:
        n_val = min(count - 1, max(minimum, int(round(count * fraction))))
        held_out.append(np.sort(rng.permutation(count)[:n_val]))
    return held_out


def folder_origin(data_dir, val_dir=None, val_fraction: float = 0.2) -> str:
    """Where a folder's ``ImageSet`` comes from, as ``ImageSet.origin`` states it (known before reading it)."""
    validation = f" (validation {Path(val_dir).expanduser()})" if val_dir else f" (validation: seeded {val_fraction:g} of each class)"
    return f"folder {Path(data_dir).expanduser()}{validation}"


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
            raise DataError(
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
            raise DataError(
                f"--val-fraction {val_fraction} holds out no image of {data_dir}; raise it or pass --val-dir"
            )

    def encoded(split: str):
        import tensorflow as tf

        paths = tf.constant([str(p) for p in files[split]])
        split_labels = tf.constant(labels[split], dtype=tf.int32)
        return tf.data.Dataset.from_tensor_slices((paths, split_labels)).map(
            lambda path, label: (tf.io.read_file(path), label), num_parallel_calls=tf.data.AUTOTUNE
        )

    return ImageSet(
        name or Path(data_dir).expanduser().resolve().name,
        folder_origin(data_dir, val_dir, val_fraction),
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
    """Decode every image of both splits before any training; a ``DataError`` names the first bad one.

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
    raise DataError(f"image {first} cannot be decoded, and {len(bad)} of the {total:,} images in all cannot; "
                    "remove or replace them before training")
