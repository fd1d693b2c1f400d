"""find_lr.py end to end on a real Fashion-MNIST subset, and its answers to bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import find_lr
from pyimagesearch.core.cli import run
from pyimagesearch.core.outputs import read_csv

ROOT = Path(__file__).resolve().parents[2]


def test_range_test_writes_all_files(tmp_path):
    out = tmp_path / "find_lr"
    status = run(find_lr.main, ["--batch", "32", "--limit", "3000", "--sample-size", "400", "--start-lr", "1e-5",
                                "--end-lr", "10", "--output", str(out), "--quiet"])
    assert status == 0
    assert {p.name for p in out.iterdir()} >= {"lr_finder.png", "lr_finder.csv", "suggestion.json", "config.json"}
    rows = read_csv(out / "lr_finder.csv")
    lrs = np.array([float(r["lr"]) for r in rows])
    # 2,700 training images / 32 = 85 batches per epoch, ceil(400 / 85) = 5 epochs: 425 planned.
    assert 10 < len(rows) <= 425
    np.testing.assert_allclose(lrs, 1e-5 * (1e6 ** (1 / 425)) ** np.arange(len(rows)), rtol=1e-9)
    suggestion = json.loads((out / "suggestion.json").read_text())
    assert 1e-5 < suggestion["lr_min"] < suggestion["lr_max"] < 10
    config = json.loads((out / "config.json").read_text())
    assert config["batch"] == 32 and config["train_images"] == 2700 and "tensorflow" in config["environment"]


def test_grid_records_divergence_and_keeps_going(tmp_path):
    out = tmp_path / "grid"
    status = run(find_lr.main, ["--grid", "3", "--epochs", "2", "--start-lr", "1e-4", "--end-lr", "1e4",
                                "--limit", "1200", "--output", str(out), "--quiet"])
    rows = read_csv(out / "lr_grid.csv")
    assert [float(r["lr"]) for r in rows] == pytest.approx([1e-4, 1.0, 1e4])
    assert rows[2]["diverged"] == "yes" and int(rows[2]["epochs_run"]) == 1
    assert rows[0]["diverged"] == "no" and int(rows[0]["epochs_run"]) == 2
    history = read_csv(out / "lr_grid_history.csv")
    assert [(float(h["lr"]), int(h["epoch"])) for h in history][:2] == [(1e-4, 1), (1e-4, 2)]
    assert (out / "lr_grid.png").stat().st_size > 0
    suggestion = json.loads((out / "suggestion.json").read_text())
    assert status == (0 if suggestion["lr_min"] else 2)


@pytest.mark.parametrize("args, message", [
    (["--batch", "0"], "--batch: '0' must be > 0"),
    (["--start-lr", "-1"], "--start-lr: '-1' must be a finite number > 0"),
    (["--start-lr", "1", "--end-lr", "0.1"], "--start-lr (1) must be below --end-lr (0.1)"),
])
def test_bad_flags_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        find_lr.parse_args(args)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(find_lr.main, ["--output", str(blocker / "sub"), "--limit", "100"]) == 2
    assert f"cannot create the output folder {blocker / 'sub'}: Not a directory" in capsys.readouterr().err


def test_corrupt_data_file_one_sentence_no_traceback(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (data_dir / name).write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 20)
    result = subprocess.run([sys.executable, str(ROOT / "find_lr.py"), "--data-dir", str(data_dir),
                             "--output", str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "train-images-idx3-ubyte is longer than its header says" in result.stderr


def test_no_descent_from_the_first_batch_means_no_range_exit_2_and_the_plot(tmp_path, capsys):
    # From LR 1 the loss jumps in the first batches and settles back near chance: it never falls
    # below the first batch's loss, whatever the skipped batches did.
    out = tmp_path / "high"
    status = run(find_lr.main, ["--start-lr", "1", "--end-lr", "1e3", "--limit", "1000", "--sample-size", "200",
                                "--output", str(out), "--quiet"])
    assert status == 2
    assert "no LR range can be suggested: the loss never fell 5% below its first value" in capsys.readouterr().err
    assert (out / "lr_finder.png").stat().st_size > 0
    suggestion = json.loads((out / "suggestion.json").read_text())
    assert suggestion["lr_min"] is None and suggestion["lr_max"] is None
    rows = read_csv(out / "lr_finder.csv")
    assert float(rows[0]["lag_free_loss"]) == float(rows[0]["raw_loss"])  # the curve starts at the first batch


def test_grid_without_descent_exits_2_and_keeps_the_plot(tmp_path, capsys):
    out = tmp_path / "grid"
    status = run(find_lr.main, ["--grid", "3", "--epochs", "1", "--start-lr", "1e-9", "--end-lr", "1e-8",
                                "--limit", "600", "--output", str(out), "--quiet"])
    assert status == 2
    assert "the loss never fell 5% below its first value" in capsys.readouterr().err
    assert (out / "lr_grid.png").stat().st_size > 0 and json.loads((out / "suggestion.json").read_text())["lr_max"] is None
def grid_results(folder):
    """lr_grid.csv and lr_grid_history.csv without the wall-clock column."""
    rows = [{k: v for k, v in row.items() if k != "seconds"} for row in read_csv(folder / "lr_grid.csv")]
    return rows, read_csv(folder / "lr_grid_history.csv")


def test_a_grid_started_again_keeps_the_finished_lrs_and_ends_as_an_uninterrupted_one(tmp_path, capsys):
    out = tmp_path / "grid"
    argv = ["--grid", "3", "--epochs", "2", "--start-lr", "1e-3", "--end-lr", "1e-1", "--limit", "1200",
            "--output", str(out)]
    run(find_lr.main, argv)
    whole = grid_results(out)
    # As a kill after the first LR leaves it: that LR's folder finished, the others not, no grid files.
    kept_point = (out / "lr-0.001" / "grid_row.json").read_bytes()
    for name in ("lr-0.01", "lr-0.1"):
        (out / name / "complete.json").unlink()
    for name in ("lr_grid.csv", "lr_grid_history.csv", "suggestion.json", "complete.json"):
        (out / name).unlink()  # a killed sweep never wrote its completion record
    capsys.readouterr()
    run(find_lr.main, argv)
    printed = capsys.readouterr().out
    assert "[1/3] lr-0.001: finished earlier, kept" in printed and "[2/3] lr-0.01: started" in printed
    assert (out / "lr-0.001" / "grid_row.json").read_bytes() == kept_point
    assert grid_results(out) == whole
    # Other settings are refused, the results kept as they are; with --overwrite they are replaced.
    kept = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    capsys.readouterr()
    assert run(find_lr.main, [*argv[:3], "1", *argv[4:]]) == 2
    assert "holds results of other settings (epochs 2 then, 1 now); pass --overwrite" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == kept
    run(find_lr.main, [*argv[:3], "1", *argv[4:], "--overwrite"])
    assert [int(row["epochs_run"]) for row in read_csv(out / "lr_grid.csv")] == [1, 1, 1]
    assert json.loads((out / "config.json").read_text())["epochs"] == 1


def test_range_test_removes_the_results_of_an_earlier_run_before_writing_its_config(tmp_path, capsys):
    out = tmp_path / "find_lr"
    out.mkdir()
    for name in ("lr_finder.csv", "suggestion.json", "lr_grid.csv"):
        (out / name).write_text("stale")
    assert run(find_lr.main, ["--limit", "100", "--batch", "400", "--output", str(out)]) == 2
    assert "only 90 training images for a batch of 400" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["lr_finder.csv", "lr_grid.csv", "suggestion.json"]
    assert run(find_lr.main, ["--limit", "1000", "--batch", "32", "--epochs", "1", "--start-lr", "1e-5",
                              "--output", str(out), "--quiet"]) in (0, 2)
    assert "stale" not in (out / "lr_finder.csv").read_text() and not (out / "lr_grid.csv").exists()


@pytest.mark.parametrize("flag, value", [("--start-lr", "1e-300"), ("--end-lr", "1e39")])
def test_learning_rates_beyond_float32_are_refused(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        find_lr.parse_args([flag, value])
    assert exit_info.value.code == 2
    assert f"argument {flag}: '{value}' cannot be a learning rate: the optimizer keeps it as a float32, which holds " \
           "1.18e-38 to 3.4e+38" in capsys.readouterr().err
