"""The sweep's data set folder as a RunFolder: one writer, settings kept, complete.json only when every run is done.

Feature extraction from random ResNet50 weights at 32x32 on nine images,
one or two epochs: each run takes seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import transfer
from pyimagesearch.core.cli import run
from pyimagesearch.core.run import completion
from pyimagesearch.records.transfer import TransferRun
from tests.transfer.test_transfer import make_colour_folder

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["--mode", "feature", "--lr", "1e-5", "--epochs", "1", "--batch-size", "4", "--image-size", "32",
          "--weights", "none", "--seed", "3"]
# transfer.py with the sweep held at its start: once the folder is this process's, it says so and waits for GO.
GATED = """
import pathlib, runpy, sys, time
import pyimagesearch.transfer.sweep as sweep_module
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
original = sweep_module.sweep
def gated(*args, **kwargs):
    ready.touch()
    while not go.exists():
        time.sleep(0.05)
    return original(*args, **kwargs)
sweep_module.sweep = gated
sys.argv = ["transfer.py", *sys.argv[3:]]
runpy.run_path("transfer.py", run_name="__main__")
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished sweep (one feature run), the data and the command that made it."""
    root = tmp_path_factory.mktemp("folder")
    data = make_colour_folder(root / "colours", per_class=3)
    argv = ["--data-dir", str(data), *COMMON, "--output", str(root / "out")]
    assert transfer.main(argv) == 0
    return root / "out" / "colours", argv


def test_a_finished_sweep_is_complete_and_quick_with_its_runs(finished):
    folder, _ = finished
    record = completion(folder)
    assert record["kind"] == "transfer-sweep" and record["quick"] is True
    assert record["summary"]["runs"] == ["feature_lr1e-05"]
    assert "1 epochs, fewer than the task's 50" in record["summary"]["quick_because"]
    # The winner in summary.md's words (one run of random weights on 3 images a class: no winner).
    summary = (folder / "summary.md").read_text()
    assert record["summary"]["winner"].startswith("none: ") and "**No winner" in summary
    assert record["summary"]["winner"][len("none: "):] in summary
    config = json.loads((folder / "config.json").read_text())
    assert config["epochs"] == 1 and config["weights"] == "none" and config["dataset"] == "colours"


def test_the_same_command_again_keeps_every_file_byte_for_byte(finished, capsys):
    folder, argv = finished
    before = snapshot(folder)
    assert run(transfer.main, argv) == 0
    assert "is finished with these settings (1 run(s)); kept as it is" in capsys.readouterr().out
    assert snapshot(folder) == before


def test_other_settings_are_refused_byte_for_byte_and_overwrite_replaces(finished, capsys, tmp_path):
    folder, argv = finished
    before = snapshot(folder)
    other = [*argv[:-2], "--epochs", "2", "--output", argv[-1]]
    assert run(transfer.main, other) == 2
    error = capsys.readouterr().err
    assert error == (f"error: {folder} holds results of other settings (epochs 1 then, 2 now; milestones [] then, [1] "
                     "now); pass --overwrite to replace them, or choose another --output\n")
    assert snapshot(folder) == before
    copy = tmp_path / "out" / "colours"
    shutil.copytree(folder, copy)
    (copy / "feature_lr3e-05").mkdir()  # a run of the old sweep that --overwrite removes with the rest
    (copy / "feature_lr3e-05" / "config.json").write_text("{}")
    assert run(transfer.main, [*other[:-2], "--output", str(tmp_path / "out"), "--overwrite"]) == 0
    assert TransferRun.read(copy / "feature_lr1e-05").epochs == 2
    assert not (copy / "feature_lr3e-05").exists()
    assert json.loads((copy / "config.json").read_text())["epochs"] == 2 and completion(copy)["quick"] is True


def test_a_sweep_stopped_before_its_last_run_is_unfinished_not_quick(finished, tmp_path, monkeypatch):
    from pyimagesearch.transfer import sweep as sweep_module

    _, argv = finished
    argv = [*argv[:-1], str(tmp_path / "out")]
    argv[argv.index("--lr") + 1] = "1e-5,3e-5"
    original = sweep_module.train_run

    def stop_at_the_second(image_set, mode, lr, *args, **kwargs):
        if lr == 3e-5:
            raise KeyboardInterrupt
        return original(image_set, mode, lr, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "train_run", stop_at_the_second)
    assert run(transfer.main, argv) == 130
    folder = tmp_path / "out" / "colours"
    assert (folder / "feature_lr1e-05" / "metrics.json").is_file() and completion(folder) is None
    monkeypatch.setattr(sweep_module, "train_run", original)
    assert run(transfer.main, argv) == 0
    assert completion(folder)["summary"]["runs"] == ["feature_lr1e-05", "feature_lr3e-05"]


@pytest.mark.slow  # two more processes that import TensorFlow
def test_two_processes_into_one_folder_one_trains_the_other_exits_naming_it(finished, tmp_path):
    _, argv = finished
    out = tmp_path / "out"
    first_argv = [*argv[:-1], str(out)]
    second_argv = [*first_argv[:-2], "--lr", "3e-5", "--seed", "4", "--output", str(out)]
    ready, go = tmp_path / "ready", tmp_path / "go"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.Popen([sys.executable, "-c", GATED, str(ready), str(go), *first_argv], cwd=ROOT,
                             env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert first.poll() is None, first.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the first process never reached its sweep"
            time.sleep(0.1)
        second = subprocess.run([sys.executable, "transfer.py", *second_argv], cwd=ROOT, env=environment,
                                capture_output=True, text=True, timeout=300)
    finally:
        go.touch()
        out_text, err_text = first.communicate(timeout=600)
    assert second.returncode == 2
    assert second.stderr.startswith(f"error: {out / 'colours'} is being written by process {first.pid} on ")
    assert second.stderr.endswith("; wait for it to finish, or choose another --output\n")
    assert second.stderr.count("\n") == 1
    assert first.returncode == 0, err_text[-2000:]
    folder = out / "colours"
    config = json.loads((folder / "config.json").read_text())
    assert config["seed"] == 3 and config["settings_keys"] == sorted(config["settings_keys"])
    assert [p.parent.name for p in folder.glob("*/metrics.json")] == ["feature_lr1e-05"]
    assert TransferRun.read(folder / "feature_lr1e-05").settings["seed"] == 3
    assert completion(folder)["summary"]["runs"] == ["feature_lr1e-05"]
