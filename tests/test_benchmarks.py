"""benchmarks/run.py --quick produces every figure (speed itself is not asserted here)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def numbers(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from numbers(value)
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield tree


@pytest.mark.slow
def test_quick_benchmark_writes_every_figure(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # no start-up lines of TensorFlow, no retracing warnings
    results = json.loads((tmp_path / "results.json").read_text())
    expected = {
        "throughput": ["project_images_per_s", "reference_images_per_s", "plain_images_per_s", "throughput_ratio",
                       "plain_ratio", "matmul_peak_gflops", "project_fraction_of_peak"],
        "finder": ["finder_s", "plain_fit_s", "finder_overhead", "losses_recorded"],
        "grid": ["grid_s", "separate_runs_s", "grid_ratio"],
        "transfer": ["finetune_epoch_s", "feature_epoch_s", "transfer_speedup"],
        "memory": ["tensorflow_import_mb", "find_lr_peak_mb", "transfer_epoch_peak_mb"],
    }
    for section, keys in expected.items():
        for key in keys:
            value = results[section][key]
            assert math.isfinite(value) and value > 0, (section, key, value)
    assert all(value >= 0 for value in numbers(results))
    assert results["finder"]["losses_recorded"] == results["finder"]["batches"]
    # Every round of a comparison is kept, and the reported ratio is the median of the rounds' ratios.
    throughput = results["throughput"]
    assert len(throughput["seconds"]["project"]) == len(throughput["seconds"]["plain"]) == throughput["rounds"] == 3
    ratios = sorted(t / p for t, p in zip(throughput["seconds"]["plain"], throughput["seconds"]["project"]))
    assert throughput["plain_ratio_spread"] == {"min": ratios[0], "median": ratios[1], "max": ratios[2]}
    assert throughput["plain_ratio"] == ratios[1]
    for section, key in (("throughput", "throughput_ratio"), ("finder", "finder_overhead"), ("transfer", "transfer_speedup")):
        low, middle, high = (results[section][f"{key}_spread"][k] for k in ("min", "median", "max"))
        assert low <= middle == results[section][key] <= high
    assert [sample["when"] for sample in results["load"]] == [
        "before", "after throughput", "after finder", "after grid", "after transfer", "after memory"]
    assert set(results["targets_met"]) == {"throughput_ratio", "finder_overhead", "grid_ratio", "transfer_speedup"}
    table = (tmp_path / "results.md").read_text()
    assert table.count("\n| ") == 7 and "LeNet-5 training, images/s" in table
    assert "reference plain model.fit at a fixed LR, no callback" in table
    assert "Load average over the last minute: " in table and " before, " in table
