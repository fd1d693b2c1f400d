"""transfer.py end to end with ResNet50 (random or test-saved weights, 32x32 inputs, a few dozen images).

One module-scoped sweep (both modes, 3 epochs, milestones 1,2) serves most
tests: files, per-epoch LRs, which weights each mode changes, the cached
features' accuracy and resuming.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

import transfer  # noqa: E402
from pyimagesearch.transfer import data as decathlon  # noqa: E402
from pyimagesearch.transfer.pipeline import make_pipeline  # noqa: E402
from pyimagesearch.transfer.models import HEAD_NAME, IMAGENET_NOTOP_FILE, build_models  # noqa: E402
from pyimagesearch.transfer.settings import run_name  # noqa: E402
from pyimagesearch.core.cli import run  # noqa: E402
from pyimagesearch.core.run import completion  # noqa: E402
from pyimagesearch.lenet.model import build_lenet5  # noqa: E402
from pyimagesearch.lr_policies import multistep_lr  # noqa: E402
from pyimagesearch.core.outputs import read_csv  # noqa: E402
from pyimagesearch.records.transfer import ImageCorrectness  # noqa: E402
from pyimagesearch.verdicts import winner  # noqa: E402

SEED = 42
SIZE = 32
COLOURS = {"red": (200, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 200)}
LR = 1e-5  # random-weight features have norms near 120: a larger LR makes the head diverge
RUN_FILES = ("config.json", "history.csv", "curves.png", "metrics.json", "model.weights.h5", "correctness.json")


def make_colour_folder(root: Path, per_class: int = 10) -> Path:
    """Noisy images of three colours, 30-60 px per side, alternately PNG and JPEG."""
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            h, w = rng.integers(30, 60, 2)
            image = np.clip(rng.normal(colour, 30, (h, w, 3)), 0, 255).astype(np.uint8)
            encode = tf.io.encode_png if i % 2 else tf.io.encode_jpeg
            (root / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}").write_bytes(encode(image).numpy())
    return root


def base_weights(base) -> list[np.ndarray]:
    """Every variable of the base, trainable or not (BatchNormalization moving mean and variance too)."""
    return [np.array(v) for v in base.weights]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("transfer")
    data = make_colour_folder(root / "colours")
    init = root / "init.weights.h5"
    keras.utils.set_random_seed(SEED)
    keras.applications.ResNet50(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3), pooling="avg").save_weights(init)
    out = root / "out"
    argv = ["--data-dir", str(data), "--mode", "both", "--lr", str(LR), "--epochs", "3", "--milestones", "1,2",
            "--batch-size", "8", "--image-size", str(SIZE), "--weights", str(init), "--save-weights",
            "--output", str(out), "--seed", str(SEED)]
    assert transfer.main(argv) == 0
    return SimpleNamespace(data=data, init=init, out=out, folder=out / "colours", argv=argv)


def load_trained(sweep, mode: str):
    """A run's trained weights loaded into freshly built models (random base, zero head)."""
    models = build_models(3, mode, LR, SIZE, "none")
    assert not any(w.any() for w in models.model.get_layer(HEAD_NAME).get_weights())  # the head starts at zero
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")  # not needed here
        models.model.load_weights(sweep.folder / run_name(mode, LR) / "model.weights.h5")
    return models


