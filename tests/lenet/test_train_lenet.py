"""train_lenet.py end to end on a real Fashion-MNIST subset (first 1000 training and test images)."""

import json
import math

import keras
import matplotlib.image
import numpy as np
import pytest

import train_lenet
from pyimagesearch.core.cli import run
from pyimagesearch.lenet.data import DEBIAN_DIR, load_splits
from pyimagesearch.core.history import read_history
from pyimagesearch.core.outputs import read_json

LIMIT = ["--limit", "1000"]  # 900 training images after the 10% validation split, 1000 test images
TRAIN_IMAGES, VAL_IMAGES, TEST_IMAGES = 900, 100, 1000
COMMON_FILES = {"config.json", "history.csv", "log.txt", "metrics.json", "curves.png", "model.keras", "test_predictions.npz",
                ".lock", "complete.json"}  # RunFolder's lock and completion record
METRIC_KEYS = {"test_accuracy", "test_loss", "final_train_loss", "final_train_accuracy", "val_accuracy",
               "generalization_gap", "optimizer_steps", "epochs", "train_time_s"}


def reference_clr(t, lr_min, lr_max, step_size, gamma):
    """exp_range as a wave: the position in the cycle gives the triangle, gamma**t its height."""
    triangle = 1.0 - abs(2.0 * ((t / (2.0 * step_size)) % 1.0) - 1.0)
    return lr_min + (lr_max - lr_min) * triangle * gamma**t


def train(folder, *argv):
    status = run(train_lenet.main, [*argv, *LIMIT, "--output", str(folder)])
    return status


def history_of(folder):
    return read_history(folder / "history.csv")  # floats, NaN where a diverged epoch's loss is empty


def check_png(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05  # something is drawn


def check_common(folder, history, metrics, epochs, steps):
    assert [row["epoch"] for row in history] == list(range(1, epochs + 1))
    assert [row["steps"] for row in history] == steps
    assert [row["iterations"] for row in history] == list(np.cumsum(steps))
    for row in history:
        assert all(math.isfinite(row[key]) for key in ("loss", "val_loss", "lr", "time_s"))
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["val_accuracy"] <= 1
    assert METRIC_KEYS <= set(metrics)
    assert metrics["epochs"] == epochs and metrics["optimizer_steps"] == sum(steps)
    assert (metrics["train_images"], metrics["val_images"], metrics["test_images"]) == (TRAIN_IMAGES, VAL_IMAGES, TEST_IMAGES)
    assert metrics["final_train_loss"] == pytest.approx(history[-1]["loss"], rel=1e-12)
    assert metrics["final_train_accuracy"] == pytest.approx(history[-1]["accuracy"], rel=1e-12)
    assert metrics["generalization_gap"] == pytest.approx(metrics["train_accuracy"] - metrics["test_accuracy"], abs=1e-12)
    assert metrics["test_accuracy"] > 0.25  # ten classes: chance is 0.1
    assert 0 < metrics["train_time_s"] < 600
    # The saved model is the trained one: it scores exactly the reported test accuracy.
    data = load_splits(DEBIAN_DIR, limit=1000)
    model = keras.models.load_model(folder / "model.keras")
    loss, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1024, verbose=0)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert loss == pytest.approx(metrics["test_loss"], rel=1e-5)
    assert int(model.optimizer.iterations) == sum(steps)
    # Which test images the model got right, for the paired test of --compare: as many as its test accuracy says.
    with np.load(folder / "test_predictions.npz") as saved:
        np.testing.assert_array_equal(saved["label"], data.y_test)
        np.testing.assert_array_equal(saved["predicted"], np.argmax(model.predict(data.x_test, verbose=0), axis=-1))
        assert saved["correct"].mean() == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    log = (folder / "log.txt").read_text().splitlines()
    assert sum(line.startswith("epoch ") for line in log) == epochs
    assert log[-1].startswith(f"test accuracy {metrics['test_accuracy']:.4f}")
    assert (f"generalization gap (train - test accuracy) {100 * metrics['generalization_gap']:+.1f} points; "
            f"{sum(steps)} steps in ") in log[-1]
    for name in {"curves.png"} | {p.name for p in folder.glob("*.png")}:
        check_png(folder / name)
    return model


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    suggestion = root / "suggestion.json"
    suggestion.write_text(json.dumps({"lr_min": 0.004, "lr_max": 0.04, "still_decreasing": False}))
    statuses = {
        "clr": train(root / "clr", "--policy", "clr", "--from-finder", str(suggestion), "--mode", "exp_range",
                     "--gamma", "0.99", "--step-size", "0.5", "--epochs", "2", "--quiet"),
        "batch_growth": train(root / "batch_growth", "--policy", "batch-growth", "--lr", "0.05", "--batch-start", "32",
                              "--batch-end", "128", "--epochs-per-stage", "1", "--quiet"),
    }
    return root, statuses


