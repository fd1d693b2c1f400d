"""benchmarks/run.py's steps 6 and 7 (benchmarks/ray_steps.py): their record, their table, choosing the steps."""

import argparse
import copy
import importlib.util
import json
from pathlib import Path

import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.benchmark import BenchmarkResults
from tests.test_benchmark_record import RESULTS

ROOT = Path(__file__).resolve().parents[1]
SWEEP = {"command": "python find_lr.py --grid 10 --epochs 5 --batch 64 --quiet", "trials": 10, "trial_cpus": 1.0,
         "ray_cpus": 2, "rounds": 2, "seconds": {"serial": [100.0, 110.0], "ray": [80.0, 99.0]}, "serial_s": 105.0,
         "ray_s": 89.5, "ray_ratio": 0.85, "ray_ratio_spread": {"min": 0.8, "median": 0.85, "max": 0.9},
         "max_difference": 3e-7}
ONLY_RAY = {"quick": True, "when": "2026-12-02 10:00", "machine": "2 CPU cores",
            "load": [{"when": "before", "load_1min": 3.2}, {"when": "after grid_ray", "load_1min": 4.0}],
            "grid_ray": SWEEP, "seeds_ray": {**SWEEP, "command": "python train_lenet.py --seeds 3", "trials": 3}}


@pytest.fixture(scope="module")
def benchmarks():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sweep_steps_round_trip_beside_the_others_and_alone(tmp_path):
    for data in ({**RESULTS, "grid_ray": SWEEP}, ONLY_RAY):
        path = BenchmarkResults.from_json(data).write(tmp_path / "results.json")
        again = BenchmarkResults.read(path)
        assert again.grid_ray.ray_ratio == 0.85 and again.grid_ray.ray_ratio_spread.max == 0.9
        assert json.loads(path.read_text())["grid_ray"]["seconds"] == SWEEP["seconds"]


@pytest.mark.parametrize("key, value, sentence", [
    ("ray_ratio", float("nan"), "(grid_ray): ray_ratio = nan is not a finite number"),
    ("ray_ratio", 0.0, "(grid_ray): ray_ratio = 0.0 must be finite and > 0"),
    ("max_difference", -1.0, "(grid_ray): max_difference = -1.0"),
    ("seconds", {"serial": [1.0], "ray": [-2.0]}, "has 'ray' that"),
])
def test_a_bad_sweep_value_is_named(tmp_path, key, value, sentence):
    data = copy.deepcopy(ONLY_RAY)
    data["grid_ray"][key] = value
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"kind": "benchmark", "schema": 1, **data}))
    with pytest.raises(RecordError) as error:
        BenchmarkResults.read(path)
    assert sentence in str(error.value) and str(error.value).startswith(str(path))


def test_a_missing_sweep_field_is_named(tmp_path):
    data = copy.deepcopy(ONLY_RAY)
    del data["seeds_ray"]["ray_s"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"kind": "benchmark", "schema": 1, **data}))
    with pytest.raises(RecordError, match=r"\(seeds_ray\): ray_s is missing"):
        BenchmarkResults.read(path)


def test_the_tables_show_the_sweeps_with_or_without_the_other_steps(benchmarks):
    alone = benchmarks.markdown(BenchmarkResults.from_json(ONLY_RAY))
    assert "some steps only" in alone and alone.count("\n| `python ") == 2
    assert ("| `python find_lr.py --grid 10 --epochs 5 --batch 64 --quiet`: 10 runs; Ray 1 CPU per trial on 2 "
            "(2 rounds) | 105.0 | 89.5 | 0.85 | 0.80 / 0.85 / 0.90 | 3e-07 |") in alone
    assert "Load average over the last minute: 3.20 before, 4.00 after grid_ray; the machine was busy" in alone
    both = benchmarks.markdown(BenchmarkResults.from_json({**RESULTS, "grid_ray": SWEEP}))
    assert both.count("\n| `python ") == 1 and "LeNet-5 training, images/s" in both
    assert benchmarks.markdown(BenchmarkResults.from_json(RESULTS)).count("\n| ") == 7  # unchanged without them


def test_steps_are_chosen_by_name_in_the_benchmarks_order(benchmarks):
    assert benchmarks.step_list("seeds_ray,grid") == ["grid", "seeds_ray"]
    with pytest.raises(argparse.ArgumentTypeError, match="the steps are throughput, finder"):
        benchmarks.step_list("grid,ray")
