"""Problem 4's points as sweep trials: ``--executor ray`` gives the serial numbers; its flags are checked first.

The Ray test starts one local Ray (``num_cpus=2``: two trials of one CPU,
so one TensorFlow thread each) and shuts it down at its end. The serial run
it is compared with runs in a process of its own with TensorFlow held to
one thread too: a sum over a tensor is split by thread count, so losses
computed with two threads may differ from one thread's in the last bits.
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.lenet.data import DEBIAN_DIR
from pyimagesearch.semisupervised.command import main
from tests.result_files import numbers as result_numbers

pytestmark = pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")

ROOT = Path(__file__).resolve().parents[2]
LABEL_NOISE = ["label-noise", "--quick", "--limit", "400", "--noise", "0,40"]
# Wall times, and where and when a process ran: the only values the executor may change.
TIME_KEYS = {"train_time_s", "time_s", "wall_s", "wall_seconds", "finished", "environment"}
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def numbers(folder):
    """Every CSV, JSON and NumPy file under ``folder`` but Ray's own records, times left out."""
    return result_numbers(folder, TIME_KEYS, skip=("ray_tune",), npy=True)


def files(folder):
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file() and path.name != "log.txt"}


@pytest.mark.parametrize("flags, message", [
    (["--executor", "ray"], 'error: --executor ray needs Ray Tune, which is not installed; install it with pip install -e ".[ray]"'),
    (["--trial-cpus", "1"], "error: --trial-cpus only apply to --executor ray; add --executor ray or leave it out"),
])
def test_executor_flags_are_checked_before_anything_is_written(flags, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails as if Ray were not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    assert run(main, [*LABEL_NOISE, *flags, "--quiet", "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_label_noise_on_ray_equals_the_serial_run_in_every_number_and_a_rerun_keeps_it(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    from pyimagesearch.core import sweep_ray

    serial = subprocess.run([sys.executable, "-m", "pyimagesearch.semisupervised", *LABEL_NOISE, "--quiet", "--output",
                             str(tmp_path / "serial")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **ONE_THREAD})
    assert serial.returncode == 0, serial.stderr
    started = sweep_ray.start_ray(num_cpus=2)
    try:
        assert run(main, [*LABEL_NOISE, "--executor", "ray", "--output", str(tmp_path / "ray")]) == 0
        first = capsys.readouterr().out.splitlines()
        before = files(tmp_path / "ray")
        assert run(main, [*LABEL_NOISE, "--executor", "ray", "--output", str(tmp_path / "ray")]) == 0
        again = capsys.readouterr().out.splitlines()
    finally:
        if started:
            ray.shutdown()

    expected, found = numbers(tmp_path / "serial"), numbers(tmp_path / "ray")
    assert sorted(found) == sorted(expected)
    assert {"results.csv", "results.json", "runs/noise_40/history.csv", "runs/noise_40/metrics.json",
            "runs/noise_40/row.json", "runs/noise_40/test_predictions.npy"} <= set(found)
    for name in expected:
        assert found[name] == expected[name], name
    assert (tmp_path / "ray" / "ray_tune").is_dir()  # Ray's own records, beside the results
    assert sorted(line for line in first if line.endswith(": started")) == ["[1/2] noise_0: started",
                                                                           "[2/2] noise_40: started"]
    assert sum(line.startswith("[2/2] noise_40: finished in ") and "test_accuracy = " in line for line in first) == 1
    assert any(line.startswith("2 trials in ") and line.endswith(": 2 ran (with Ray, 1 CPU per trial), 0 kept from before")
               for line in first), first
    # The same command again trains nothing and starts no trial: every file as it was.
    assert [line for line in again if "finished earlier, kept" in line] == [
        line for line in again if line.startswith("[")] and len([line for line in again if line.startswith("[")]) == 2
    assert any(line.endswith(": 0 ran, 2 kept from before") for line in again)
    assert files(tmp_path / "ray") == before


def test_a_point_that_fails_leaves_the_finished_points_results_and_the_same_command_finishes_them(
        tmp_path, capsys, monkeypatch):
    from pyimagesearch.semisupervised import label_noise
    from pyimagesearch.semisupervised.runs import ExperimentError

    argv = ["label-noise", "--quick", "--limit", "300", "--noise", "0,40", "--quiet", "--output", str(tmp_path)]
    train_level = label_noise.train_level

    def diverging_at_40(settings, data, percent, run_dir, log):
        if percent == 40:
            raise ExperimentError("training of p = 40% diverged (made up); lower --lr (now 0.02) and run again")
        return train_level(settings, data, percent, run_dir, log)

    monkeypatch.setattr(label_noise, "train_level", diverging_at_40)
    assert run(main, argv) == 2
    assert capsys.readouterr().err == "error: training of p = 40% diverged (made up); lower --lr (now 0.02) and run again\n"
    rows = list(csv.DictReader(open(tmp_path / "results.csv", newline="")))
    assert [row["noise_percent"] for row in rows] == ["0.0"]  # the finished point, written though the next failed
    assert not (tmp_path / "complete.json").exists()
    kept = (tmp_path / "runs" / "noise_0" / "row.json").read_bytes()

    monkeypatch.setattr(label_noise, "train_level", train_level)
    assert run(main, argv) == 0
    log = (tmp_path / "log.txt").read_text()
    assert "[1/2] noise_0: finished earlier, kept (test_accuracy = " in log
    assert log.rstrip().splitlines()[-2].endswith(": 1 ran (one after another), 1 kept from before")
    rows = list(csv.DictReader(open(tmp_path / "results.csv", newline="")))
    assert [row["noise_percent"] for row in rows] == ["0.0", "40.0"] and rows[1]["drop_vs_clean"] != ""
    assert (tmp_path / "runs" / "noise_0" / "row.json").read_bytes() == kept
    assert (tmp_path / "complete.json").is_file()
