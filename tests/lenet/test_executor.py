"""Problem 1's sweeps on core.sweep: find_lr.py --grid and train_lenet.py --seeds, serial and on a local Ray.

The slow tests share one local Ray (``ray.init(num_cpus=2)``, shut down at the
end of the module). A Ray trial gets one core, and TensorFlow's thread pools
one thread; the serial reference runs in a child process with the same thread
pools, since float32 sums split over another number of threads differ in the
last digits (the runs' random streams are the same either way).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import find_lr
import train_lenet
from pyimagesearch.core.cli import UserError, run
from pyimagesearch.core.outputs import read_csv
from pyimagesearch.core.run import RunFolder, completion
from pyimagesearch.core.sweep import Trial
from pyimagesearch.lenet.executor import command_trial, run_command
from pyimagesearch.lenet.grid import point_names

ROOT = Path(__file__).resolve().parents[2]
GRID = ["--grid", "3", "--epochs", "1", "--start-lr", "1e-3", "--end-lr", "1e-1", "--limit", "320", "--quiet"]
SEEDS = ["--policy", "fixed", "--lr", "0.01", "--epochs", "1", "--limit", "320", "--seeds", "2", "--quiet"]
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


# -- flags refused where there is no sweep: one sentence, exit 2 -------------------------------------------
@pytest.mark.parametrize("parse, argv, sentence", [
    (find_lr.parse_args, ["--executor", "ray"], "--executor ray spread a sweep's runs, but the range test is one run; "
                                                "add --grid N or leave them out"),
    (find_lr.parse_args, ["--trial-cpus", "1", "--ray-address", "auto"],
     "--ray-address and --trial-cpus spread a sweep's runs, but the range test is one run"),
    (find_lr.parse_args, ["--grid", "3", "--executor", "ray", "--strategy", "multiworker"],
     "--executor ray gives each trial its own share of the machine, while --strategy multiworker spreads one run"),
    (train_lenet.parse_args, ["--policy", "fixed", "--executor", "ray"],
     "--executor ray spread a sweep's runs, but without --seeds this is one run; add --seeds or leave them out"),
    (train_lenet.parse_args, ["--policy", "fixed", "--seeds", "2", "--executor", "ray", "--strategy", "mirrored"],
     "while --strategy mirrored spreads one run over several devices or workers; use one of them"),
])
def test_executor_flags_without_a_sweep_are_refused_in_one_sentence(parse, argv, sentence, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and sentence in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].count(". ") == 0  # one sentence


def test_a_ray_flag_on_a_serial_sweep_is_refused_before_anything_is_written(tmp_path, capsys):
    assert run(find_lr.main, [*GRID, "--trial-cpus", "1", "--output", str(tmp_path / "grid")]) == 2
    assert capsys.readouterr().err == "error: --trial-cpus only apply to --executor ray; add --executor ray or leave it out\n"
    assert run(train_lenet.main, [*SEEDS, "--trial-gpus", "1", "--output", str(tmp_path / "seeds")]) == 2
    assert "--trial-gpus only apply to --executor ray" in capsys.readouterr().err
    assert not (tmp_path / "grid").exists() and not (tmp_path / "seeds").exists()


def test_compare_refuses_the_executor_flags_as_training_flags(tmp_path, capsys):
    assert run(train_lenet.main, ["--compare", str(tmp_path / "a"), str(tmp_path / "b"), "--executor", "ray"]) == 2
    assert "--executor set training, but --compare only reads finished runs" in capsys.readouterr().err


def test_grid_points_are_named_by_the_fewest_digits_that_tell_them_apart():
    assert point_names([1e-9, 1.2915496650148827e-08, 10.0]) == ["lr-1e-09", "lr-1.29e-08", "lr-10"]
    assert point_names([1e-3, 1.0001e-3]) == ["lr-0.001", "lr-0.0010001"]
    with pytest.raises(ValueError, match="Argument `lrs` must hold distinct learning rates"):
        point_names([0.1, 0.1])


def test_a_command_trial_that_leaves_its_folder_unfinished_is_its_own_sentence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the command runs in the project's folder: its --output is made absolute
    trial = command_trial("small", "run", "find_lr.py", ["--limit", "100", "--batch", "400", "--quiet"])
    with pytest.raises(UserError) as error:
        run_command(trial)
    assert str(error.value) == (f"python find_lr.py --limit 100 --batch 400 --quiet --output {tmp_path / 'run'} ended "
                                f"with status 2 and left {tmp_path / 'run'} unfinished: only 90 training images for a "
                                "batch of 400; lower --batch or raise --limit")


def test_the_rule_study_logs_a_failed_run_and_runs_the_others(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("lr_rule_study", ROOT / "benchmarks" / "lr_rule_study.py")
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)

    def toy_command(trial):
        if trial.name == "t1":
            raise UserError("t1 diverged")
        with RunFolder(trial.folder, "toy", {}) as folder:
            folder.complete()

    monkeypatch.setattr(study, "run_command", toy_command)
    trials = [Trial(f"t{index}", tmp_path / f"t{index}", {"script": "x.py", "argv": []}) for index in range(3)]
    lines, tables = [], []
    study.run_study_trials(trials, study.build_parser().parse_args([]), lines.append, "toy", go_on=True,
                           after=lambda: tables.append(len(tables)))
    assert [completion(trial.folder) is not None for trial in trials] == [True, False, True]
    assert "t1 diverged" in lines and tables == [0, 1, 2]  # the tables rewritten after every run
    with pytest.raises(UserError, match="t1 diverged"):  # the range tests: a failure ends the study
        study.run_study_trials(trials, study.build_parser().parse_args([]), lines.append, "toy")


# -- on a local Ray: the serial numbers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's tests, on 2 CPUs; shut down at the end so no Ray process is left."""
    ray = pytest.importorskip("ray")
    from pyimagesearch.core import sweep_ray

    started = sweep_ray.start_ray(num_cpus=2)
    yield ray
    if started:
        ray.shutdown()


