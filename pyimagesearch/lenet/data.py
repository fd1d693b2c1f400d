"""Fashion-MNIST: reading the IDX files, splits and ``tf.data`` pipelines.

The four original files are looked for, in order, in

1. an explicit folder (``--data-dir`` or the ``FASHION_MNIST_DIR`` variable),
2. Keras' download cache ``$KERAS_HOME/datasets/fashion-mnist`` (``~/.keras``),
3. ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``),

and otherwise downloaded with ``keras.datasets.fashion_mnist.load_data()``.
Each file may be gzip-compressed (``.gz``) or raw.

IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian int32 magic
number whose third byte is the element type (0x08 = unsigned byte) and fourth
byte the number of dimensions, then one big-endian int32 per dimension, then
the data. Images use magic 0x00000803 (N x 28 x 28), labels 0x00000801 (N).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyimagesearch.core.cli import UserError, bounded_int, fraction, positive_int

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
IMAGE_SIZE = 28
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
OFFLINE_HINT = (
    "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
    "or pass --data-dir with the four IDX files"
)


class DataError(UserError):
    """A data file is missing or not what it should be."""


def add_data_arguments(parser) -> None:
    """The flags every Fashion-MNIST script shares: data folder, subset, validation split, seed."""
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder with the four Fashion-MNIST IDX files (default: search, see README)")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="use only the first N training and test images (quick runs)")
    parser.add_argument("--val-fraction", type=fraction, default=0.1,
                        help="share of the training set held out for validation (not trained on)")
    parser.add_argument("--seed", type=bounded_int(0, 2**32 - 1, "the seed"), default=42,
                        help="seed for weights, split and shuffling")


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path} is a damaged gzip file ({error})") from None
    return raw


def read_idx(path: str | os.PathLike) -> tuple[int, np.ndarray]:
    """Read an IDX file of unsigned bytes; return ``(magic, array)``.

    Raises ``DataError`` naming the file when the header is malformed or the
    amount of data does not match the dimensions the header announces.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path} is too short to hold an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    zeros, dtype_code, ndim = data[0:2], data[2], data[3]
    if zeros != b"\x00\x00" or dtype_code != 0x08 or ndim == 0:
        raise DataError(f"{path} has magic number 0x{magic:08x}, which is not an IDX file of unsigned bytes")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(data) - header
    if actual != expected:
        fault = "truncated" if actual < expected else "longer than its header says"
        raise DataError(f"{path} is {fault}: its header announces {expected:,} bytes of data for shape {shape} but it holds {actual:,}")
    return magic, np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_images(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX image file: ``uint8`` array of shape (N, 28, 28)."""
    magic, images = read_idx(path)
    if magic != IMAGE_MAGIC:
        raise DataError(f"{path} has magic number 0x{magic:08x} but an image file needs 0x{IMAGE_MAGIC:08x}")
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{path} holds images of {images.shape[1:]} pixels, expected 28x28")
    return images


def read_labels(path: str | os.PathLike, num_classes: int = len(CLASS_NAMES)) -> np.ndarray:
    """Read an IDX label file: ``uint8`` array of shape (N,) with values below ``num_classes``."""
    magic, labels = read_idx(path)
    if magic != LABEL_MAGIC:
        raise DataError(f"{path} has magic number 0x{magic:08x} but a label file needs 0x{LABEL_MAGIC:08x}")
    if labels.size and labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DataError(f"{path} has label {labels[bad]} at position {bad}, outside 0-{num_classes - 1}")
    return labels


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets" / "fashion-mnist"


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[tuple[Path, bool]]:
    """Folders to search, in order, each with whether the user named it explicitly."""
    explicit = data_dir or os.environ.get("FASHION_MNIST_DIR")
    if explicit:
        return [(Path(explicit).expanduser(), True)]
    return [(_keras_cache(), False), (DEBIAN_DIR, False)]


def find_files(data_dir: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """Paths of the four files in the first folder that has them all, or None.

    An explicitly named folder must hold all four files, otherwise ``DataError``.
    """
    for folder, explicit in candidate_dirs(data_dir):
        paths = {key: _file_in(folder, stem) for key, stem in FILES.items()}
        if all(paths.values()):
            return paths
        if explicit:
            missing = ", ".join(FILES[key] + "[.gz]" for key, path in paths.items() if path is None)
            raise DataError(f"data folder {folder} lacks {missing}")
    return None


def _check_pair(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} labels")


def load_fashion_mnist(data_dir: str | os.PathLike | None = None):
    """Load Fashion-MNIST as ``((x_train, y_train), (x_test, y_test), source)``.

    Images are ``uint8`` (N, 28, 28), labels ``uint8`` (N,); ``source`` says
    where they came from. Falls back to Keras' download when no folder has
    the files; offline that fails with a ``DataError`` that says what to do.
    """
    paths = find_files(data_dir)
    if paths is None:
        try:
            import keras

            (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
        except Exception as error:  # Keras raises a bare Exception on URL failures.
            searched = ", ".join(str(folder) for folder, _ in candidate_dirs())
            raise DataError(
                f"Fashion-MNIST is not in {searched} and the download failed ({type(error).__name__}); {OFFLINE_HINT}"
            ) from None
        return (x_train, y_train), (x_test, y_test), "keras download"
    x_train, y_train = read_images(paths["train_images"]), read_labels(paths["train_labels"])
    x_test, y_test = read_images(paths["test_images"]), read_labels(paths["test_labels"])
    _check_pair(x_train, y_train, paths["train_images"], paths["train_labels"])
    _check_pair(x_test, y_test, paths["test_images"], paths["test_labels"])
    return (x_train, y_train), (x_test, y_test), str(paths["train_images"].parent)


def to_model_input(images: np.ndarray) -> np.ndarray:
    """``uint8`` (N, 28, 28) to ``float32`` (N, 28, 28, 1) scaled to [0, 1]."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Hold out a seeded random ``fraction`` of ``(x, y)``: ``(x_train, y_train, x_val, y_val)``."""
    if not 0 <= fraction < 1:
        raise ValueError(f"Argument `fraction` must be in [0, 1). Received: fraction={fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


@dataclass
class FashionMNIST:
    """Model-ready splits: images ``float32`` (N, 28, 28, 1) in [0, 1], labels ``int32``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    num_classes = len(CLASS_NAMES)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "val": len(self.x_val), "test": len(self.x_test)}


def load_splits(data_dir=None, val_fraction: float = 0.1, seed: int = 42, limit: int | None = None) -> FashionMNIST:
    """Load Fashion-MNIST with a seeded validation split taken from the training set.

    ``limit`` keeps only the first ``limit`` training images (before the split)
    and the first ``limit`` test images, for quick runs. The test set is never
    used for choices, only for the final report.
    """
    (x_train, y_train), (x_test, y_test), source = load_fashion_mnist(data_dir)
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    x_tr, y_tr, x_val, y_val = split_validation(x_train, y_train, val_fraction, seed)
    if len(x_tr) == 0:
        raise UserError(f"no training images left after holding out {val_fraction:.0%} for validation; raise --limit")
    return FashionMNIST(
        to_model_input(x_tr), y_tr.astype(np.int32),
        to_model_input(x_val), y_val.astype(np.int32),
        to_model_input(x_test), y_test.astype(np.int32),
        source,
    )
