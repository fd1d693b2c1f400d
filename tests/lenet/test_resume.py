"""train_lenet.py killed right before its file renames, started again: the results of a run never interrupted.

One uninterrupted run records every rename it makes (``tests/kill_at_rename.py``);
a chain of runs in a second folder is killed before one rename of each kind
(a result file, a log line, a checkpoint's state, the checkpoint folder
itself, a plot, the final model), each run resuming what the last one left.
The chain's ``history.csv`` and ``metrics.json`` must equal the
uninterrupted run's exactly, wall-clock fields aside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pyimagesearch.core.outputs import read_csv

ROOT = Path(__file__).resolve().parents[2]
KILLER = ROOT / "tests" / "kill_at_rename.py"
COMMAND = ["train_lenet.py", "--policy", "clr", "--lr-min", "0.001", "--lr-max", "0.05", "--step-size", "1",
           "--batch", "64", "--limit", "512", "--epochs", "3", "--quiet"]
WALL_CLOCK = {"time_s", "train_time_s"}
# Each run of the chain dies before the K-th rename onto NAME that it makes itself.
CHAIN = ["config.json#1",   # before anything is written
         "log.txt#3",       # among the start-up lines
         "history.csv#1",   # epoch 1 trained, its row not yet written
         "epoch-0002#1",    # epoch 2's checkpoint complete but not yet in place: resume after epoch 1
         "history.csv#3",   # resumed after epoch 1 (history rewritten, epoch 2's row); dies before epoch 3's row
         "curves.png#1",    # every epoch done and saved, no plot yet
         "metrics.json#1",
         "model.keras#1"]


def launch(folder: Path, kill_at: str = "", trace: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "KILL_AT": kill_at, "RENAME_TRACE": str(trace or "")}
    return subprocess.run([sys.executable, str(KILLER), *COMMAND, "--output", str(folder)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def results(folder: Path) -> tuple[list[dict], dict]:
    history = [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in read_csv(folder / "history.csv")]
    metrics = {k: v for k, v in json.loads((folder / "metrics.json").read_text()).items() if k not in WALL_CLOCK}
    return history, metrics


def run_chain(folder: Path) -> list[tuple[str, int, str]]:
    statuses = []
    for kill_at in CHAIN + [""]:
        process = launch(folder, kill_at)
        statuses.append((kill_at, process.returncode, process.stderr[-1500:]))
    return statuses


@pytest.mark.slow
def test_runs_killed_before_each_kind_of_rename_resume_to_the_uninterrupted_result(tmp_path):
    trace = tmp_path / "renames.txt"
    with ThreadPoolExecutor(2) as pool:
        whole = pool.submit(launch, tmp_path / "whole", "", trace)
        chain = pool.submit(run_chain, tmp_path / "killed")
        whole, statuses = whole.result(), chain.result()
    assert whole.returncode == 0, whole.stderr[-2000:]
    renamed = trace.read_text().split()
    for kill_at in CHAIN:  # every kill point is a rename the run really makes
        name, _, count = kill_at.partition("#")
        assert renamed.count(name) >= int(count), kill_at
    for kill_at, status, stderr in statuses:
        assert status == (9 if kill_at else 0), f"{kill_at or 'last run'}: {stderr}"
    killed = tmp_path / "killed"
    assert results(killed) == results(tmp_path / "whole")
    log = (killed / "log.txt").read_text()
    assert "resuming after epoch 1" in log and "resuming after epoch 2" in log and "resuming after epoch 3" in log
    assert sorted(p.name for p in killed.iterdir()) == sorted(p.name for p in (tmp_path / "whole").iterdir())
