"""The offline stand-in of Problem 3: scikit-learn's digits as the target, a ResNet50 pretrained on Fashion-MNIST as the base.

The fast tests check the digits and Fashion-MNIST image sets against the raw
arrays, the split sizes and seeds, the stand-in sentence and the pretraining
record. The slow ones pretrain on a few hundred images: the record and the
base file, reuse without training, SIGKILL at a checkpoint and restart (the
same weights, array for array), and transfer runs on the digits that beat chance.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.standin import Pretraining
from pyimagesearch.transfer.digits import (
    ORIGIN, SPLITS, image_set_of, load_digits, split_digits, stratified_parts, to_pixels,
)
from pyimagesearch.transfer.pretrain import (
    BASE_FILE, STANDIN_NOTE, PretrainSettings, describe_pretraining, fashion_mnist, pretrain_folder, pretrained_base_weights, standin_note,
)

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"train": 1437, "selection": 180, "validation": 180}
# A pretraining small enough for a test: 300 images, 2 epochs (a checkpoint after the first).
TINY = PretrainSettings(train_images=300, val_images=100, test_images=100, epochs=2, lr=0.001, milestones=(1,),
                        batch_size=32, seed=3)


def sklearn_digits():
    from sklearn.datasets import load_digits as sklearn_load

    data = sklearn_load()
    return data.images, data.target


# --------------------------------------------------------------------------- the digits


def test_digits_split_is_stratified_exact_in_size_disjoint_and_seeded():
    _, labels = sklearn_digits()
    parts = split_digits(labels, seed=42)
    assert {split: len(parts[split]) for split in SPLITS} == SIZES
    assert np.array_equal(np.sort(np.concatenate([parts[s] for s in SPLITS])), np.arange(len(labels)))
    share = np.bincount(labels) / len(labels)
    for split in SPLITS:
        counts = np.bincount(labels[parts[split]], minlength=10)
        assert np.all(np.abs(counts - share * SIZES[split]) < 1), (split, counts)  # each class gets its share
    again, other = split_digits(labels, seed=42), split_digits(labels, seed=7)
    assert all(np.array_equal(parts[s], again[s]) for s in SPLITS)
    assert not np.array_equal(parts["validation"], other["validation"])


def test_digits_pixels_are_the_sklearn_values_scaled_to_255_in_4x4_blocks_with_a_2px_border():
    images, _ = sklearn_digits()
    pixels = to_pixels(images)
    assert pixels.shape == (1797, 36, 36, 1) and pixels.dtype == np.uint8
    assert pixels.min() == 0 and pixels.max() == 255
    for n in (0, 1000, 1796):
        for i in range(8):
            for j in range(8):
                block = pixels[n, 2 + 4 * i:6 + 4 * i, 2 + 4 * j:6 + 4 * j, 0]
                assert np.all(block == int(np.floor(images[n, i, j] * 255 / 16 + 0.5))), (n, i, j)
    border = np.ones((36, 36), bool)
    border[2:34, 2:34] = False
    assert not pixels[:, border].any()


def test_the_pipeline_gives_the_model_the_32x32_digit_in_three_equal_channels():
    from pyimagesearch.transfer.pipeline import make_pipeline

    images, labels = sklearn_digits()
    image_set = load_digits(seed=42)
    assert image_set.name == "digits" and image_set.num_classes == 10 and image_set.origin == ORIGIN
    assert {split: image_set.size(split) for split in SPLITS} == SIZES
    first = split_digits(labels, seed=42)["validation"][:8]
    batch, batch_labels = next(iter(make_pipeline(image_set.encoded("validation"), 32, 8)))
    restored = batch.numpy()[..., ::-1] + np.array([123.68, 116.779, 103.939], np.float32)  # undo caffe preprocessing
    expected = np.kron(np.floor(images[first] * 255 / 16 + 0.5), np.ones((4, 4)))
    assert batch.shape == (8, 32, 32, 3)
    assert np.abs(restored - expected[..., None]).max() < 1e-3
    assert np.array_equal(batch_labels.numpy(), labels[first])


def test_bad_digit_arrays_and_parts_are_refused_with_keras_style_messages():
    with pytest.raises(ValueError, match=r"Argument `images` must have shape \(N, 8, 8\). Received: shape=\(2, 8\)"):
        to_pixels(np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"must hold values in \[0, 16\]. Received: values in \[0, 17\]"):
        to_pixels(np.full((1, 8, 8), 17.0) * np.eye(8))
    with pytest.raises(ValueError, match="Argument `sizes` must leave images for every part. Received: selection=20 of 20"):
        stratified_parts(np.arange(40) % 2, {"validation": 20, "selection": 20}, seed=0)


def test_the_digits_are_described_like_a_decathlon_set(tmp_path):
    from pyimagesearch.transfer.describe import write_description

    lines = []
    write_description(load_digits(seed=42), tmp_path, lines.append)
    description = json.loads((tmp_path / "dataset.json").read_text())
    assert description["origin"] == ORIGIN and "stand-in for a Visual Decathlon target" in description["origin"]
    assert description["num_classes"] == 10 and description["class_names"] == [str(d) for d in range(10)]
    splits = {split: info for split, info in description["splits"].items() if split not in ("kind", "schema")}
    assert {split: info["images"] for split, info in splits.items()} == SIZES
    assert description["source"] == "standin" and description["selection_split"].startswith("selection: a seeded")
    _, labels = sklearn_digits()
    parts = split_digits(labels, seed=42)
    assert all(info["counts"] == np.bincount(labels[parts[split]]).tolist() for split, info in splits.items())
    assert len(description["samples"]) == 4 and len(set(description["samples"])) == 2  # 2 images of 2 classes
    assert (tmp_path / "samples.png").stat().st_size > 0 and (tmp_path / "class_distribution.png").is_file()


def test_every_output_of_the_stand_in_names_what_stands_in_and_the_real_command():
    assert STANDIN_NOTE == ("Offline stand-in: the base was pretrained on Fashion-MNIST, not ImageNet; the target is "
                            "scikit-learn's digits, not a Visual Decathlon set; for the real target run: "
                            "python transfer.py --dataset <config> --weights imagenet")
    assert standin_note("digits", "imagenet") == ("Offline stand-in: the target is scikit-learn's digits, not a Visual "
                                                  "Decathlon set; for the real target run: python transfer.py "
                                                  "--dataset <config> --weights imagenet")
    assert standin_note("vgg-flowers", "fashion-mnist").startswith("Offline stand-in: the base was pretrained on "
                                                                    "Fashion-MNIST, not ImageNet; for the real")
    assert standin_note("vgg-flowers", "imagenet") is None and standin_note("digits", "/tmp/x.h5") == \
        standin_note("digits", "imagenet")


# --------------------------------------------------------------------------- Fashion-MNIST, the source task


def test_fashion_mnist_parts_are_disjoint_stratified_and_padded_to_36px():
    from pyimagesearch.lenet.data import load_fashion_mnist

    settings = PretrainSettings(train_images=500, val_images=200, test_images=300, epochs=1, lr=0.01, milestones=())
    image_set = fashion_mnist(settings)
    assert {s: image_set.size(s) for s in ("train", "validation", "test")} == {"train": 500, "validation": 200,
                                                                              "test": 300}
    assert all(np.array_equal(np.bincount(image_set.labels[s]), [n // 10] * 10)
               for s, n in (("train", 500), ("validation", 200), ("test", 300)))
    (x_train, y_train), _, _ = load_fashion_mnist()
    parts = stratified_parts(y_train, {"validation": 200, "unused": 60_000 - 700}, settings.seed)
    assert not set(parts["train"]) & set(parts["validation"])
    import tensorflow as tf

    png, label = next(iter(image_set.encoded("train")))
    image = tf.io.decode_png(png).numpy()
    assert image.shape == (36, 36, 1) and label.numpy() == y_train[parts["train"][0]]
    assert np.array_equal(image[4:32, 4:32, 0], x_train[parts["train"][0]]) and image[:4].max() == 0


def test_pretrain_settings_are_bounded_and_each_has_its_own_folder(tmp_path):
    with pytest.raises(ValueError, match="Argument `epochs` must be > 0. Received: epochs=0"):
        PretrainSettings(train_images=10, val_images=10, test_images=10, epochs=0, lr=0.1, milestones=())
    with pytest.raises(ValueError, match="Fashion-MNIST has 60,000 training and 10,000 test images"):
        PretrainSettings(train_images=59_000, val_images=6_000, test_images=10, epochs=1, lr=0.1, milestones=())
    other = PretrainSettings(**{**TINY.as_dict(), "milestones": (1,), "seed": 4})
    assert pretrain_folder(TINY, tmp_path) != pretrain_folder(other, tmp_path)
    assert pretrain_folder(TINY, tmp_path).parent == tmp_path / "pretrain"
    assert pretrain_folder(TINY, tmp_path).name.startswith("fashion-mnist-")


def test_batchnorm_statistics_are_re_estimated_as_the_size_weighted_average_of_the_batch_statistics():
    import keras
    import tensorflow as tf

    from pyimagesearch.transfer.pretrain import reestimate_batchnorm

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()])
    x = np.random.default_rng(0).normal(2.0, 3.0, (13, 3)).astype(np.float32)
    batches = tf.data.Dataset.from_tensor_slices((x, np.zeros(13, np.int32))).batch(5)  # 5, 5 and 3 images
    kernel, bias = (w.copy() for w in model.layers[0].get_weights())
    assert reestimate_batchnorm(model, batches) == 13
    hidden = (x.astype(np.float64) @ kernel + bias).reshape(-1, 4)
    parts = [hidden[:5], hidden[5:10], hidden[10:]]
    mean = sum(len(p) * p.mean(axis=0) for p in parts) / 13
    variance = sum(len(p) * p.var(axis=0) for p in parts) / 13  # biased, as BatchNormalization computes it
    norm = model.layers[1]
    assert np.allclose(norm.moving_mean.numpy(), mean, rtol=1e-5) and np.allclose(norm.moving_variance.numpy(),
                                                                                    variance, rtol=1e-4)
    assert norm.momentum == 0.99 and np.array_equal(model.layers[0].get_weights()[0], kernel)
    with pytest.raises(ValueError, match="Argument `batches` must hold at least one batch"):
        reestimate_batchnorm(model, batches.take(0))


# --------------------------------------------------------------------------- the record


def record_data() -> dict:
    return {"kind": "standin-pretraining", "schema": 1, "source": "Fashion-MNIST", "note": "n", "settings": TINY.as_dict(),
            "quick": True, "epochs": 2, "train_images": 300, "val_images": 100, "test_images": 100,
            "recalibration_images": 300, "val_accuracy": 0.5, "test_accuracy": 0.45, "epoch_val_accuracy": 0.2,
            "seconds_per_epoch": 3.0, "images_per_second": 100.0, "train_seconds": 6.0, "eval_seconds": 1.0,
            "base_weights": "base.weights.h5", "base_sha256": "0" * 64}


def test_the_pretraining_record_round_trips_and_names_the_file_and_field_of_a_bad_one(tmp_path):
    record = Pretraining.from_json(record_data())
    assert Pretraining.read(record.write(tmp_path)) == record
    assert describe_pretraining(record) == (
        "ResNet50 pretrained on Fashion-MNIST (300 training images, 2 epochs at lr 0.001): validation accuracy 50.0% "
        "on 100 held-out training images, test accuracy 45.0% on 100 test images; 0.1 min of training "
        "(100 images/s) (quick settings)")
    path = tmp_path / "pretraining.json"
    cases = {
        "test_accuracy": (1.7, "test_accuracy = 1.7 is not an accuracy (it must be in [0, 1])"),
        "val_accuracy": (float("nan"), "val_accuracy = nan is not a finite number"),
        "base_sha256": ("abc", "base_sha256 = 'abc' is not a SHA-256 digest"),
        "epochs": (3, "trained 3 epochs, but its settings ask for 2"),
        "recalibration_images": (301, "recalibration_images = 301 is more than its 300 training images"),
    }
    for name, (value, sentence) in cases.items():
        path.write_text(json.dumps({**record_data(), name: value}))
        with pytest.raises(RecordError) as caught:
            Pretraining.read(path)
        assert str(caught.value).startswith(f"{path}: ") and sentence in str(caught.value)
    data = record_data()
    del data["test_accuracy"]
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="test_accuracy is missing"):
        Pretraining.read(path)
    path.write_text(json.dumps(record_data())[:100])
    with pytest.raises(RecordError, match="is not valid JSON"):
        Pretraining.read(path)


# --------------------------------------------------------------------------- pretraining (slow)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    import warnings

    output = tmp_path_factory.mktemp("standin")
    lines = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = pretrained_base_weights(TINY, output, lines.append)
    return path, output, lines, [str(warning.message) for warning in caught]


def weights_of(path: Path) -> list[np.ndarray]:
    from pyimagesearch.transfer.models import load_base

    return load_base(32, str(path)).get_weights()


@pytest.mark.slow
def test_a_small_pretraining_writes_its_record_its_base_and_its_completion(pretrained):
    from pyimagesearch.core.checkpoints import file_sha256
    from pyimagesearch.core.run import completion

    path, output, lines, warned = pretrained
    assert not [message for message in warned if "Skipping variable loading" in message]  # nothing for the user
    folder = pretrain_folder(TINY, output)
    assert path == folder / BASE_FILE and lines[0].startswith("Offline stand-in: the base was pretrained on Fashion")
    record = Pretraining.read(folder)
    assert (record.epochs, record.train_images, record.val_images, record.test_images) == (2, 300, 100, 100)
    assert record.recalibration_images == 300  # all of them: fewer than RECALIBRATION_IMAGES
    assert record.settings == json.loads(json.dumps(TINY.as_dict())) and record.quick
    assert record.base_sha256 == file_sha256(path) and record.images_per_second > 0
    assert completion(folder)["kind"] == "standin-pretraining"
    assert (folder / "pretrain.log").read_text().startswith("Offline stand-in:")
    assert not (folder / "train" / "checkpoint").exists() and (folder / "train" / "history.csv").is_file()
    assert len(weights_of(path)) == 318  # every ResNet50 variable (BatchNorm statistics included)


@pytest.mark.slow
def test_the_same_settings_reuse_the_finished_pretraining_without_training(pretrained, monkeypatch):
    from pyimagesearch.transfer import run

    path, output, _, _ = pretrained
    before = {p: p.read_bytes() for p in path.parent.rglob("*") if p.is_file() and p.name != ".lock"}
    monkeypatch.setattr(run, "train_run", lambda *a, **k: pytest.fail("trained again"))
    lines = []
    assert pretrained_base_weights(TINY, output, lines.append) == path
    assert lines == [f"pretrained base {path} reused (finished earlier with the same settings)"]
    assert {p: p.read_bytes() for p in before} == before


PRETRAIN = ("import sys; from pyimagesearch.transfer.pretrain import PretrainSettings, pretrained_base_weights; "
            "pretrained_base_weights(PretrainSettings(**{**%r, 'milestones': tuple(%r)}), sys.argv[1])")


def pretrain_process(output: Path) -> subprocess.Popen:
    code = PRETRAIN % (TINY.as_dict(), list(TINY.milestones))
    return subprocess.Popen([sys.executable, "-c", code, str(output)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_a_pretraining_killed_at_its_checkpoint_restarts_to_the_weights_of_an_uninterrupted_one(pretrained, tmp_path):
    path, _, _, _ = pretrained
    killed = pretrain_process(tmp_path)
    checkpoint = pretrain_folder(TINY, tmp_path) / "train" / "checkpoint" / "epoch-0001"
    deadline = time.monotonic() + 900
    while not checkpoint.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert killed.poll() is None, killed.communicate()[0][-2000:]  # still training its second epoch
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL and not (pretrain_folder(TINY, tmp_path) / BASE_FILE).exists()
    restarted = pretrain_process(tmp_path)
    output, _ = restarted.communicate(timeout=900)
    assert restarted.returncode == 0, output[-2000:]
    assert "finetune_lr0.001: resuming after epoch 1" in output
    resumed = weights_of(pretrain_folder(TINY, tmp_path) / BASE_FILE)
    uninterrupted = weights_of(path)
    assert all(np.array_equal(a, b) for a, b in zip(resumed, uninterrupted, strict=True))


@pytest.mark.slow
def test_feature_extraction_on_the_digits_with_the_pretrained_base_beats_chance_and_fine_tuning_runs(pretrained,
                                                                                                     tmp_path):
    from scipy.stats import binomtest

    from pyimagesearch.records.transfer import TransferRun
    from pyimagesearch.transfer.features import FeatureExtractor
    from pyimagesearch.transfer.run import train_run
    from pyimagesearch.transfer.settings import TransferSettings

    path, _, _, _ = pretrained
    digits = load_digits(seed=42)
    # A stratified third of the training images keeps the fine-tuning epochs short; validation stays whole.
    kept = stratified_parts(digits.labels["train"], {"unused": 957}, seed=0)["train"]
    images, labels = sklearn_digits()
    parts = split_digits(labels, seed=42)
    pixels = to_pixels(images)
    image_set = image_set_of("digits", ORIGIN, digits.class_names,
                             {"train": pixels[parts["train"][kept]], "validation": pixels[parts["validation"]]},
                             {"train": labels[parts["train"][kept]], "validation": labels[parts["validation"]]})
    settings = TransferSettings(data=ORIGIN, epochs=2, milestones=(1,), gamma=0.1, batch_size=32, image_size=32,
                                augment="none", weights=str(path), dtype_policy="float32", seed=5)
    extractor = FeatureExtractor(image_set, 32, 32, "none", 5)
    # lr 0.001: at 0.1 and 0.01 the head on this base's features (|x| up to about 7) diverges in its first epoch.
    feature = train_run(image_set, "feature", 0.001, settings, tmp_path / "feature", print, extractor)
    correct = round(feature["best_val_accuracy"] * 180)
    assert feature["diverged"] is None and binomtest(correct, 180, 0.1, alternative="greater").pvalue < 1e-3, feature
    # Fine-tuning 2 x 15 steps from this base learns nothing yet, and its moving BatchNorm statistics lag (its
    # validation loss explodes): only that it runs to a valid record is checked here.
    train_run(image_set, "finetune", 0.001, settings, tmp_path / "finetune", print)
    record = TransferRun.read(tmp_path / "finetune")
    assert record.epochs == 2 and record.train_images == 480 and record.val_images == 180
