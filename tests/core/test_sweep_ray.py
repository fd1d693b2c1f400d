"""core.sweep on a local Ray: the same numbers as the serial path, after a killed worker or driver too.

The tests share one local Ray (``ray.init(num_cpus=2)``, shut down at the end
of the module); the driver-restart test starts its own, in a child process, and
runs first, before the shared one is up. The LeNet trial is one LR of
find_lr.py's grid (``lenet.grid.run_lr_grid``) run as its own ``RunFolder``:
what a command's ``run_one`` looks like.
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pyimagesearch.core.errors import RunError
from pyimagesearch.core.run import COMPLETE_NAME, RunFolder, completion
from pyimagesearch.core.sweep import Trial, run_trials
from tests.core.test_sweep import parse, toy_point, toy_trials

ROOT = Path(__file__).resolve().parents[2]
LENET = {"data_dir": None, "val_fraction": 0.1, "limit": 320, "epochs": 1, "batch": 64, "momentum": 0.9,
         "seed": 42, "stop_factor": 4.0}
LRS = (1e-3, 1e-2, 1e-1)


# -- what a command's run_one looks like ------------------------------------------------------------------
def lenet_grid_point(trial):
    """One LR of the literal grid as its own run: the grid's own per-LR training, into the trial's folder."""
    from pyimagesearch.core.outputs import write_json
    from pyimagesearch.lenet.data import load_splits
    from pyimagesearch.lenet.grid import run_lr_grid

    s = trial.settings
    with RunFolder(trial.folder, "lr-grid-point", s, seed=s["seed"], tensorflow=True) as run:
        if run.finished:
            return
        data = load_splits(s["data_dir"], s["val_fraction"], s["seed"], s["limit"])
        (row,) = run_lr_grid(data, [s["lr"]], s["epochs"], s["batch"], momentum=s["momentum"], seed=s["seed"],
                             stop_factor=s["stop_factor"], verbose=0)
        write_json(Path(trial.folder) / "row.json", row)
        run.complete(quick=True, summary={key: row[key] for key in ("final_train_loss", "train_accuracy", "diverged")})


def lenet_trials(root):
    return [Trial(f"lr-{lr:g}", root / f"lr-{lr:g}", {**LENET, "lr": lr}) for lr in LRS]


def numbers(root):
    """Every number of every trial, the wall time left out."""
    rows = {}
    for trial in lenet_trials(root):
        row = json.loads((Path(trial.folder) / "row.json").read_text())
        row.pop("seconds")
        rows[trial.name] = row
    return rows


# -- LeNet-5's grid: serial, then on Ray -------------------------------------------------------------------
@pytest.fixture(scope="module")
def serial_grid(tmp_path_factory):
    """The 3-LR grid run one after another in this process: the numbers every Ray run must give."""
    root = tmp_path_factory.mktemp("serial")
    results = run_trials(lenet_trials(root), lenet_grid_point, parse(), log=lambda line: None)
    assert [result.status for result in results] == ["ran"] * 3
    return numbers(root)


def drive(root):
    """The driver a command would be: the grid on a local Ray started here (all cores, the default share)."""
    run_trials(lenet_trials(Path(root)), lenet_grid_point, parse("--executor", "ray"), name="grid")


def start_driver(root):
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.core.test_sweep_ray import drive; drive(sys.argv[1])"
    return subprocess.Popen([sys.executable, "-c", code, str(root)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def session_members(session):
    """The processes of a session (the driver and every Ray process it started, wherever they were reparented)."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == session:
                members.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    return members


def stop_session(process, folders=()):
    """Kill what is left of our own driver's session (Ray's agents outlive a SIGKILLed driver), by process id,
    and wait until no process holds a trial's folder."""
    deadline = time.monotonic() + 60
    while (members := session_members(process.pid)) and time.monotonic() < deadline:
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    process.wait(timeout=60)
    for folder in folders:
        with open(Path(folder) / ".lock", "a") as lock:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, f"{folder} is still held"
                    time.sleep(0.2)