def test_clr_run_writes_every_file_with_the_cyclical_lrs(runs):
    root, statuses = runs
    folder = root / "clr"
    assert statuses["clr"] == 0
    assert {p.name for p in folder.iterdir()} == COMMON_FILES | {"lr_trace.png"}
    history, metrics, config = history_of(folder), read_json(folder / "metrics.json"), read_json(folder / "config.json")
    model = check_common(folder, history, metrics, epochs=2, steps=[15, 15])
    # 900 images in batches of 64: 15 steps per epoch, so a step size of 0.5 epochs is 7.5 iterations.
    assert (config["lr_min"], config["lr_max"], config["step_size_iterations"]) == (0.004, 0.04, 7.5)
    assert config["lr_source"] == f"lr_min and lr_max from {root / 'suggestion.json'}" and config["mode"] == "exp_range" and config["gamma"] == 0.99
    for row in history:  # the LR of each epoch's last step
        expected = reference_clr(row["iterations"] - 1, 0.004, 0.04, 7.5, 0.99)
        assert row["lr"] == pytest.approx(expected, rel=1e-6)
    schedule = keras.optimizers.schedules.deserialize(model.optimizer.get_config()["learning_rate"])
    assert schedule.get_config() == {"base_lr": 0.004, "max_lr": 0.04, "step_size": 7.5, "mode": "exp_range",
                                     "gamma": 0.99, "name": "CyclicalLearningRate"}


def test_batch_growth_run_doubles_the_batch_each_stage_on_one_compiled_model(runs):
    root, statuses = runs
    folder = root / "batch_growth"
    assert statuses["batch_growth"] == 0
    assert {p.name for p in folder.iterdir()} == COMMON_FILES | {"loss_vs_log2_batch.png"}
    history, metrics = history_of(folder), read_json(folder / "metrics.json")
    # ceil(900 / 32), ceil(900 / 64), ceil(900 / 128) steps; iterations keep counting across stages.
    check_common(folder, history, metrics, epochs=3, steps=[29, 15, 8])
    assert [row["batch_size"] for row in history] == [32, 64, 128]
    assert [row["lr"] for row in history] == [np.float32(0.05)] * 3
    config = read_json(folder / "config.json")
    assert [stage["batch_size"] for stage in config["stages"]] == [32, 64, 128]


