"""One owner per results folder: a second process stops at once, other settings never replace results without --overwrite."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import find_lr
import train_lenet
from pyimagesearch.core.cli import run
from pyimagesearch.core.run import completion
from pyimagesearch.records.lenet import RunMetrics
from pyimagesearch.records.lr_finder import read_grid

ROOT = Path(__file__).resolve().parents[2]
HOLDER = ROOT / "tests" / "lenet" / "hold_at_rename.py"
FIXED = ["--policy", "fixed", "--lr", "0.05", "--epochs", "1", "--limit", "500", "--quiet"]
GRID = ["--grid", "2", "--epochs", "1", "--start-lr", "1e-3", "--end-lr", "1e-1", "--limit", "600", "--quiet"]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def one_sentence(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def start_holding(script: str, argv: list[str], hold_at: str, release: Path) -> subprocess.Popen:
    env = {**os.environ, "HOLD_AT": hold_at, "HOLD_UNTIL": str(release)}
    return subprocess.Popen([sys.executable, str(HOLDER), script, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_lock(folder: Path, process: subprocess.Popen) -> None:
    """Until ``process`` holds the folder's lock and has written its config.json."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        lock = folder / ".lock"
        if lock.exists() and f"process {process.pid} " in lock.read_text() and (folder / "config.json").exists():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError("the first process never took the folder")


def race(tmp_path, script, first, second, hold_at):
    """The first process holds the folder; the second, started then, must stop with one sentence naming it."""
    folder = tmp_path / "out"
    release = tmp_path / "release"
    holder = start_holding(script, [*first, "--output", str(folder)], hold_at, release)
    try:
        wait_for_lock(folder, holder)
        other = subprocess.run([sys.executable, script, *second, "--output", str(folder)], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    finally:
        release.write_text("")
    out, err = holder.communicate(timeout=600)
    assert holder.returncode in (0, 2), err
    assert other.returncode == 2
    one_sentence(other.stderr)
    assert f"{folder} is being written by process {holder.pid} on " in other.stderr
    return folder, holder


@pytest.mark.slow
def test_two_training_runs_into_one_folder_one_runs_the_other_stops(tmp_path):
    folder, holder = race(tmp_path, "train_lenet.py", FIXED, [*FIXED[:2], "--lr", "0.01", *FIXED[4:]], "log.txt")
    assert holder.returncode == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["lr"] == 0.05 and completion(folder)["kind"] == "lenet-run"  # the first run's settings and results
    assert RunMetrics.read(folder).epochs == 1


@pytest.mark.slow
def test_two_grids_into_one_folder_one_runs_the_other_stops(tmp_path):
    folder, holder = race(tmp_path, "find_lr.py", GRID, [*GRID[:5], "1e-4", *GRID[6:]], "lr_grid.csv")
    config = json.loads((folder / "config.json").read_text())
    assert config["start_lr"] == 1e-3 and [row.lr for row in read_grid(folder)] == pytest.approx([1e-3, 1e-1])
    assert completion(folder)["kind"] == "lr-grid"


def test_a_finished_run_is_kept_other_settings_are_refused_and_overwrite_replaces(tmp_path, capsys):
    folder = tmp_path / "fixed"
    assert run(train_lenet.main, [*FIXED, "--output", str(folder)]) == 0
    before = snapshot(folder)
    capsys.readouterr()
    assert run(train_lenet.main, [*FIXED, "--batch", "128", "--output", str(folder)]) == 2
    err = one_sentence(capsys.readouterr().err)
    assert f"{folder} holds results of other settings (stages " in err and "pass --overwrite to replace them" in err
    assert snapshot(folder) == before
    assert run(train_lenet.main, [*FIXED, "--output", str(folder)]) == 0  # the same settings: kept as they are
    assert "finished: its results are kept" in capsys.readouterr().out and snapshot(folder) == before
    assert run(train_lenet.main, [*FIXED, "--batch", "128", "--overwrite", "--output", str(folder)]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["stages"][0]["batch_size"] == 128 and completion(folder) is not None
    assert RunMetrics.read(folder).optimizer_steps == 4  # 450 training images in batches of 128


def test_a_finished_grid_is_kept_and_other_settings_are_refused(tmp_path, capsys):
    folder = tmp_path / "grid"
    status = run(find_lr.main, [*GRID, "--output", str(folder)])
    before = snapshot(folder)
    capsys.readouterr()
    assert run(find_lr.main, [*GRID, "--output", str(folder)]) == status
    assert "finished: its results are kept" in capsys.readouterr().out and snapshot(folder) == before
    assert run(find_lr.main, [*GRID, "--momentum", "0.5", "--output", str(folder)]) == 2
    assert "holds results of other settings (momentum 0.9 then, 0.5 now)" in one_sentence(capsys.readouterr().err)
    assert snapshot(folder) == before


def test_seeds_folder_refuses_other_seeds_and_keeps_its_runs(tmp_path, capsys):
    folder = tmp_path / "seeds"
    assert run(train_lenet.main, [*FIXED, "--seeds", "2", "--output", str(folder)]) == 0
    before = snapshot(folder)
    capsys.readouterr()
    assert run(train_lenet.main, [*FIXED, "--seeds", "3", "--output", str(folder)]) == 2
    assert "seeds [42, 1] then, [42, 1, 2] now" in one_sentence(capsys.readouterr().err)
    assert snapshot(folder) == before
    assert completion(folder)["kind"] == "lenet-seeds" and completion(folder / "seed-1")["kind"] == "lenet-run"


def free_ports(count):
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_seeds_on_two_workers_only_the_chief_aggregates(tmp_path):
    out, ports = tmp_path / "mw", free_ports(2)
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                                      "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen([sys.executable, "train_lenet.py", *FIXED, "--batch", "32", "--seeds", "42,1",
                                         "--strategy", "multiworker", "--output", str(out)], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for worker in workers:
        _, err = worker.communicate(timeout=900)
        assert worker.returncode == 0, err[-2000:]
    assert completion(out)["kind"] == "lenet-seeds" and (out / "metrics.json").exists()
    for seed in (42, 1):  # the chief reads its own seed runs; worker 1 keeps its copies in its own folder
        assert completion(out / f"seed-{seed}") and not (out / f"seed-{seed}" / "worker-1").exists()
        assert completion(out / "worker-1" / f"seed-{seed}")["kind"] == "lenet-run"
    assert not (out / "worker-1" / "metrics.json").exists()  # no aggregate on a worker that is not the chief
