"""core.sweep: the executor's flags, the serial path, trials, and ``--executor ray`` without Ray.

The runs on a local Ray are in test_sweep_ray.py.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyimagesearch.core.cli import UserError, run as run_command
from pyimagesearch.core.run import COMPLETE_NAME, RunFolder, RunFolderError
from pyimagesearch.core.sweep import Trial, add_executor_arguments, check_trials, run_trials

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_executor_arguments(parser)
    return parser.parse_args(list(argv))


# -- a run without training --------------------------------------------------------------------------------
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