def test_comparison_of_the_two_runs(runs, tmp_path, capsys):
    root, _ = runs
    status = run(train_lenet.main, ["--compare", str(root / "clr"), str(root / "batch_growth"), "--output", str(tmp_path)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "comparison.md" in printed and "confounded: they differ in epochs and optimizer steps and images seen" in printed
    text = (tmp_path / "comparison.md").read_text()
    a, b = read_json(root / "clr" / "metrics.json"), read_json(root / "batch_growth" / "metrics.json")
    assert f"| test accuracy | {a['test_accuracy']:.4f} | {b['test_accuracy']:.4f} |" in text
    assert f"| optimizer steps | {a['optimizer_steps']:,} | {b['optimizer_steps']:,} |" in text
    assert "| epochs | 2 | 3 |" in text and "| training images seen | 1,800 | 2,700 |" in text
    assert "so the comparison is confounded" in text and "exact McNemar on 1,000 paired images" in text
    with np.load(root / "clr" / "test_predictions.npz") as x, np.load(root / "batch_growth" / "test_predictions.npz") as y:
        only_a, only_b = int(np.sum(x["correct"] & ~y["correct"])), int(np.sum(~x["correct"] & y["correct"]))
    assert f"({only_a} images right only with clr, {only_b} only with batch-growth)" in text
    assert (tmp_path / "comparison.png").stat().st_size > 0
    assert read_json(tmp_path / "config.json")["compare"] == [str(root / "clr"), str(root / "batch_growth")]


def test_seeds_run_one_folder_per_seed_and_aggregate(tmp_path, capsys):
    folder = tmp_path / "fixed"
    status = train(folder, "--policy", "fixed", "--lr", "0.05", "--epochs", "1", "--seeds", "2", "--quiet")
    assert status == 0
    assert {p.name for p in folder.iterdir()} == {"config.json", "metrics.json", "curves.png", "seed-42", "seed-1", ".lock",
                                                  "complete.json"}
    aggregate = read_json(folder / "metrics.json")
    per_seed = [read_json(folder / f"seed-{seed}" / "metrics.json") for seed in (42, 1)]
    assert aggregate["seeds"] == [42, 1] and aggregate["policy"] == "fixed"
    values = [m["test_accuracy"] for m in per_seed]
    assert aggregate["test_accuracy"]["values"] == values and values[0] != values[1]
    assert aggregate["test_accuracy"]["mean"] == pytest.approx(np.mean(values))
    assert aggregate["test_accuracy"]["sd"] == pytest.approx(np.std(values, ddof=1))
    assert read_json(folder / "seed-1" / "config.json")["seed"] == 1
    check_png(folder / "curves.png")
    assert f"test accuracy over seeds 42, 1: mean {np.mean(values):.4f}" in capsys.readouterr().out


def test_fixed_run_prints_what_it_saves_and_steps_per_execution_changes_nothing(tmp_path, capsys):
    args = ["--policy", "fixed", "--lr", "0.05", "--batch", "32", "--epochs", "2"]
    assert train(tmp_path / "spe4", *args, "--steps-per-execution", "4") == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "spe4" / "log.txt").read_text()
    assert {p.name for p in (tmp_path / "spe4").iterdir()} == COMMON_FILES
    history, metrics = history_of(tmp_path / "spe4"), read_json(tmp_path / "spe4" / "metrics.json")
    check_common(tmp_path / "spe4", history, metrics, epochs=2, steps=[29, 29])
    assert train(tmp_path / "spe1", *args, "--steps-per-execution", "1", "--quiet") == 0
    assert capsys.readouterr().out == ""
    for one, four in zip(history_of(tmp_path / "spe1"), history):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert one[key] == pytest.approx(four[key], rel=1e-5)


def test_diverging_run_stops_keeps_its_history_and_exits_with_one_sentence(tmp_path, capsys):
    folder = tmp_path / "diverged"
    folder.mkdir()
    (folder / "metrics.json").write_text("{}")  # left by an earlier run: must not pass for this one's
    status = train(folder, "--policy", "fixed", "--lr", "50", "--epochs", "3")
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: training diverged in epoch 1:") and err.count("\n") == 1
    assert "lower the learning rate (--lr)" in err
    assert {p.name for p in folder.iterdir()} == {"config.json", "history.csv", "log.txt", "curves.png", ".lock"}
    assert len(history_of(folder)) == 1
    assert (folder / "log.txt").read_text().splitlines()[-1] == err.strip()
