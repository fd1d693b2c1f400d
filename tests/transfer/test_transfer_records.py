"""Problem 3's records (a run's metrics.json, dataset.json), their readers, and the flags transfer.py refuses.

No training here: the records are written by hand, and every refusal comes
before a model is built.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import transfer
from pyimagesearch.core.cli import run
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.transfer import DatasetDescription, TransferRun
from pyimagesearch.report.readers.common import Context
from pyimagesearch.report.readers.transfer import read_transfer
from pyimagesearch.transfer.settings import TASK_LRS, TransferSettings, quick_reasons

SETTINGS = {"data": "folder d", "epochs": 2, "milestones": [1], "gamma": 0.1, "batch_size": 8, "image_size": 32,
            "augment": "none", "weights": "none", "dtype_policy": "float32", "seed": 42}
RUN = {"mode": "feature", "lr": 0.01, "best_val_accuracy": 0.5, "best_epoch": 2, "final_val_accuracy": 0.5,
       "final_val_loss": 1.1, "final_accuracy": 0.6, "epochs": 2, "wall_seconds": 3.5, "seconds_per_epoch": 1.5,
       "steps_per_epoch": 3, "train_images": 24, "val_images": 6, "feature_cache": "once", "feature_seconds": 2.0,
       "diverged": None, "settings": SETTINGS}
SPLIT = {"images": 6, "images_per_class": {"min": 2, "median": 2.0, "max": 2}, "classes_without_images": 0,
         "counts": [2, 2, 2]}
DATASET = {"name": "colours", "origin": "folder d", "evaluation_split": "validation", "num_classes": 3,
           "class_names": ["blue", "green", "red"],
           "splits": {"train": {**SPLIT, "images": 24, "images_per_class": {"min": 8, "median": 8.0, "max": 8},
                                "counts": [8, 8, 8]}, "validation": SPLIT},
           "samples": ["blue", "blue", "green", "green"]}


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


# --------------------------------------------------------------------------- records

@pytest.mark.parametrize("record, data", [(TransferRun, RUN), (DatasetDescription, DATASET)])
def test_a_valid_record_round_trips_through_its_file(tmp_path, record, data):
    first = record.from_json(data, "x")
    path = first.write(tmp_path)
    assert path == tmp_path / record.FILE
    again = record.read(tmp_path)
    assert again == first and again.to_json() == first.to_json()
    assert again.to_json()["kind"] == record.KIND


def test_a_run_written_by_the_old_writer_without_kind_or_schema_reads(tmp_path):
    metrics = TransferRun.read(write(tmp_path / "metrics.json", RUN))
    assert (metrics.mode, metrics.lr, metrics.final_val_accuracy) == ("feature", 0.01, 0.5)


RUN_CASES = [
    ({"final_val_accuracy": 1.7}, "final_val_accuracy = 1.7 is not an accuracy (it must be in [0, 1])"),
    ({"lr": -0.01}, "lr = -0.01 is not a learning rate (it must be finite and > 0)"),
    ({"best_epoch": 3}, "has best_epoch = 3 outside its epochs 1..2"),
    ({"best_val_accuracy": 0.4}, "has best_val_accuracy = 0.4 below final_val_accuracy = 0.5"),
    ({"mode": "both"}, "mode = 'both' must be one of 'finetune', 'feature'"),
    ({"final_val_loss": None}, "has no validation accuracy or loss, though the run did not diverge"),
    ({"feature_cache": None}, "has feature_cache = None, which a feature run does not have"),
]


@pytest.mark.parametrize("change, problem", RUN_CASES, ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(RUN_CASES)])
def test_a_bad_run_is_named_in_one_sentence(tmp_path, change, problem):
    path = write(tmp_path / "feature_lr0.01" / "metrics.json", {**RUN, **change})
    with pytest.raises(RecordError) as caught:
        TransferRun.read(path)
    assert str(caught.value).startswith(f"{path}: {problem}") and "\n" not in str(caught.value)


def test_nan_missing_field_and_truncated_run_files(tmp_path):
    nan = write(tmp_path / "nan.json", json.dumps(RUN).replace('"final_val_accuracy": 0.5', '"final_val_accuracy": NaN'))
    with pytest.raises(RecordError, match=r"nan.json: final_val_accuracy = nan is not a finite number$"):
        TransferRun.read(nan)
    missing = write(tmp_path / "missing.json", {key: value for key, value in RUN.items() if key != "val_images"})
    with pytest.raises(RecordError) as caught:
        TransferRun.read(missing)
    assert str(caught.value) == f"{missing}: val_images is missing"
    truncated = write(tmp_path / "truncated.json", json.dumps(RUN)[:80])
    with pytest.raises(RecordError) as caught:
        TransferRun.read(truncated)
    assert str(caught.value).startswith(f"{truncated}: is not valid JSON (truncated or damaged")


def test_bad_descriptions_are_named_in_one_sentence(tmp_path):
    cases = [
        ({"num_classes": 4}, "has 3 class_names for num_classes = 4"),
        ({"samples": ["purple"]}, "has sample class 'purple', which is not among its class_names"),
        ({"evaluation_split": "test"}, "evaluation_split = 'test' must be one of 'validation'"),
        ({"splits": {"train": DATASET["splits"]["train"]}}, "(splits): validation is missing"),
        ({"splits": {**DATASET["splits"], "validation": {**SPLIT, "images": 7}}},
         "(splits) (validation): has counts adding up to 6, not its 7 images"),
        ({"splits": {**DATASET["splits"], "validation": {**SPLIT, "counts": [2, 2, -2], "images": 2}}},
         "(splits) (validation): counts[2] = -2 is not a count (an integer >= 0)"),
    ]
    for change, problem in cases:
        path = write(tmp_path / "dataset.json", {**DATASET, **change})
        with pytest.raises(RecordError) as caught:
            DatasetDescription.read(path)
        assert str(caught.value).startswith(f"{path}: {problem}" if problem[0] != "(" else f"{path} {problem}"), change
    write(tmp_path / "dataset.json", json.dumps(DATASET)[:-30])
    with pytest.raises(RecordError, match="is not valid JSON"):
        DatasetDescription.read(tmp_path)


# --------------------------------------------------------------------------- readers refuse bad files

def sweep_folder(root: Path, bad: dict | None = None) -> Path:
    folder = root / "transfer" / "colours"
    write(folder / "dataset.json", DATASET)
    write(folder / "feature_lr0.01" / "metrics.json", RUN)
    write(folder / "feature_lr0.1" / "metrics.json", {**RUN, "lr": 0.1, **(bad or {})})
    return folder


def test_summary_refuses_a_bad_metrics_file(tmp_path, capsys):
    folder = sweep_folder(tmp_path, {"final_val_accuracy": 1.7})
    assert run(transfer.main, ["--summary", "--dataset", "colours", "--output", str(tmp_path / "transfer")]) == 2
    assert capsys.readouterr().err == (f"error: {folder / 'feature_lr0.1' / 'metrics.json'}: final_val_accuracy = 1.7 "
                                       "is not an accuracy (it must be in [0, 1])\n")
    assert not (folder / "summary.md").exists()
    (folder / "feature_lr0.1" / "metrics.json").write_text(json.dumps({**RUN, "lr": 0.1}))
    assert run(transfer.main, ["--summary", "--dataset", "colours", "--output", str(tmp_path / "transfer")]) == 0
    assert "| feature | 0.1 | n/a | 50.0% | 50.0% (2) | 2 | 3.5 |  |" in (folder / "summary.md").read_text()


def test_summary_refuses_a_bad_description(tmp_path, capsys):
    folder = sweep_folder(tmp_path)
    write(folder / "dataset.json", {**DATASET, "num_classes": 1, "class_names": ["blue"]})
    assert run(transfer.main, ["--summary", "--dataset", "colours", "--output", str(tmp_path / "transfer")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {folder / 'dataset.json'}: ") and error.count("\n") == 1


@pytest.mark.parametrize("mode", ["finetune", "feature"])
def test_the_report_reader_raises_the_sentence_of_a_bad_file(tmp_path, mode):
    folder = sweep_folder(tmp_path, {"lr": math.inf})
    with pytest.raises(RecordError) as caught:
        read_transfer(Context(tmp_path), mode)
    assert str(caught.value) == f"{folder / 'feature_lr0.1' / 'metrics.json'}: lr = inf is not a finite number"
    write(folder / "feature_lr0.1" / "metrics.json", {**RUN, "lr": 0.1})
    write(folder / "dataset.json", {**DATASET, "splits": {"train": DATASET["splits"]["train"]}})
    # Both questions name the data set's provenance (and a stand-in's note) from dataset.json, so both read it.
    with pytest.raises(RecordError, match=r"dataset.json \(splits\): validation is missing"):
        read_transfer(Context(tmp_path), mode)
    write(folder / "dataset.json", DATASET)
    assert read_transfer(Context(tmp_path), mode)[0].status == "partial"  # no complete.json: unfinished


# --------------------------------------------------------------------------- quick or full

def test_a_full_sweep_with_a_run_that_diverged_in_its_first_epoch_reads_as_full(tmp_path):
    from pyimagesearch.core.run import RunFolder

    task = {**SETTINGS, "epochs": 60, "milestones": [15, 30, 45], "weights": "imagenet"}
    folder = tmp_path / "transfer" / "colours"
    write(folder / "dataset.json", DATASET)
    for lr in (0.1, 0.01, 0.001):  # the task's feature runs, 60 epochs each
        write(folder / f"feature_lr{lr:g}" / "metrics.json", {**RUN, "lr": lr, "epochs": 60, "settings": task})
    write(folder / "feature_lr1" / "metrics.json", {**RUN, "lr": 1.0, "epochs": 1, "best_epoch": 1, "settings": task,
                                                    "diverged": "the training loss 10 exceeded 4 x 2.3"})
    with RunFolder(folder, "transfer-sweep", task) as run:
        run.complete(quick=False)
    assert [source.status for source in read_transfer(Context(tmp_path), "feature")] == ["full"]

def test_a_sweep_is_full_only_with_the_task_s_seven_runs_at_full_settings():
    full = TransferSettings(**{**SETTINGS, "milestones": (15, 30, 45), "epochs": 60, "weights": "imagenet"})
    task = {(mode, lr) for mode, lrs in TASK_LRS.items() for lr in lrs}
    assert quick_reasons(full, task) == []
    assert quick_reasons(full, task - {("feature", 1.0)}) == ["the task's runs feature_lr1 not trained"]
    offline = TransferSettings(**{**full.as_dict(), "milestones": (15, 30, 45),
                                  "weights": "/models/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"})
    assert quick_reasons(offline, task) == []
    assert quick_reasons(TransferSettings(**{**SETTINGS, "milestones": (1,)}), task) == [
        "weights none, not ImageNet's", "2 epochs, fewer than the task's 50"]


# --------------------------------------------------------------------------- flags refused in one sentence

def one_error(capsys, argv) -> str:
    assert run(transfer.main, argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1, error
    return error


def test_flags_a_command_would_ignore_are_refused(capsys, tmp_path):
    out = ["--output", str(tmp_path)]
    assert "--epochs, --lr are not used by --summary" in one_error(capsys, ["--summary", "--lr", "0.1", "--epochs", "3", *out])
    assert "--mode is not used by --describe, which trains nothing" in one_error(capsys, ["--describe", "--mode", "both", *out])
    assert "--val-fraction is not used without --data-dir" in one_error(capsys, ["--val-fraction", "0.3", *out])
    assert "--val-dir goes with --data-dir" in one_error(capsys, ["--val-dir", str(tmp_path), *out])
    assert "--strategy is not used by feature extraction" in one_error(capsys, ["--mode", "feature", "--strategy", "default", *out])
    error = one_error(capsys, ["--dataset", "dtd", "--epochs", "1", "--gamma", "0.5", "--weights", "none", *out])
    assert "--gamma is not used: 1 epoch(s) have no milestone" in error
    assert "--output is empty" in one_error(capsys, ["--dataset", "dtd", "--output", ""])
    # The offline stand-in's flags.
    assert "--pretrain-dir is not used without --weights fashion-mnist" in one_error(
        capsys, ["--dataset", "digits", "--pretrain-dir", str(tmp_path), *out])
    assert "--selection-fraction is not used by --dataset digits, whose split is fixed" in one_error(
        capsys, ["--dataset", "digits", "--selection-fraction", "0.2", *out])
    assert "--image-size 64 does not fit --weights fashion-mnist, whose base was pretrained at 32x32" in one_error(
        capsys, ["--weights", "fashion-mnist", "--image-size", "64", *out])
    assert "--quick is not used by --describe" in one_error(capsys, ["--describe", "--dataset", "digits", "--quick", *out])
    assert list(tmp_path.iterdir()) == []


def test_the_stand_in_flags_set_its_image_size_and_quick_epochs():
    args = transfer.parse_args(["--dataset", "digits", "--weights", "fashion-mnist", "--quick"])
    assert (args.image_size, args.epochs, args.milestones) == (32, 4, [1, 2, 3])
    args = transfer.parse_args(["--dataset", "digits", "--quick", "--epochs", "6"])
    assert (args.image_size, args.epochs, args.milestones) == (32, 6, None)  # the default milestones of 6 epochs
    assert transfer.parse_args(["--dataset", "dtd"]).image_size == 64


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "1001"], "--epochs must be between 1 and 1,000"),
    (["--epochs", "9" * 40], "--epochs must be between 1 and 1,000"),
    (["--image-size", "100000"], "--image-size must be between 32 and 512"),
    (["--batch", "0"], "--batch must be between 1 and 4,096"),
    (["--seed", "-1"], "--seed must be between 0 and 4,294,967,295"),
    (["--lr", ",".join(["0.1"] * 17)], "more than 16 learning rates"),
    (["--lr", "1e-45"], "cannot be a learning rate: the optimizer keeps it as a float32"),
    (["--lr", "nan"], "must be a finite number > 0"),
    (["--milestones", "1," * 2000], "more than 1,000 milestones"),
    (["--selection-fraction", "0.6"], "--selection-fraction must be"),
    (["--selection-fraction", "0"], "--selection-fraction must be"),
])
def test_numbers_that_size_work_are_bounded(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        transfer.parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