@pytest.mark.slow
def test_the_driver_killed_and_started_again_keeps_what_finished_and_ends_with_the_serial_numbers(tmp_path, serial_grid):
    pytest.importorskip("ray")
    driver = start_driver(tmp_path)
    try:
        deadline = time.monotonic() + 400
        while not any((Path(trial.folder) / COMPLETE_NAME).exists() for trial in lenet_trials(tmp_path)):
            assert driver.poll() is None, driver.stdout.read()
            assert time.monotonic() < deadline, "no trial finished"
            time.sleep(0.1)
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        stop_session(driver, [trial.folder for trial in lenet_trials(tmp_path) if Path(trial.folder).is_dir()])
    done = {trial.name: (Path(trial.folder) / "row.json").read_bytes()
            for trial in lenet_trials(tmp_path) if completion(trial.folder)}
    assert 1 <= len(done) < 3  # killed mid-sweep: some finished, the rest to do
    again = start_driver(tmp_path)
    try:
        output, _ = again.communicate(timeout=500)
    finally:
        stop_session(again)
    assert again.returncode == 0, output
    for name in done:
        assert f"{name}: finished earlier, kept" in output
        assert (tmp_path / name / "row.json").read_bytes() == done[name]  # kept byte for byte
    assert numbers(tmp_path) == serial_grid
    summary = output.splitlines()[-1]
    assert summary.startswith("3 trials in ") and f": {3 - len(done)} ran (with Ray, " in summary
    assert summary.endswith(f", {len(done)} kept from before")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's tests, on 2 CPUs; shut down at the end so no Ray process is left."""
    ray = pytest.importorskip("ray")
    from pyimagesearch.core import sweep_ray

    started = sweep_ray.start_ray(num_cpus=2)
    yield ray
    if started:
        ray.shutdown()


@pytest.mark.slow
def test_ray_trials_get_their_thread_share_kept_ones_start_no_ray_work_and_errors_are_one_sentence(tmp_path, local_ray):
    trials = toy_trials(tmp_path, 2) + [Trial("t2", tmp_path / "t2", {"value": 2, "refuse": True})]
    toy_point(trials[0])  # finished before: kept, no Ray trial for it
    lines = []
    with pytest.raises(RunError, match=r"^trial t2 refuses to run$"):
        run_trials(trials, toy_point, parse("--executor", "ray", "--trial-cpus", "1"), name="toy", log=lines.append)
    summaries = [completion(trial.folder)["summary"] for trial in trials[:2]]
    assert [summary["value"] for summary in summaries] == [0, 2]
    assert {key: summaries[1][key] for key in ("intra", "inter", "env")} == {"intra": 1, "inter": 1, "env": "1"}
    experiment, = (tmp_path / "ray_tune").iterdir()
    assert sorted(path.name for path in experiment.iterdir() if path.is_dir()) == ["t1", "t2"]
    assert lines[0].startswith("[1/3] t0: finished earlier, kept (value = 0")
    assert sorted(line for line in lines if "started" in line) == ["[2/3] t1: started", "[3/3] t2: started"]
    assert sum(line.startswith("[2/3] t1: finished in ") for line in lines) == 1
    assert "[3/3] t2: failed: trial t2 refuses to run" in lines  # and not started again
    results = run_trials(trials[:2], toy_point, parse("--executor", "ray"), name="toy", log=lines.append)
    assert [r.status for r in results] == ["kept"] * 2 and [r.summary for r in results] == summaries
    assert lines[-1].endswith(": 0 ran, 2 kept from before")


@pytest.mark.slow
def test_the_lenet_grid_on_ray_equals_the_serial_grid_also_where_a_worker_was_killed_and_retried(
        tmp_path, local_ray, serial_grid):
    """Two trials run undisturbed; the third's worker is SIGKILLed mid-run, retried, and resumes from its folder."""
    target = Path(lenet_trials(tmp_path)[1].folder)
    killed = []

    def kill_mid_run():
        """SIGKILL the process holding the trial's folder once it has begun (config written, not finished)."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            holder = (target / ".lock").read_text() if (target / ".lock").exists() else ""
            if holder.startswith("process ") and (target / "config.json").exists():
                pid = int(holder.split()[1])
                assert completion(target) is None
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.02)

    watcher = threading.Thread(target=kill_mid_run, daemon=True)
    watcher.start()
    lines = []
    results = run_trials(lenet_trials(tmp_path), lenet_grid_point, parse("--executor", "ray", "--trial-cpus", "1"),
                         name="grid", log=lines.append)
    watcher.join(timeout=5)
    assert killed and killed[0] != os.getpid()
    assert any(line.startswith("[2/3] lr-0.01: its worker failed") for line in lines), lines
    assert "[2/3] lr-0.01: started again (attempt 2 of 3)" in lines
    assert [r.status for r in results] == ["ran"] * 3
    assert numbers(tmp_path) == serial_grid
