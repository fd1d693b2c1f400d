"""A results folder's life: SIGKILL at a checkpoint and resume, two writers at once, other settings, --overwrite."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyimagesearch.lenet.data import DEBIAN_DIR
from tests.result_files import numbers as result_numbers

pytestmark = pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")

ROOT = Path(__file__).resolve().parents[2]
# Wall times, and where and when a process ran: the only values a resumed run may change.
TIME_KEYS = {"train_time_s", "time_s", "wall_s", "wall_seconds", "finished", "environment"}


def start(argv, folder):
    """The command in a process group of its own, as a shell would start it."""
    return subprocess.Popen([sys.executable, "-m", "pyimagesearch.semisupervised", *argv, "--quiet", "--output",
                             str(folder)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def numbers(folder):
    """Every CSV and JSON under ``folder`` (relative path -> content) with the time columns removed."""
    return result_numbers(folder, TIME_KEYS)


CASES = {
    "resampling": (["resampling", "--quick", "--limit", "600", "--imbalance", "5", "--sampling", "natural,uniform"],
                   "runs/uniform/checkpoint/epoch-0001"),
    "label-noise": (["label-noise", "--quick", "--limit", "500", "--noise", "0,40"], "runs/noise_40/checkpoint/epoch-0001"),
    "teacher-student": (["teacher-student", "--quick", "--limit", "500", "--labelled", "100", "--k", "20", "--p", "2"],
                        "runs/student_k20_p2/finetune_x1/checkpoint/epoch-0001"),  # the default factors 0.1 and 1
}


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_sigkill_at_a_checkpoint_then_again_gives_the_uninterrupted_numbers(name, tmp_path):
    argv, checkpoint = CASES[name]
    whole = start(argv, tmp_path / "whole")
    assert whole.wait(timeout=600) == 0, whole.stderr.read()

    cut = start(argv, tmp_path / "cut")
    deadline = time.monotonic() + 600
    while not (tmp_path / "cut" / checkpoint).is_dir():
        assert cut.poll() is None, "the run ended before its checkpoint appeared"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(cut.pid, signal.SIGKILL)
    cut.wait()
    assert not (tmp_path / "cut" / "complete.json").exists()
    again = start(argv, tmp_path / "cut")
    assert again.wait(timeout=600) == 0, again.stderr.read()
    run_log = tmp_path / "cut" / Path(*Path(checkpoint).parts[:2]) / "log.txt"  # the killed model's own log
    assert "resuming after epoch" in run_log.read_text()
    assert "1 ran (one after another), 1 kept from before" in (tmp_path / "cut" / "log.txt").read_text()

    expected, found = numbers(tmp_path / "whole"), numbers(tmp_path / "cut")
    assert sorted(found) == sorted(expected)
    for path in expected:
        assert found[path] == expected[path], path
    assert not list((tmp_path / "cut").rglob("checkpoint"))


LABEL_NOISE = ["label-noise", "--quick", "--limit", "400", "--noise", "0,40"]


@pytest.mark.slow
def test_two_writers_at_once_one_runs_the_other_stops_naming_it(tmp_path):
    folder = tmp_path / "out"
    first, second = start([*LABEL_NOISE, "--seed", "1"], folder), start([*LABEL_NOISE, "--seed", "2"], folder)
    results = [(process.wait(timeout=600), process.stderr.read()) for process in (first, second)]
    assert sorted(status for status, _ in results) == [0, 2]
    winner = 1 if results[0][0] == 0 else 2
    err = results[2 - winner][1] if winner == 1 else results[0][1]
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {folder} is being written by process ") and "wait for it to finish" in err
    config = json.loads((folder / "config.json").read_text())
    assert config["seed"] == winner
    for run in ("noise_0", "noise_40"):
        assert json.loads((folder / "runs" / run / "config.json").read_text())["seed"] == winner
        assert (folder / "runs" / run / "complete.json").is_file()
    assert (folder / "complete.json").is_file()


def files(folder):
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_other_settings_into_a_finished_folder_leave_it_byte_identical_until_overwrite(tmp_path):
    folder = tmp_path / "out"
    assert start(LABEL_NOISE, folder).wait(timeout=600) == 0
    before = files(folder)
    refused = start([*LABEL_NOISE, "--lr", "0.01"], folder)
    assert refused.wait(timeout=600) == 2
    err = refused.stderr.read()
    assert err == (f"error: {folder} holds results of other settings (lr 0.02 then, 0.01 now); pass --overwrite to "
                   "replace them, or choose another --output\n")
    assert files(folder) == before

    replaced = start([*LABEL_NOISE, "--lr", "0.01", "--overwrite"], folder)
    assert replaced.wait(timeout=600) == 0, replaced.stderr.read()
    assert json.loads((folder / "config.json").read_text())["lr"] == 0.01
    history = (folder / "runs" / "noise_0" / "history.csv").read_text().splitlines()
    assert float(history[1].split(",")[4]) == pytest.approx(0.01)  # the lr column of the first epoch
    assert files(folder)["results.json"] != before["results.json"]
    assert (folder / "complete.json").is_file()
