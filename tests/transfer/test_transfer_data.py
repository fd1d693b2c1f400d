"""Transfer-learning data: folders, TFDS (mocked), the resizing pipeline, preprocessing, description, summary.

No ResNet50 here: these tests run in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

from pyimagesearch.transfer import data as decathlon  # noqa: E402
from pyimagesearch.transfer.pipeline import make_pipeline, preprocess, resize_side  # noqa: E402
from pyimagesearch.transfer.describe import describe_labels, sample_positions  # noqa: E402
from pyimagesearch.transfer.run import history_recorder, multistep_scheduler  # noqa: E402
from pyimagesearch.transfer.settings import MODES, TASK_LRS, TransferSettings, resolve_milestones  # noqa: E402
from pyimagesearch.transfer.sweep import sweep  # noqa: E402
from pyimagesearch.transfer.images import DataError  # noqa: E402
from pyimagesearch.lr_policies import multistep_lr  # noqa: E402
from pyimagesearch.core.outputs import read_csv  # noqa: E402

BGR_MEANS = np.array([103.939, 116.779, 123.68], np.float32)


def caffe_reference(images_rgb: np.ndarray) -> np.ndarray:
    """ResNet50 preprocessing written out: RGB -> BGR, minus the ImageNet means, in float32."""
    return images_rgb.astype(np.float32)[..., ::-1] - BGR_MEANS


def write_image(path: Path, image: np.ndarray) -> Path:
    encode = tf.io.encode_png if path.suffix == ".png" else tf.io.encode_jpeg
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(image).numpy())
    return path


def encoded_dataset(images: list[np.ndarray]):
    data = [tf.io.encode_png(image).numpy() for image in images]
    return tf.data.Dataset.from_tensor_slices((data, np.arange(len(images), dtype=np.int32)))


def first_batch(dataset):
    images, labels = next(iter(dataset))
    return images.numpy(), labels.numpy()


# --------------------------------------------------------------------------- preprocessing

def test_preprocess_leaves_float_input_unchanged_and_matches_caffe():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 5, 6, 3)).astype(np.float32)
    before = images.copy()
    out = preprocess(images)
    np.testing.assert_array_equal(images, before)
    np.testing.assert_array_equal(out, caffe_reference(before))


def test_preprocess_does_not_wrap_uint8_arrays_or_tensors():
    images = np.array([[[[0, 128, 255]]]], np.uint8)
    expected = caffe_reference(images)  # [255 - 103.939, 128 - 116.779, 0 - 123.68]
    np.testing.assert_array_equal(preprocess(images), expected)
    np.testing.assert_array_equal(np.asarray(preprocess(tf.constant(images))), expected)
    np.testing.assert_array_equal(images, [[[[0, 128, 255]]]])


# --------------------------------------------------------------------------- pipeline geometry

def test_resize_side_keeps_the_decathlon_ratio():
    assert [resize_side(s) for s in (32, 64, 224)] == [36, 72, 252]


def test_pipeline_centre_crops_an_image_already_at_the_resize_side():
    image = np.random.default_rng(1).integers(0, 256, (72, 100, 3), dtype=np.uint8)
    images, labels = first_batch(make_pipeline(encoded_dataset([image]), 64, 1))
    # shorter side 72 = resize_side(64): no resize, centre crop at (72-64)//2 = 4 and (100-64)//2 = 18
    np.testing.assert_array_equal(images[0], caffe_reference(image[4:68, 18:82]))
    assert labels.tolist() == [0]


def test_pipeline_resizes_the_shorter_side_of_small_and_tall_images():
    small = np.full((18, 25, 3), (10, 20, 30), np.uint8)
    tall = np.full((90, 40, 3), (200, 100, 50), np.uint8)
    images, _ = first_batch(make_pipeline(encoded_dataset([small, tall]), 32, 2))
    assert images.shape == (2, 32, 32, 3)
    # a uniform image stays uniform under any resize and crop
    np.testing.assert_allclose(images[0], np.broadcast_to(caffe_reference(small[:1, :1])[0, 0], (32, 32, 3)), atol=1e-3)
    np.testing.assert_allclose(images[1], np.broadcast_to(caffe_reference(tall[:1, :1])[0, 0], (32, 32, 3)), atol=1e-3)


def _window_offsets(crop: np.ndarray, image: np.ndarray) -> list[tuple[int, int]]:
    size = crop.shape[0]
    return [(top, left) for top in range(image.shape[0] - size + 1) for left in range(image.shape[1] - size + 1)
            if np.array_equal(crop, image[top:top + size, left:left + size])]


def test_augmented_crops_are_windows_reproducible_per_seed_and_new_each_epoch():
    image = np.random.default_rng(2).integers(0, 256, (36, 50, 3), dtype=np.uint8)  # 36 = resize_side(32)
    reference = caffe_reference(image)
    pipeline = make_pipeline(encoded_dataset([image] * 6), 32, 6, augment="crop-flip", seed=3)
    epoch1, _ = first_batch(pipeline)
    epoch2, _ = first_batch(pipeline)
    again, _ = first_batch(make_pipeline(encoded_dataset([image] * 6), 32, 6, augment="crop-flip", seed=3))
    np.testing.assert_array_equal(epoch1, again)
    assert not np.array_equal(epoch1, epoch2)
    flipped = 0
    for crop in np.concatenate([epoch1, epoch2]):
        plain = _window_offsets(crop, reference)
        mirrored = _window_offsets(crop[:, ::-1], reference)
        assert plain or mirrored
        flipped += bool(mirrored) and not plain
    assert 0 < flipped < 12


def test_crop_augmentation_never_flips():
    image = np.random.default_rng(4).integers(0, 256, (36, 50, 3), dtype=np.uint8)
    crops, _ = first_batch(make_pipeline(encoded_dataset([image] * 8), 32, 8, augment="crop", seed=0))
    assert all(_window_offsets(crop, caffe_reference(image)) for crop in crops)


# --------------------------------------------------------------------------- folders of class subfolders

def make_folder(root: Path, counts: dict[str, int], seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for name, count in counts.items():
        for i in range(count):
            h, w = rng.integers(20, 48, 2)
            write_image(root / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}", rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return root


def test_stratified_split_holds_out_a_rounded_fraction_and_keeps_one_training_image():
    held = decathlon.stratified_split([1, 10, 3, 4], 0.5, seed=7)
    assert [len(h) for h in held] == [0, 5, 2, 2]  # min(n - 1, round(n / 2)), round(1.5) == 2
    assert all(set(h) <= set(range(n)) for h, n in zip(held, [1, 10, 3, 4]))
    again = decathlon.stratified_split([1, 10, 3, 4], 0.5, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(held, again))


def test_load_folder_lists_classes_and_splits_each_class(tmp_path):
    root = make_folder(tmp_path / "pets", {"cat": 5, "dog": 4, "emu": 3})
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".cache").mkdir()
    image_set = decathlon.load_folder(root, val_fraction=0.25, seed=0)
    assert image_set.name == "pets"
    assert image_set.class_names == ["cat", "dog", "emu"]
    # per class min(n - 1, round(n * 0.25)): 1, 1, 1
    assert np.bincount(image_set.labels["validation"]).tolist() == [1, 1, 1]
    assert np.bincount(image_set.labels["train"]).tolist() == [4, 3, 2]
    streamed = [int(label) for _, label in image_set.encoded("train").as_numpy_iterator()]
    assert streamed == image_set.labels["train"].tolist()


def test_samples_figure_names_both_classes_and_gives_height_by_width(tmp_path, monkeypatch):
    from pyimagesearch.transfer import describe

    root = tmp_path / "pets"
    for name, shape in (("cat", (80, 96, 3)), ("dog", (72, 100, 3))):
        for i in range(3):
            write_image(root / name / f"{i}.png", np.full(shape, 100 + i, np.uint8))
    figures = {}
    monkeypatch.setattr(describe, "save_figure", lambda figure, path: figures.setdefault(Path(path).name, figure))
    describe.write_description(decathlon.load_folder(root, val_fraction=0.3, seed=0), tmp_path, lambda line: None)
    figure = figures["samples.png"]
    assert figure.get_suptitle().startswith("pets: training images of the classes cat and dog\n")
    assert "H x W = height x width in pixels" in figure.get_suptitle()
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "class cat\nH x W = 80 x 96 px" and titles[-1] == "class dog\nH x W = 72 x 100 px"


def test_load_folder_with_a_validation_folder(tmp_path):
    train = make_folder(tmp_path / "train", {"a": 3, "b": 3, "c": 2})
    val = make_folder(tmp_path / "val", {"c": 2, "a": 1}, seed=1)
    image_set = decathlon.load_folder(train, val_dir=val)
    assert image_set.labels["validation"].tolist() == [0, 2, 2]
    assert image_set.size("train") == 8
    make_folder(tmp_path / "val", {"zebra": 1}, seed=2)
    with pytest.raises(DataError, match="'zebra', which is not among the training classes"):
        decathlon.load_folder(train, val_dir=val)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.write_text("x"), "is not a folder"),
        (lambda root: root.mkdir(), "has no class subfolders"),
        (lambda root: (root / "a").mkdir(parents=True), "holds no .jpg"),
        (lambda root: make_folder(root, {"only": 3}), "one class only"),
        (lambda root: (make_folder(root, {"a": 2, "b": 2}), (root / "b" / "bad.jpg").write_bytes(b"hello")),
         "is not a JPEG image"),
        (lambda root: (make_folder(root, {"a": 2, "b": 2}), (root / "a" / "empty.png").write_bytes(b"")), "is empty"),
    ],
    ids=["missing", "file", "empty", "class-without-images", "one-class", "corrupt", "empty-file"],
)
def test_bad_folders_are_data_errors(tmp_path, build, message):
    root = tmp_path / "data"
    build(root)
    with pytest.raises(DataError, match=message):
        decathlon.load_folder(root)


def test_a_fraction_that_holds_out_nothing_is_a_data_error(tmp_path):
    root = make_folder(tmp_path / "tiny", {"a": 2, "b": 2})
    with pytest.raises(DataError, match="holds out no image"):
        decathlon.load_folder(root, val_fraction=0.1)


# --------------------------------------------------------------------------- TFDS

def test_decathlon_names_are_checked():
    with pytest.raises(DataError, match="imagenet12 is refused: imagenet12 is the source domain"):
        decathlon.check_decathlon_name("imagenet12")
    with pytest.raises(DataError, match="unknown data set 'flowers'"):
        decathlon.check_decathlon_name("flowers")
    for name in decathlon.DECATHLON:
        decathlon.check_decathlon_name(name)


def test_tfds_path_with_mock_data():
    with tfds.testing.mock_data(num_examples=9):
        image_set = decathlon.load_decathlon("gtsrb")
        expected = {split: [int(label) for _, label in tfds.as_numpy(
            tfds.load("visual_domain_decathlon/gtsrb", split=split, as_supervised=True, shuffle_files=False))]
            for split in ("train", "validation")}
        images, labels = first_batch(make_pipeline(image_set.encoded("train"), 32, 9))
    assert image_set.num_classes == 43
    assert image_set.origin == "tfds visual_domain_decathlon/gtsrb"
    assert {split: image_set.labels[split].tolist() for split in expected} == expected
    assert images.shape == (9, 32, 32, 3) and images.dtype == np.float32
    assert labels.tolist() == expected["train"]


def test_tfds_failure_is_one_sentence_about_working_offline(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(tfds, "load", offline)
    monkeypatch.setattr(decathlon, "_reachable", lambda address: "")
    with pytest.raises(DataError) as error:
        decathlon.load_decathlon("dtd")
    text = str(error.value)
    assert "ConnectionError: Name or service not known" in text and "--data-dir" in text and "\n" not in text


# --------------------------------------------------------------------------- description

def test_describe_labels_counts_images_per_class():
    labels = {"train": np.array([0, 0, 0, 2, 2, 3], np.int32), "validation": np.array([1, 3], np.int32)}
    description = describe_labels(labels, ["a", "b", "c", "d"])
    assert description["num_classes"] == 4
    train = description["splits"]["train"]
    assert train["images"] == 6 and train["counts"] == [3, 0, 2, 1]
    assert train["images_per_class"] == {"min": 0, "median": 1.5, "max": 3}
    assert train["classes_without_images"] == 1
    assert description["splits"]["validation"]["images_per_class"] == {"min": 0, "median": 0.5, "max": 1}


def test_sample_positions_take_two_images_of_the_two_largest_classes():
    labels = np.array([2, 1, 1, 0, 2, 1, 2, 0])
    # class 1 and class 2 have three images each (tie: lower label first)
    assert sample_positions(labels) == [1, 2, 0, 4]


# --------------------------------------------------------------------------- schedule glue and summary

def test_default_and_given_milestones():
    assert resolve_milestones(60) == [15, 30, 45]
    assert resolve_milestones(4) == [1, 2, 3]
    assert resolve_milestones(3) == [1, 2]  # default_milestones(3) == [1, 2, 2]
    assert resolve_milestones(2) == [1]  # default_milestones(2) == [0, 1, 2]
    assert resolve_milestones(1) == []
    assert resolve_milestones(10, [2, 7]) == [2, 7]
    for bad, message in (([0], "between 1 and epochs - 1 = 9 .*, and 0 is not"),
                         ([10], "between 1 and epochs - 1 = 9 .*, and 10 is not"),
                         ([5, 3], "must be strictly increasing. Received: milestones=\\[5, 3\\]")):
        with pytest.raises(ValueError, match=message) as error:
            resolve_milestones(10, bad)
        assert str(error.value).startswith("Argument `milestones` must") and error.type is ValueError


def test_logged_lr_of_every_epoch_is_multistep_lr(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.3, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    lr, milestones, gamma, epochs = 0.3, [2, 5, 6], 0.5, 8
    recorder = history_recorder(tmp_path / "history.csv")
    model.fit(x, y, batch_size=4, epochs=epochs, validation_data=(x, y), verbose=0,
              callbacks=[multistep_scheduler(lr, milestones, gamma), recorder])
    rows = read_csv(tmp_path / "history.csv")
    logged = [np.float32(row["lr"]) for row in rows]
    assert logged == [np.float32(multistep_lr(e, lr, milestones, gamma)) for e in range(epochs)]
    assert logged == [np.float32(v) for v in (0.3, 0.3, 0.15, 0.15, 0.15, 0.075, 0.0375, 0.0375)]


NAN_LOSS = "the loss became nan"


def test_curves_of_a_diverged_run_mark_where_it_stopped():
    from pyimagesearch.transfer.plots import plot_curves

    rows = [{"epoch": e, "lr": 0.1, "loss": 1.0 * e, "accuracy": 0.1, "val_loss": 2.0, "val_accuracy": 0.1} for e in (1, 2, 3)]
    axes = plot_curves(rows, stopped=NAN_LOSS)
    for ax in axes:
        marks = [line for line in ax.get_lines() if line.get_label() == "diverged: stopped after epoch 3"]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [3, 3]
    assert NAN_LOSS in axes[0].get_title()
    assert not any("diverged" in line.get_label() for line in plot_curves(rows)[0].get_lines())
    # A run stopped in its first epoch shows whole epochs on its axes, not 0.95 to 1.05.
    for ax in plot_curves(rows[:1], stopped=NAN_LOSS):
        assert [tick for tick in ax.get_xticks()] == [1] and ax.get_xlim() == (0.5, 1.5)



def test_default_dataset_and_the_task_learning_rates(monkeypatch, tmp_path):
    import transfer
    from pyimagesearch.transfer import sweep as transfer_sweep

    args = transfer.parse_args(["--mode", "both"])
    assert args.dataset == "vgg-flowers" and args.lr is None
    calls = []
    monkeypatch.setattr(transfer_sweep, "FeatureExtractor", lambda *a, **k: "extractor")
    monkeypatch.setattr(transfer_sweep, "train_run", lambda image_set, mode, lr, *a, **k: calls.append((mode, lr)) or {})
    image_set = type("ImageSet", (), {"size": lambda self, split: 10})()
    settings = TransferSettings(data="d", epochs=1, milestones=(), gamma=0.1, batch_size=8, image_size=32, augment="none",
                           weights="none", dtype_policy="float32", seed=0)
    sweep(image_set, MODES, {mode: TASK_LRS[mode] for mode in MODES}, settings, tmp_path, print, {},
             overwrite=True)
    assert calls == [("finetune", 0.1), ("finetune", 0.01), ("finetune", 0.001),
                     ("feature", 1.0), ("feature", 0.1), ("feature", 0.01), ("feature", 0.001)]
