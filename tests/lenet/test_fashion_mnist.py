"""IDX parsing and Fashion-MNIST loading on files the tests write."""

import gzip
import struct

import numpy as np
import pytest

from pyimagesearch.lenet import data as fm
from pyimagesearch.lenet.data import DataError


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_set(folder, n_train=12, n_test=5, compress=True, seed=0):
    """Write a complete, valid four-file data set; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)),
        "train_labels": rng.integers(0, 10, n_train),
        "test_images": rng.integers(0, 256, (n_test, 28, 28)),
        "test_labels": rng.integers(0, 10, n_test),
    }
    for key, array in arrays.items():
        magic = fm.IMAGE_MAGIC if "images" in key else fm.LABEL_MAGIC
        data = idx_bytes(array, magic)
        name = fm.FILES[key] + (".gz" if compress else "")
        (folder / name).write_bytes(gzip.compress(data) if compress else data)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_reads_valid_files_gzip_or_raw(tmp_path, compress):
    arrays = write_set(tmp_path, compress=compress)
    (x_train, y_train), (x_test, y_test), source = fm.load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(x_train, arrays["train_images"])
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    np.testing.assert_array_equal(x_test, arrays["test_images"])
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert source == str(tmp_path)


def test_bad_magic_names_file_and_numbers(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(4), fm.IMAGE_MAGIC - 2))
    with pytest.raises(DataError, match=r"labels has magic number 0x00000801 but an image file needs 0x00000803"):
        fm.read_images(path)
    path.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(DataError, match="not an IDX file"):
        fm.read_labels(path)


def test_truncated_and_overlong_files(tmp_path):
    path = tmp_path / "images.gz"
    data = idx_bytes(np.zeros((3, 28, 28)), fm.IMAGE_MAGIC)
    path.write_bytes(gzip.compress(data[:-10]))
    with pytest.raises(DataError, match=r"images.gz is truncated: its header announces 2,352 bytes .* holds 2,342"):
        fm.read_images(path)
    path.write_bytes(gzip.compress(data + b"\x00"))
    with pytest.raises(DataError, match="longer than its header says"):
        fm.read_images(path)
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(DataError, match="too short"):
        fm.read_images(path)


def test_damaged_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100), fm.LABEL_MAGIC))[:30])
    with pytest.raises(DataError, match="damaged gzip"):
        fm.read_labels(path)


def test_wrong_image_size(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(np.zeros((2, 32, 32)), fm.IMAGE_MAGIC))
    with pytest.raises(DataError, match=r"\(32, 32\) pixels, expected 28x28"):
        fm.read_images(path)


def test_label_out_of_range(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.array([1, 9, 10, 3]), fm.LABEL_MAGIC))
    with pytest.raises(DataError, match="label 10 at position 2, outside 0-9"):
        fm.read_labels(path)


def test_image_and_label_counts_must_match(tmp_path):
    write_set(tmp_path)
    labels = np.zeros(11)
    (tmp_path / (fm.FILES["train_labels"] + ".gz")).write_bytes(gzip.compress(idx_bytes(labels, fm.LABEL_MAGIC)))
    with pytest.raises(DataError, match="holds 12 images but .* holds 11 labels"):
        fm.load_fashion_mnist(tmp_path)


def test_explicit_folder_must_hold_all_files(tmp_path):
    write_set(tmp_path)
    (tmp_path / (fm.FILES["test_labels"] + ".gz")).unlink()
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte"):
        fm.load_fashion_mnist(tmp_path)


def test_search_order_env_then_keras_cache(tmp_path, monkeypatch):
    env_dir, keras_home = tmp_path / "env", tmp_path / "keras"
    env_dir.mkdir()
    cache = keras_home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    write_set(env_dir, n_train=7, seed=1)
    write_set(cache, n_train=9, seed=2)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(env_dir))
    assert len(fm.load_fashion_mnist()[0][0]) == 7
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert len(fm.load_fashion_mnist()[0][0]) == 9


def test_download_failure_says_what_to_do(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "nowhere")

    def offline():
        raise Exception("URL fetch failure")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DataError, match="download failed .* dataset-fashion-mnist"):
        fm.load_fashion_mnist()


def test_validation_split_is_seeded_and_disjoint():
    x = np.arange(100)
    y = x % 10
    a = fm.split_validation(x, y, 0.1, seed=3)
    b = fm.split_validation(x, y, 0.1, seed=3)
    c = fm.split_validation(x, y, 0.1, seed=4)
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[2], c[2])
    assert len(a[0]) == 90 and len(a[2]) == 10
    assert sorted(np.concatenate([a[0], a[2]]).tolist()) == list(range(100))


def test_load_splits_scales_and_limits(tmp_path):
    arrays = write_set(tmp_path, n_train=20, n_test=6)
    data = fm.load_splits(tmp_path, val_fraction=0.25, seed=0, limit=16)
    assert data.sizes() == {"train": 12, "val": 4, "test": 6}
    assert data.x_train.shape == (12, 28, 28, 1) and data.x_train.dtype == np.float32
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    np.testing.assert_allclose(data.x_test[..., 0] * 255, arrays["test_images"], atol=1e-4)


def test_real_debian_data_set_is_the_original():
    (x_train, y_train), (x_test, y_test), _ = fm.load_fashion_mnist(fm.DEBIAN_DIR)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
