"""Issue 19's cases in Problem 1's commands: each ends in one sentence and exit status 2, before anything is written."""

import json
import math

import numpy as np
import pytest

import find_lr
import train_lenet
from pyimagesearch.core.cli import run
from pyimagesearch.core.outputs import read_csv, write_csv
from tests.lenet.test_compare import fake_run


def refused_by_parser(parse, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "99999999999999999999999"], "the number of seeds must be between 1 and 1,000"),
    (["--seeds", "1001"], "the number of seeds must be between 1 and 1,000"),
    (["--seeds=-1,2"], "seed -1 is out of range: a seed must be between 0 and 4,294,967,295"),
    (["--seeds", ",".join(map(str, range(1002)))], "lists more than 1,000 seeds"),
    (["--seed", "-3"], "the seed must be between 0 and 4,294,967,295"),
    (["--epochs", "100000"], "the number of epochs must be between 1 and 10,000"),
    (["--batch", "99999999999999999999999"], "the batch size must be between 1 and 1,048,576"),
    (["--output", ""], "--output is empty; name the folder the results go to"),
])
def test_train_lenet_bounds(argv, message, capsys, tmp_path):
    assert message in refused_by_parser(train_lenet.parse_args, ["--policy", "fixed", "--lr", "0.1", *argv], capsys)


def test_negative_seed_creates_no_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_lenet.main(["--policy", "fixed", "--lr", "0.1", "--seeds=-1,2", "--output", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists() and "seed -1 is out of range" in capsys.readouterr().err


def test_batch_growth_epochs_are_bounded_too(tmp_path, capsys):
    status = run(train_lenet.main, ["--policy", "batch-growth", "--lr", "0.1", "--epochs-per-stage", "10000",
                                    "--output", str(tmp_path / "out")])
    assert status == 2 and "are 80,000 epochs, more than the 10,000 a run may have" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["--grid", "100000000000"], "the grid size must be between 0 and 1,000"),
    (["--sample-size", "100000000000"], "the sample size must be between 1 and 10,000,000"),
    (["--epochs", "0"], "--epochs: '0' must be > 0"),
    (["--output", ""], "--output is empty"),
])
def test_find_lr_bounds(argv, message, capsys):
    assert message in refused_by_parser(find_lr.parse_args, argv, capsys)


def compare(capsys, a, b, out, *extra):
    status = run(train_lenet.main, ["--compare", str(a), str(b), "--output", str(out), *extra])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert not out.exists()  # nothing written for a comparison never made
    return err


def test_compare_refuses_a_nan_accuracy(tmp_path, capsys):
    a, b = fake_run(tmp_path / "a", "clr", 42, 0.9, 0.05), fake_run(tmp_path / "b", "fixed", 42, 0.89, 0.04)
    metrics = json.loads((a / "metrics.json").read_text())
    (a / "metrics.json").write_text(json.dumps({**metrics, "test_accuracy": math.nan}))
    err = compare(capsys, a, b, tmp_path / "out")
    assert f"{a / 'metrics.json'}: test_accuracy = nan is not a finite number" in err
    assert "nan points" not in err


def test_compare_refuses_a_history_without_val_accuracy(tmp_path, capsys):
    a, b = fake_run(tmp_path / "a", "clr", 42, 0.9, 0.05), fake_run(tmp_path / "b", "fixed", 42, 0.89, 0.04)
    rows = read_csv(b / "history.csv")
    write_csv(b / "history.csv", rows, [key for key in rows[0] if key != "val_accuracy"])
    err = compare(capsys, a, b, tmp_path / "out")
    assert f"{b / 'history.csv'} (row 1): val_accuracy is missing (no such column)" in err


def test_compare_refuses_truncated_test_predictions(tmp_path, capsys):
    correct = np.ones(10_000, bool)
    a = fake_run(tmp_path / "a", "clr", 42, 1.0, 0.0, correct=correct)
    b = fake_run(tmp_path / "b", "fixed", 42, 1.0, 0.0, correct=correct)
    path = a / "test_predictions.npz"
    path.write_bytes(path.read_bytes()[:100])
    err = compare(capsys, a, b, tmp_path / "out")
    assert f"{path}: is truncated or damaged" in err


@pytest.mark.parametrize("flags", [["--from-finder", "x.json"], ["--momentum", "0.5"], ["--weight-decay", "0.1"],
                                   ["--limit", "5"], ["--strategy", "default"], ["--tensorboard"], ["--seed", "3"],
                                   ["--no-resume"], ["--steps-per-execution", "4"], ["--momentum", "0.9"]])
def test_compare_refuses_the_training_flags_it_would_ignore(flags, tmp_path, capsys):
    a, b = fake_run(tmp_path / "a", "clr", 42, 0.9, 0.05), fake_run(tmp_path / "b", "fixed", 42, 0.89, 0.04)
    err = compare(capsys, a, b, tmp_path / "out", *flags)
    flag = "--resume" if flags[0] == "--no-resume" else flags[0]
    assert f"{flag} set training, but --compare only reads finished runs; drop them" in err


def test_compare_config_holds_only_the_two_folders(tmp_path, capsys):
    a, b = fake_run(tmp_path / "a", "clr", 42, 0.9, 0.05), fake_run(tmp_path / "b", "fixed", 42, 0.89, 0.04)
    out = tmp_path / "out"
    assert run(train_lenet.main, ["--compare", str(a), str(b), "--output", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["settings_keys"] == ["compare"] and set(config) == {"compare", "settings_keys", "environment"}
    before = (out / "comparison.json").read_bytes()
    assert run(train_lenet.main, ["--compare", str(a), str(b), "--output", str(out)]) == 0
    assert "already compares these runs as they are now: kept" in capsys.readouterr().out
    assert (out / "comparison.json").read_bytes() == before
