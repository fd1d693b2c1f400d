"""transfer.py's mode and LR sweep as Ray Tune trials: the serial sweep's numbers, and its flags checked first.

The Ray test starts one local Ray (``num_cpus=2``: two trials of one CPU,
so one TensorFlow thread each); the serial sweep it is compared with runs in
a process of its own held to one thread too (a sum over a tensor is split by
thread count, so two threads may differ from one in the last bits).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import transfer
from pyimagesearch.core.cli import run
from pyimagesearch.core.run import completion
from tests.result_files import numbers as result_numbers
from tests.transfer.test_transfer import LR, SEED, SIZE, make_colour_folder

ROOT = Path(__file__).resolve().parents[2]
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
# Wall times, where a run ran, how it was scheduled and the two sweeps' --output: the only values that may differ.
TIME_KEYS = {"wall_seconds", "seconds_per_epoch", "feature_seconds", "seconds", "time_s", "finished", "environment",
             "images_per_second", "executor", "output"}


def numbers(folder: Path) -> dict:
    """Every CSV and JSON file under ``folder`` but Ray's records and the logs, times out (``tests.result_files``)."""
    return result_numbers(folder, TIME_KEYS, skip=("ray_tune", "logs"))


def sweep_argv(data: Path, init: Path, output: Path) -> list[str]:
    return ["--data-dir", str(data), "--mode", "both", "--lr", str(LR), "--epochs", "2", "--milestones", "1",
            "--batch-size", "8", "--image-size", str(SIZE), "--weights", str(init), "--output", str(output),
            "--seed", str(SEED)]


@pytest.mark.parametrize("flags, message", [
    (["--executor", "ray"], 'error: --executor ray needs Ray Tune, which is not installed; install it with pip install -e ".[ray]"'),
    (["--trial-gpus", "1"], "error: --trial-gpus only apply to --executor ray; add --executor ray or leave it out"),
    (["--describe", "--executor", "ray"], "error: --executor is not used by --describe, which trains nothing; leave it out"),
])
def test_executor_flags_are_checked_before_anything_is_written(flags, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails as if Ray were not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    argv = ["--data-dir", str(tmp_path / "none"), "--weights", "none", "--output", str(tmp_path / "out"), *flags]
    assert run(transfer.main, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_multiworker_and_ray_are_refused_together(tmp_path, capsys):
    pytest.importorskip("ray")
    argv = ["--data-dir", str(tmp_path), "--weights", "none", "--executor", "ray", "--strategy", "multiworker",
            "--output", str(tmp_path / "out")]
    assert run(transfer.main, argv) == 2
    assert "with --executor ray each run is a trial of its own" in capsys.readouterr().err


@pytest.mark.slow
def test_the_sweep_on_ray_equals_the_serial_sweep_in_every_number_and_a_rerun_keeps_it(tmp_path, capsys):
    ray = pytest.importorskip("ray")
    import keras

    from pyimagesearch.core import sweep_ray

    data = make_colour_folder(tmp_path / "colours", per_class=6)
    init = tmp_path / "init.weights.h5"
    keras.utils.set_random_seed(SEED)
    keras.applications.ResNet50(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3),
                                pooling="avg").save_weights(init)
    serial = subprocess.run([sys.executable, "transfer.py", *sweep_argv(data, init, tmp_path / "serial")], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ, **ONE_THREAD})
    assert serial.returncode == 0, serial.stderr
    started = sweep_ray.start_ray(num_cpus=2)
    try:
        assert run(transfer.main, [*sweep_argv(data, init, tmp_path / "ray"), "--executor", "ray"]) == 0
        first = capsys.readouterr().out.splitlines()
        assert run(transfer.main, [*sweep_argv(data, init, tmp_path / "ray"), "--executor", "ray"]) == 0
        again = capsys.readouterr().out.splitlines()
    finally:
        if started:
            ray.shutdown()

    expected, found = numbers(tmp_path / "serial" / "colours"), numbers(tmp_path / "ray" / "colours")
    runs = ["feature_lr1e-05", "finetune_lr1e-05"]
    assert {f"{name}/{file}" for name in runs for file in ("metrics.json", "history.csv", "correctness.json")} <= set(found)
    assert sorted(found) == sorted(expected)
    for name in expected:
        assert found[name] == expected[name], name
    folder = tmp_path / "ray" / "colours"
    assert completion(folder) is not None and (folder / "summary.md").is_file() and (folder / "ray_tune").is_dir()
    assert sorted(path.name for path in (folder / "logs").iterdir()) == sorted(f"{name}.log" for name in runs)
    assert sorted(line.split(": ")[0] for line in first if line.endswith(": started")) == [
        "[1/2] finetune_lr1e-05", "[2/2] feature_lr1e-05"]
    assert any(line.startswith("2 trials in ") and line.endswith(": 2 ran (with Ray, 1 CPU per trial), 0 kept from before")
               for line in first), first
    # The same command again: the finished folder is kept as it is, no trial starts.
    assert not any(line.endswith(": started") for line in again)
    assert any("is finished with these settings (2 run(s)); kept as it is" in line for line in again), again
