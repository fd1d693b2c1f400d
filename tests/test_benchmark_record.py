"""records.benchmark: results.json of benchmarks/run.py validated both ways; the benchmark's folder kept or refused."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.run import RunFolder
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.benchmark import BenchmarkResults, Spread

ROOT = Path(__file__).resolve().parents[1]

SPREAD = {"min": 1.1, "median": 1.3, "max": 1.6}
RESULTS = {
    "quick": True, "when": "2026-12-02 10:00", "machine": "2 CPU cores",
    "load": [{"when": "before", "load_1min": 0.39}, {"when": "after throughput", "load_1min": 1.58}],
    "throughput": {"images": 5400, "rounds": 3, "seconds": {"project": [1.0, 1.1, 0.9], "reference": [1.5, 1.4, 1.6],
                                                            "plain": [1.2, 1.2, 1.3]},
                   "project_images_per_s": 5400.0, "reference_images_per_s": 3600.0, "plain_images_per_s": 4500.0,
                   "throughput_ratio": 1.5, "throughput_ratio_spread": {"min": 1.27, "median": 1.5, "max": 1.78},
                   "plain_ratio": 1.2, "plain_ratio_spread": {"min": 1.09, "median": 1.2, "max": 1.44},
                   "reference_jit_compile": True, "matmul_peak_gflops": 120.0, "flops_per_image": 2.5e6,
                   "project_fraction_of_peak": 0.11, "reference_fraction_of_peak": 0.075, "plain_fraction_of_peak": 0.09},
    "finder": {"batches": 100, "rounds": 3, "losses_recorded": 100, "seconds": {"finder": [1.0], "plain": [0.95]},
               "finder_s": 1.0, "plain_fit_s": 0.95, "finder_overhead": 1.05, "finder_overhead_spread": SPREAD},
    "grid": {"lrs": 4, "epochs": 1, "grid_s": 30.0, "separate_runs_s": 50.0, "grid_ratio": 0.6,
             "grid_ratio_spread": {"min": 0.6, "median": 0.6, "max": 0.6}, "diverged": 1, "diverged_epochs_run": [1]},
    "transfer": {"epochs": 3, "image_size": 32, "batch": 64, "epoch_seconds": {"finetune": [4.0, 4.2], "feature": [0.2, 0.3]},
                 "finetune_epoch_s": 4.1, "feature_epoch_s": 0.25, "transfer_speedup": 16.0,
                 "transfer_speedup_spread": {"min": 14.0, "median": 16.0, "max": 20.0}},
    "memory": {"tensorflow_import_mb": 600.0, "find_lr_peak_mb": 1400.0, "find_lr_float32_images_mb": 25.0,
               "transfer_epoch_peak_mb": 2100.0, "resnet50_weights_mb": 90.0},
    "targets_met": {"throughput_ratio": True, "finder_overhead": True, "grid_ratio": True, "transfer_speedup": True},
}


def written(tmp_path: Path, data) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_a_valid_file_round_trips(tmp_path):
    record = BenchmarkResults.read(written(tmp_path, RESULTS))
    assert record.throughput.throughput_ratio_spread == Spread(min=1.27, median=1.5, max=1.78)
    assert record.load[1].when == "after throughput" and record.grid.diverged_epochs_run == [1]
    (tmp_path / "again").mkdir()
    again = record.write(tmp_path / "again")
    assert BenchmarkResults.read(again) == record
    assert json.loads(again.read_text())["throughput"]["project_images_per_s"] == 5400.0
    assert json.loads(again.read_text())["finder"]["finder_overhead_spread"] == SPREAD


def test_a_file_written_after_the_first_step_is_valid(tmp_path):
    partial = {key: RESULTS[key] for key in ("quick", "when", "machine", "load", "throughput")}
    record = BenchmarkResults.read(written(tmp_path, partial))
    assert record.finder is None and record.targets_met is None


@pytest.mark.parametrize("section, key, value, sentence", [
    ("throughput", "throughput_ratio", -1.5, "(throughput): throughput_ratio = -1.5 must be finite and > 0"),
    ("finder", "finder_s", math.nan, "(finder): finder_s = nan is not a finite number"),
    ("memory", "find_lr_peak_mb", "1400", "(memory): find_lr_peak_mb = '1400' is str, not a number"),
    ("grid", "diverged", 1.5, "(grid): diverged = 1.5 is float, not an integer"),
])
def test_out_of_range_and_nan_values_are_named(tmp_path, section, key, value, sentence):
    data = json.loads(json.dumps(RESULTS))
    data[section][key] = value
    path = written(tmp_path, data)  # json writes NaN as NaN, which Python reads back
    with pytest.raises(RecordError) as error:
        BenchmarkResults.read(path)
    assert str(error.value) == f"{path} {sentence}"


def test_a_spread_out_of_order_and_seconds_below_zero_are_named(tmp_path):
    data = json.loads(json.dumps(RESULTS))
    data["finder"]["finder_overhead_spread"] = {"min": 1.3, "median": 1.1, "max": 1.6}
    path = written(tmp_path, data)
    with pytest.raises(RecordError, match=r"\(finder\) \(finder_overhead_spread\): has min 1.3, median 1.1, max 1.6, "
                                          "which are not in order"):
        BenchmarkResults.read(path)
    data = json.loads(json.dumps(RESULTS))
    data["transfer"]["epoch_seconds"]["feature"] = [0.2, -0.3]
    with pytest.raises(RecordError) as error:
        BenchmarkResults.read(written(tmp_path, data))
    assert "epoch_seconds = " in str(error.value) and "has 'feature' that [1] = -0.3 must be finite and >= 0" in str(error.value)


def test_a_missing_field_and_a_truncated_file_are_named(tmp_path):
    data = json.loads(json.dumps(RESULTS))
    del data["memory"]["transfer_epoch_peak_mb"]
    path = written(tmp_path, data)
    with pytest.raises(RecordError) as error:
        BenchmarkResults.read(path)
    assert str(error.value) == f"{path} (memory): transfer_epoch_peak_mb is missing"
    truncated = written(tmp_path, json.dumps(RESULTS)[:200])
    with pytest.raises(RecordError, match=r"results.json: is not valid JSON \(truncated or damaged"):
        BenchmarkResults.read(truncated)
    bad_targets = {**RESULTS, "targets_met": {"throughput_ratio": True}}
    with pytest.raises(RecordError, match="has targets_met that is not true or false for each of throughput_ratio"):
        BenchmarkResults.read(written(tmp_path, bad_targets))


@pytest.fixture(scope="module")
def benchmarks():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_is_written_from_the_record(benchmarks):
    table = benchmarks.markdown(BenchmarkResults.from_json(RESULTS))
    assert table.count("\n| ") == 7
    assert "| 5,400 | 3,600 | 1.50x | 1.27 / 1.50 / 1.78 | >= 1.25 (project / reference images/s): met |" in table
    assert "Load average over the last minute: 0.39 before, 1.58 after throughput; the machine was idle" in table


def test_a_finished_folder_is_kept_and_other_settings_are_refused(benchmarks, tmp_path, capsys):
    folder = tmp_path / "benchmarks"
    with RunFolder(folder, "benchmark", {"quick": True, "rounds": 3}) as done:
        BenchmarkResults.from_json(RESULTS).write(folder)
        done.complete(quick=True)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert run(benchmarks.main, ["--quick", "--output", str(folder)]) == 0
    assert "holds a finished benchmark run at these settings" in capsys.readouterr().out
    assert run(benchmarks.main, ["--quick", "--rounds", "5", "--output", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {folder} holds results of other settings (rounds 3 then, 5 now); pass --overwrite to "
                   "replace them, or choose another --output\n")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert run(benchmarks.main, ["--output", ""]) == 2
    assert capsys.readouterr().err.startswith("error: --output is empty")
    with pytest.raises(SystemExit):
        benchmarks.main(["--rounds", "1000"])
    assert "--rounds must be between 1 and 100" in capsys.readouterr().err
