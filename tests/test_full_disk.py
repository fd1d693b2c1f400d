"""The three scripts on a really full disk: a small tmpfs as --output, in a private mount namespace.

Each ends with one sentence naming the folder (exit 2), leaves no temporary
file or partial checkpoint, and every file it wrote is whole. Needs
``unshare`` with user and mount namespaces; skipped where they are not allowed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.core.outputs import read_csv

ROOT = Path(__file__).resolve().parents[1]


def namespaces_allowed() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not namespaces_allowed(), reason="needs unshare with user and mount namespaces")]

# Mounts a tmpfs of $1 on $2, runs the rest, then copies what was written to $3 (the tmpfs vanishes with the namespace).
ON_FULL_DISK = 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; disk="$2"; copy="$3"; shift 3; "$@"; status=$?; ' \
               'cp -a "$disk/." "$copy/"; exit $status'


def on_full_disk(tmp_path: Path, size: str, *argv: str) -> tuple[subprocess.CompletedProcess, Path]:
    disk, copy = tmp_path / "disk", tmp_path / "copy"
    disk.mkdir()
    copy.mkdir()
    command = ["unshare", "-rm", "sh", "-c", ON_FULL_DISK, "sh", size, str(disk), str(copy), sys.executable, *argv,
               "--output", str(disk / "out")]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900), copy / "out"


def check_clean_ending(process: subprocess.CompletedProcess, copy: Path, disk_out: Path) -> None:
    assert process.returncode == 2, process.stderr[-2000:]
    assert "Traceback" not in process.stderr
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot write ") and ": No space left on device; free some space in " in last
    assert str(disk_out) in last and last.endswith(" or choose another --output")
    for path in copy.rglob("*"):
        assert ".partial" not in path.name, path
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            read_csv(path)


def test_train_lenet_on_a_full_disk(tmp_path):
    process, copy = on_full_disk(tmp_path, "1m", "train_lenet.py", "--policy", "fixed", "--lr", "0.05", "--limit",
                                 "600", "--epochs", "4", "--quiet")
    check_clean_ending(process, copy, tmp_path / "disk" / "out")
    # What was written before the disk filled up is intact: the history and the newest whole checkpoint.
    rows = read_csv(copy / "history.csv")
    newest = max((copy / "checkpoint").iterdir())
    state = json.loads((newest / "state.json").read_text())
    assert 1 <= state["epochs_done"] <= len(rows)
    assert [row["epoch"] for row in state["history"]] == list(range(1, state["epochs_done"] + 1))


def test_find_lr_on_a_full_disk(tmp_path):
    process, copy = on_full_disk(tmp_path, "8k", "find_lr.py", "--limit", "1000", "--batch", "32", "--sample-size",
                                 "300", "--quiet")
    check_clean_ending(process, copy, tmp_path / "disk" / "out")
    assert sorted(p.name for p in copy.iterdir()) == [".lock", "config.json"]  # a config.json with no results beside it


def test_transfer_on_a_full_disk(tmp_path):
    from tests.transfer.test_transfer import make_colour_folder

    data = make_colour_folder(tmp_path / "colours", per_class=3)
    process, copy = on_full_disk(tmp_path, "96k", "transfer.py", "--data-dir", str(data), "--mode", "finetune",
                                 "--lr", "1e-5", "--epochs", "2", "--batch-size", "4", "--image-size", "32",
                                 "--weights", "none")
    check_clean_ending(process, copy, tmp_path / "disk" / "out")
    # Every file whole; the folder's .lock (core.run.RunFolder) is empty whenever no process holds it.
    assert np.all([p.stat().st_size > 0 for p in copy.rglob("*") if p.is_file() and p.name != ".lock"])