def serial(script, argv, folder):
    """The command, serial, in a child process whose TensorFlow has the thread pools of a one-core trial."""
    result = subprocess.run([sys.executable, script, *argv, "--output", str(folder)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, env={**os.environ, **ONE_THREAD, "PYTHONPATH": str(ROOT)})
    assert completion(folder) is not None, result.stderr[-2000:]
    return result.returncode


def without(rows, *keys):
    return [{key: value for key, value in row.items() if key not in keys} for row in rows]


@pytest.mark.slow
def test_a_grid_on_ray_equals_the_serial_grid_in_every_number(tmp_path, local_ray, capsys):
    status = serial("find_lr.py", GRID, tmp_path / "serial")  # 2 when the short runs suggest no range
    assert run(find_lr.main, [*GRID[:-1], "--executor", "ray", "--trial-cpus", "1", "--output", str(tmp_path / "ray")]) == status
    printed = capsys.readouterr().out
    assert "3 trials in " in printed and ": 3 ran (with Ray, 1 CPU per trial), 0 kept from before" in printed
    for side in ("serial", "ray"):
        assert sorted(path.name for path in (tmp_path / side).iterdir() if path.name.startswith("lr-")) == [
            "lr-0.001", "lr-0.01", "lr-0.1"]
    assert without(read_csv(tmp_path / "ray" / "lr_grid.csv"), "seconds") == \
        without(read_csv(tmp_path / "serial" / "lr_grid.csv"), "seconds")
    assert read_csv(tmp_path / "ray" / "lr_grid_history.csv") == read_csv(tmp_path / "serial" / "lr_grid_history.csv")
    suggestions = [json.loads((tmp_path / side / "suggestion.json").read_text()) for side in ("serial", "ray")]
    assert without(suggestions, "seconds")[0] == without(suggestions, "seconds")[1]
    points = [json.loads((tmp_path / side / "lr-0.01" / "grid_row.json").read_text()) for side in ("serial", "ray")]
    assert without(points, "seconds")[0] == without(points, "seconds")[1]
    # The trials ran in Ray's workers, not here: each point's folder names its own process.
    assert completion(tmp_path / "ray" / "lr-0.01")["kind"] == "lr-grid-point"
    # Started again, everything is kept and nothing runs, on Ray as serially.
    assert run(find_lr.main, [*GRID, "--executor", "ray", "--output", str(tmp_path / "ray")]) == status
    assert "holds this grid, finished: its results are kept" in capsys.readouterr().out


@pytest.mark.slow
def test_seeds_on_ray_equal_the_serial_seeds(tmp_path, local_ray, capsys):
    serial("train_lenet.py", SEEDS, tmp_path / "serial")
    assert run(train_lenet.main, [*SEEDS, "--executor", "ray", "--output", str(tmp_path / "ray")]) == 0
    printed = capsys.readouterr().out
    assert ": 2 ran (with Ray, 1 CPU per trial), 0 kept from before" in printed
    assert "test accuracy over seeds 42, 1: mean " in printed
    for seed in (42, 1):
        sides = [tmp_path / side / f"seed-{seed}" for side in ("serial", "ray")]
        metrics = [json.loads((folder / "metrics.json").read_text()) for folder in sides]
        assert without(metrics, "train_time_s")[0] == without(metrics, "train_time_s")[1]
        histories = [without(read_csv(folder / "history.csv"), "time_s") for folder in sides]
        assert histories[0] == histories[1]
        configs = [json.loads((folder / "config.json").read_text()) for folder in sides]
        assert "executor" not in configs[1] and configs[0]["description"] == configs[1]["description"]
    aggregates = [json.loads((tmp_path / side / "metrics.json").read_text()) for side in ("serial", "ray")]
    assert aggregates[0]["test_accuracy"] == aggregates[1]["test_accuracy"]
    assert without([aggregates[0]], "train_time_s") == without([aggregates[1]], "train_time_s")