def test_both_modes_write_every_file_and_the_summary_names_a_winner(sweep):
    for name in ("dataset.json", "class_distribution.png", "samples.png", "summary.md", "transfer.log"):
        assert (sweep.folder / name).stat().st_size > 0, name
    description = json.loads((sweep.folder / "dataset.json").read_text())
    assert description["num_classes"] == 3 and description["class_names"] == ["blue", "green", "red"]
    # 8 training images per class, of which round(0.1 * 8) = 1 is held out for the choices.
    assert [description["splits"][split]["images"] for split in ("train", "selection", "validation")] == [21, 3, 6]
    assert description["source"] == "folder" and description["note"] is None
    assert description["selection_split"] == "selection: a seeded 0.1 of each class of the training split"
    assert description["samples"] == ["blue", "blue", "green", "green"]
    for mode in ("finetune", "feature"):
        run_dir = sweep.folder / run_name(mode, LR)
        for name in RUN_FILES:
            assert (run_dir / name).stat().st_size > 0, f"{mode}: {name}"
        metrics = json.loads((run_dir / "metrics.json").read_text())
        rows = read_csv(run_dir / "history.csv")
        assert metrics["epochs"] == len(rows) == 3 and metrics["diverged"] is None
        assert metrics["best_val_accuracy"] == max(float(r["val_accuracy"]) for r in rows)
        assert metrics["final_val_accuracy"] == float(rows[-1]["val_accuracy"])
        assert metrics["wall_seconds"] > 0 and metrics["steps_per_epoch"] == 3
        assert metrics["feature_cache"] == (None if mode == "finetune" else "once")
        correct = ImageCorrectness.read(run_dir)
        assert (len(correct.selection), len(correct.validation), metrics["selection_images"]) == (3, 6, 3)
        assert metrics["selection_accuracy"] == correct.correct("selection").mean()
        assert math.isclose(correct.correct("validation").mean(), metrics["final_val_accuracy"], abs_tol=1e-6)
        config = json.loads((run_dir / "config.json").read_text())
        assert (config["mode"], config["lr"], config["resolved"]["milestones"]) == (mode, LR, [1, 2])
    summary = (sweep.folder / "summary.md").read_text()
    # The winner is the verdict on the selection images' correctness that the runs wrote, chance (1/3) first.
    verdict = winner([(f"{mode} at lr 1e-05", ImageCorrectness.read(sweep.folder / run_name(mode, LR)).correct("selection"),
                       None) for mode in ("feature", "finetune")], chance=1 / 3)
    assert verdict.sentence() in summary
    assert (f"**Winner: {verdict.leader}**" in summary) == (verdict.leader is not None)
    assert "| finetune | 1e-05 |" in summary and "| feature | 1e-05 |" in summary


def test_the_lr_of_every_epoch_follows_the_milestones(sweep):
    expected = [np.float32(multistep_lr(epoch, LR, [1, 2], 0.1)) for epoch in range(3)]
    assert expected == [np.float32(v) for v in (1e-5, 1e-6, 1e-7)]
    for mode in ("finetune", "feature"):
        rows = read_csv(sweep.folder / run_name(mode, LR) / "history.csv")
        assert [np.float32(row["lr"]) for row in rows] == expected, mode


