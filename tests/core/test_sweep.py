"""core.sweep: a sweep's trials one after another or as Ray Tune trials, with the same results either way.

The Ray tests share one local Ray (``ray.init(num_cpus=2)``, shut down at the
end of the module); the driver-restart test starts its own, in a child process.
The LeNet trial is one LR of find_lr.py's grid (``lenet.grid.run_lr_grid``),
run as its own ``RunFolder``: what a command's ``run_one`` looks like.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pyimagesearch.core.cli import UserError, run as run_command
from pyimagesearch.core.run import COMPLETE_NAME, RunFolder, RunFolderError, completion
from pyimagesearch.core.sweep import Trial, add_executor_arguments, check_trials, run_trials

ROOT = Path(__file__).resolve().parents[2]
LENET = {"data_dir": None, "val_fraction": 0.1, "limit": 320, "epochs": 1, "batch": 64, "momentum": 0.9,
         "seed": 42, "stop_factor": 4.0}
LRS = (1e-3, 1e-2, 1e-1)


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_executor_arguments(parser)
    return parser.parse_args(list(argv))


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


def toy_point(trial):
    """A run without training: records the thread pools TensorFlow got and the summary it is given."""
    import tensorflow as tf

    with RunFolder(trial.folder, "toy", trial.settings) as run:
        if run.finished:
            return
        if trial.settings.get("refuse"):
            raise UserError(f"trial {trial.name} refuses to run")
        run.complete(summary={"value": trial.settings["value"] * 2,
                              "intra": tf.config.threading.get_intra_op_parallelism_threads(),
                              "inter": tf.config.threading.get_inter_op_parallelism_threads(),
                              "env": os.environ.get("TF_NUM_INTRAOP_THREADS")})


def toy_trials(root, count=3, **extra):
    return [Trial(f"t{index}", root / f"t{index}", {"value": index, **extra}) for index in range(count)]


# -- the command line -------------------------------------------------------------------------------------
def test_the_flags_default_to_serial_and_take_fractions():
    args = parse()
    assert (args.executor, args.ray_address, args.trial_cpus, args.trial_gpus) == ("serial", None, None, None)
    args = parse("--executor", "ray", "--ray-address", "ray://10.0.0.1:10001", "--trial-cpus", "0.5",
                 "--trial-gpus", "0.25")
    assert (args.executor, args.ray_address, args.trial_cpus, args.trial_gpus) == ("ray", "ray://10.0.0.1:10001", 0.5, 0.25)
    assert parse("--ray-address", "auto").ray_address == "auto"


@pytest.mark.parametrize("argv", [["--executor", "dask"], ["--trial-cpus", "0"], ["--trial-cpus", "-1"],
                                  ["--trial-cpus", "5000"], ["--trial-gpus", "nan"], ["--trial-gpus", "-0.5"],
                                  ["--ray-address", "not an address"], ["--ray-address", "http://x:1"]])
def test_bad_flags_end_in_one_sentence(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(*argv)
    assert stopped.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_every_flag_is_explained_in_help(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--executor", "--ray-address", "--trial-cpus", "--trial-gpus"):
        assert flag in text
    assert "pip install -e \".[ray]\"" in text and "fractions allowed" in text


def sweep_main(argv):
    """A command's main, as a command wires the executor."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path)
    add_executor_arguments(parser)
    args = parser.parse_args(argv)
    run_trials(toy_trials(args.output), toy_point, args, name="toy")
    return 0