def test_feature_mode_changes_only_the_head(sweep):
    models = load_trained(sweep, "feature")
    init = keras.applications.ResNet50(include_top=False, weights=str(sweep.init), input_shape=(SIZE, SIZE, 3), pooling="avg")
    kinds = [v.path.split("/")[-1] for v in init.weights]
    # 53 convolutions (kernel, bias) and 53 BatchNormalization layers (gamma, beta, moving mean and variance)
    assert {kind: kinds.count(kind) for kind in set(kinds)} == dict.fromkeys(
        ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance"], 53)
    for after, before in zip(base_weights(models.base), base_weights(init), strict=True):
        np.testing.assert_array_equal(after, before)
    kernel, bias = models.model.get_layer(HEAD_NAME).get_weights()
    assert kernel.any() and bias.any()


def test_finetune_mode_changes_the_base(sweep):
    models = load_trained(sweep, "finetune")
    init = keras.applications.ResNet50(include_top=False, weights=str(sweep.init), input_shape=(SIZE, SIZE, 3), pooling="avg")
    changed = {v.path.split("/")[-1]: 0 for v in init.weights}
    for variable, after, before in zip(init.weights, base_weights(models.base), base_weights(init), strict=True):
        kind = variable.path.split("/")[-1]
        changed[kind] += not np.array_equal(after, before)
        if kind == "kernel":  # trained from the initial weights with LR <= 1e-5, not replaced by others
            assert np.linalg.norm(after - before) < 1e-3 * np.linalg.norm(before)
    assert changed["kernel"] == 53 and changed["moving_mean"] == 53 and changed["moving_variance"] == 53
    assert models.model.get_layer(HEAD_NAME).get_weights()[0].any()


def test_cached_features_give_the_full_models_accuracy(sweep):
    models = load_trained(sweep, "feature")
    image_set = decathlon.load_folder(sweep.data, seed=SEED)
    val = make_pipeline(image_set.encoded("validation"), SIZE, 8)
    predicted = np.argmax(models.model.predict(val.map(lambda x, y: x), verbose=0), axis=1)
    accuracy = np.mean(predicted == image_set.labels["validation"])
    metrics = json.loads((sweep.folder / run_name("feature", LR) / "metrics.json").read_text())
    assert metrics["final_val_accuracy"] == pytest.approx(accuracy, abs=1e-7)


def test_a_sweep_keeps_finished_runs_and_refuses_other_settings(sweep, capsys):
    kept = (sweep.folder / run_name("feature", LR) / "metrics.json").read_text()
    argv = [a if a != "both" else "feature" for a in sweep.argv]
    argv[argv.index("--lr") + 1] = f"3e-5,{LR}"
    assert transfer.main(argv) == 0
    assert (sweep.folder / run_name("feature", LR) / "metrics.json").read_text() == kept
    assert f"{run_name('feature', LR)} finished earlier" in (sweep.folder / "transfer.log").read_text()
    assert len(read_csv(sweep.folder / "feature_lr3e-05" / "history.csv")) == 3
    summary = (sweep.folder / "summary.md").read_text()
    assert summary.count("| feature |") == 2 and summary.count("| finetune |") == 1
    (sweep.folder / "summary.md").unlink()
    capsys.readouterr()
    assert transfer.main(["--summary", "--dataset", "colours", "--output", str(sweep.out)]) == 0
    assert capsys.readouterr().out == summary + "\n" == (sweep.folder / "summary.md").read_text() + "\n"
    argv[argv.index("--epochs") + 1] = "4"
    assert run(transfer.main, argv) == 2
    error = capsys.readouterr().err
    assert f"{sweep.folder} holds results of other settings (epochs 3 then, 4 now)" in error and "--overwrite" in error
    assert error.count("\n") == 1


def test_tfds_target_feature_mode_with_augmentation_and_mixed_precision(tmp_path):
    argv = ["--dataset", "dtd", "--mode", "feature", "--augment", "crop-flip", "--epochs", "4", "--lr", str(LR),
            "--batch-size", "8", "--image-size", str(SIZE), "--weights", "none", "--mixed-precision",
            "--output", str(tmp_path)]
    with tfds.testing.mock_data(num_examples=12):
        assert transfer.main(argv) == 0
    folder = tmp_path / "dtd"
    assert json.loads((folder / "dataset.json").read_text())["num_classes"] == 47
    metrics = json.loads((folder / run_name("feature", LR) / "metrics.json").read_text())
    # Every class with 2 or more of the 12 mock training images gives one to the selection split.
    assert metrics["feature_cache"] == "per epoch" and metrics["train_images"] + metrics["selection_images"] == 12
    assert metrics["selection_images"] >= 1
    assert metrics["settings"]["dtype_policy"] == "mixed_bfloat16"
    assert metrics["settings"]["milestones"] == [1, 2, 3]  # default_milestones(4)
    rows = read_csv(folder / run_name("feature", LR) / "history.csv")
    assert [np.float32(r["lr"]) for r in rows] == [np.float32(multistep_lr(e, LR, [1, 2, 3])) for e in range(4)]
    assert keras.config.dtype_policy().name == "float32"


def test_describe_only_writes_the_description(tmp_path):
    with tfds.testing.mock_data(num_examples=6):
        assert transfer.main(["--describe", "--dataset", "vgg-flowers", "--output", str(tmp_path)]) == 0
    written = sorted(p.name for p in (tmp_path / "vgg-flowers").iterdir())
    # With the sweep folder's own files: its lock, settings (config.json) and completion record, quick.
    assert written == [".lock", "class_distribution.png", "complete.json", "config.json", "dataset.json", "samples.png",
                       "transfer.log"]
    assert completion(tmp_path / "vgg-flowers")["quick"] is True


def test_mixed_precision_computes_the_base_in_bfloat16_and_the_head_in_float32():
    models = build_models(5, "finetune", 0.01, SIZE, "none", dtype_policy_name="mixed_bfloat16")
    assert models.base.dtype_policy.name == "mixed_bfloat16"
    assert models.model.get_layer(HEAD_NAME).dtype_policy.name == "float32"
    assert all(v.dtype == "float32" for v in models.model.weights)
    assert keras.config.dtype_policy().name == "float32"


# --------------------------------------------------------------------------- user errors

@pytest.fixture
def colours(tmp_path):
    return make_colour_folder(tmp_path / "colours", per_class=3)


def one_error_line(capsys, argv) -> str:
    assert run(transfer.main, argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    return error


def test_unknown_and_refused_data_sets(capsys, tmp_path):
    assert "unknown data set 'imagenet'" in one_error_line(capsys, ["--dataset", "imagenet", "--output", str(tmp_path)])
    assert "source domain" in one_error_line(capsys, ["--dataset", "imagenet12", "--output", str(tmp_path)])
    error = one_error_line(capsys, ["--summary", "--dataset", "dtd", "--output", str(tmp_path)])
    assert f"no finished run in {tmp_path / 'dtd'}" in error and not (tmp_path / "dtd").exists()


def test_empty_and_one_class_folders(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no class subfolders" in one_error_line(capsys, ["--data-dir", str(tmp_path / "empty"), "--output", str(tmp_path)])
    make_colour_folder(tmp_path / "one")
    for name in ("green", "blue"):
        for image in (tmp_path / "one" / name).iterdir():
            image.unlink()
        (tmp_path / "one" / name).rmdir()
    assert "one class only (red)" in one_error_line(capsys, ["--data-dir", str(tmp_path / "one"), "--output", str(tmp_path)])


def test_milestones_outside_the_epochs(capsys, colours, tmp_path):
    error = one_error_line(capsys, ["--data-dir", str(colours), "--epochs", "4", "--milestones", "2,4", "--output", str(tmp_path)])
    assert "--milestones 2,4 must each be between 1 and epochs - 1 = 3 (the 0-based epoch at which the LR drops), and 4 is not" in error


def test_lr_must_be_positive(capsys, colours):
    with pytest.raises(SystemExit) as exit_:
        transfer.main(["--data-dir", str(colours), "--lr", "0.01,-1"])
    assert exit_.value.code == 2
    assert "argument --lr: '-1' must be a finite number > 0" in capsys.readouterr().err


def test_image_size_below_32_is_refused(capsys, colours):
    with pytest.raises(SystemExit):
        transfer.main(["--data-dir", str(colours), "--image-size", "16"])
    assert "'16' is out of range: --image-size must be between 32 and 512" in capsys.readouterr().err


def test_weights_files_that_are_missing_or_do_not_fit(capsys, colours, tmp_path):
    common = ["--data-dir", str(colours), "--epochs", "1", "--image-size", str(SIZE), "--output", str(tmp_path)]
    assert "does not exist" in one_error_line(capsys, common + ["--weights", str(tmp_path / "nope.h5")])
    lenet = tmp_path / "lenet.weights.h5"
    build_lenet5().save_weights(lenet)
    error = one_error_line(capsys, common + ["--weights", str(lenet)])
    assert f"weights file {lenet} does not fit ResNet50 without its top layers (ValueError" in error


def test_imagenet_weights_offline(capsys, colours, tmp_path, monkeypatch):
    from keras.src.utils import file_utils

    reason = ("URL fetch failure on https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
              f"{IMAGENET_NOTOP_FILE}: None -- [Errno -2] Name or service not known")

    def offline(*args, **kwargs):
        raise Exception(reason)

    monkeypatch.setattr(file_utils, "get_file", offline)
    error = one_error_line(capsys, ["--data-dir", str(colours), "--epochs", "1", "--image-size", str(SIZE), "--output", str(tmp_path)])
    # The whole reason, to its last words: what failed is at the end of a download error.
    assert f"the ImageNet weights of ResNet50 could not be loaded or downloaded (Exception: {reason}); " in error
    assert f"copy {IMAGENET_NOTOP_FILE}" in error and "--weights PATH" in error
    # The run could not start: its folder holds no config.json that describes nothing.
    assert not (tmp_path / "colours" / run_name("finetune", 0.1)).exists()


def test_tfds_offline_fails_fast(capsys, tmp_path, monkeypatch):
    calls = []

    def not_prepared(*args, **kwargs):
        calls.append(kwargs.get("download"))
        raise AssertionError("Dataset visual_domain_decathlon/svhn: could not find data in ~/tensorflow_datasets")

    monkeypatch.setattr(tfds, "load", not_prepared)
    monkeypatch.setattr(decathlon, "DOWNLOAD_HOST", ("host.invalid", 80))
    error = one_error_line(capsys, ["--dataset", "svhn", "--output", str(tmp_path)])
    assert calls == [False]
    assert "visual_domain_decathlon/svhn is not prepared" in error and "host.invalid cannot be reached" in error
    assert "--data-dir" in error and "tfds build visual_domain_decathlon/svhn" in error


def test_tfds_download_failure(capsys, tmp_path, monkeypatch):
    def broken(*args, download=True, **kwargs):
        if not download:
            raise AssertionError("not prepared")
        raise ConnectionError("Max retries exceeded")

    monkeypatch.setattr(tfds, "load", broken)
    monkeypatch.setattr(decathlon, "_reachable", lambda address: "")
    error = one_error_line(capsys, ["--dataset", "svhn", "--output", str(tmp_path)])
    assert "could not download and prepare visual_domain_decathlon/svhn (ConnectionError: Max retries" in error