def test_ray_flags_without_executor_ray_are_refused(tmp_path, capsys):
    assert run_command(sweep_main, ["--output", str(tmp_path), "--trial-cpus", "1", "--trial-gpus", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --trial-cpus and --trial-gpus only apply to --executor ray; add --executor ray or leave them out\n"
    assert not list(tmp_path.iterdir())


def test_executor_ray_without_ray_is_one_sentence_with_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails as if Ray were not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    assert run_command(sweep_main, ["--output", str(tmp_path), "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --executor ray needs Ray Tune, which is not installed")
    assert 'pip install -e ".[ray]"' in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_the_serial_path_imports_nothing_from_ray(tmp_path):
    script = (f"import sys, argparse; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path\n"
              "from pyimagesearch.core.run import RunFolder\n"
              "from pyimagesearch.core.sweep import Trial, run_trials\n"
              "def point(trial):\n"
              "    with RunFolder(trial.folder, 'toy', trial.settings) as run: run.complete(summary={'v': 1})\n"
              f"trials = [Trial(f't{{i}}', Path({str(tmp_path)!r}) / f't{{i}}', {{'i': i}}) for i in range(2)]\n"
              "run_trials(trials, point, argparse.Namespace(executor='serial'))\n"
              "print(sorted(name for name in sys.modules if name == 'ray' or name.startswith('ray.')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


# -- the serial executor ------------------------------------------------------------------------------------
def test_serial_runs_each_trial_once_and_keeps_finished_ones(tmp_path):
    calls, lines = [], []

    def point(trial):
        calls.append(trial.name)
        with RunFolder(trial.folder, "toy", trial.settings) as run:
            run.complete(summary={"value": trial.settings["value"] * 2})

    results = run_trials(toy_trials(tmp_path), point, parse(), log=lines.append)
    assert calls == ["t0", "t1", "t2"]
    assert [(r.name, r.status, r.summary) for r in results] == [("t0", "ran", {"value": 0}), ("t1", "ran", {"value": 2}),
                                                                ("t2", "ran", {"value": 4})]
    assert lines[0] == "[1/3] t0: started" and lines[1].startswith("[1/3] t0: finished in ")
    assert lines[1].endswith("s (value = 0)") and len(lines) == 7
    assert lines[-1].startswith("3 trials in ") and lines[-1].endswith(": 3 ran (one after another), 0 kept from before")
    before = (tmp_path / "t1" / COMPLETE_NAME).read_bytes()
    (tmp_path / "t1" / COMPLETE_NAME).unlink()  # t1 was interrupted: only t1 runs again
    lines.clear()
    results = run_trials(toy_trials(tmp_path), point, parse(), log=lines.append)
    assert calls[3:] == ["t1"] and [r.status for r in results] == ["kept", "ran", "kept"]
    assert lines[0] == "[1/3] t0: finished earlier, kept (value = 0)"
    assert json.loads(before)["summary"] == results[1].summary


def test_a_run_function_that_does_not_finish_its_folder_is_a_programming_error(tmp_path):
    with pytest.raises(RuntimeError, match="has no valid completion record"):
        run_trials(toy_trials(tmp_path, 1), lambda trial: None, parse(), log=lambda line: None)


def test_trials_need_unique_names_and_folders_and_a_folder(tmp_path):
    with pytest.raises(ValueError, match="unique names. Received: name 'a' 2 times"):
        check_trials([Trial("a", tmp_path / "1"), Trial("a", tmp_path / "2")])
    with pytest.raises(ValueError, match="unique folders"):
        check_trials([Trial("a", tmp_path / "1"), Trial("b", tmp_path / "1")])
    with pytest.raises(RunFolderError, match="--output is empty"):
        Trial("a", "")
    assert Trial("a", "rel/x").folder == os.path.abspath("rel/x")


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
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.core.test_sweep import drive; drive(sys.argv[1])"
    return subprocess.Popen([sys.executable, "-c", code, str(root)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def stop_session(process):
    """Kill what is left of a driver's session (Ray's agents outlive a SIGKILLed driver): our own child's group only."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=60)


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
        stop_session(driver)
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


def test_ray_trials_get_their_thread_share_kept_ones_start_no_ray_work_and_errors_are_one_sentence(tmp_path, local_ray):
    trials = toy_trials(tmp_path) + [Trial("t3", tmp_path / "t3", {"value": 3, "refuse": True})]
    toy_point(trials[0])  # finished before: kept, no Ray trial for it
    lines = []
    with pytest.raises(UserError, match=r"^trial t3 refuses to run$"):
        run_trials(trials, toy_point, parse("--executor", "ray", "--trial-cpus", "1"), name="toy", log=lines.append)
    summaries = [completion(trial.folder)["summary"] for trial in trials[:3]]
    assert [summary["value"] for summary in summaries] == [0, 2, 4]
    for summary in summaries[1:]:
        assert {key: summary[key] for key in ("intra", "inter", "env")} == {"intra": 1, "inter": 1, "env": "1"}
    experiment, = (tmp_path / "ray_tune").iterdir()
    assert sorted(path.name for path in experiment.iterdir() if path.is_dir()) == ["t1", "t2", "t3"]
    assert lines[0].startswith("[1/4] t0: finished earlier, kept (value = 0")
    assert sorted(line for line in lines if "started" in line) == ["[2/4] t1: started", "[3/4] t2: started",
                                                                   "[4/4] t3: started"]  # t3 is not retried
    assert sum(": finished in " in line for line in lines) == 2
    assert "[4/4] t3: failed: trial t3 refuses to run" in lines
    results = run_trials(trials[:3], toy_point, parse("--executor", "ray"), name="toy", log=lines.append)
    assert [r.status for r in results] == ["kept"] * 3 and [r.summary for r in results] == summaries
    assert lines[-1].endswith(": 0 ran (one after another), 3 kept from before")


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
