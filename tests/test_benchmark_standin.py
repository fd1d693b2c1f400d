"""benchmarks/run.py's steps 8 and 9 (benchmarks/standin_steps.py): their records, their tables, choosing them."""

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.benchmark import BenchmarkResults

ROOT = Path(__file__).resolve().parents[1]
PRECISION = {"train_images": 3000, "epochs": 2, "rounds": 2,
             "images_per_second": {"float32": [160.0, 150.0], "mixed_bfloat16": [120.0, 135.0]},
             "val_accuracy": {"float32": [0.71, 0.72], "mixed_bfloat16": [0.70, 0.69]},
             "float32_ips": 155.0, "bfloat16_ips": 127.5, "bfloat16_ratio": 0.825,
             "bfloat16_ratio_spread": {"min": 0.75, "median": 0.825, "max": 0.9}}
TRANSFER = {"epochs": 5, "train_images": 1437, "image_size": 32,
            "epoch_seconds": {"feature": [0.05, 0.06, 0.05, 0.05], "finetune": [9.0, 9.5, 9.2, 9.1]},
            "feature_epoch_s": 0.05, "finetune_epoch_s": 9.15, "speedup": 183.0, "feature_seconds": 6.2}
STANDIN = {"quick": False, "when": "2026-12-02 16:00", "machine": "2 CPU cores",
           "load": [{"when": "before", "load_1min": 1.0}], "precision": PRECISION, "standin_transfer": TRANSFER}


def load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT))
    spec.loader.exec_module(module)
    return module


def test_the_stand_in_steps_round_trip_and_show_their_tables(tmp_path):
    path = BenchmarkResults.from_json(STANDIN).write(tmp_path / "results.json")
    results = BenchmarkResults.read(path)
    assert results.precision.bfloat16_ratio == 0.825 and results.standin_transfer.speedup == 183.0
    lines = load("standin_steps", "benchmarks/standin_steps.py").markdown_lines(results)
    assert ("| training images/s, 3,000 images, 2 epochs (2 rounds) | 155.0 | 127.5 | 0.82 | 0.75 / 0.82 / 0.90 |"
            in lines)
    assert "| held-out accuracy after the pretraining (median) | 71.5% | 69.5% | | |" in lines
    assert "| epoch after the first, s (1,437 images, 32 px, 5 epochs) | 0.050 | 9.15 | 183x |" in lines
    assert lines[-1] == "Feature extraction computed the base's features once, in 6.2 s, before its first epoch."
    none = BenchmarkResults.from_json({**STANDIN, "precision": None, "standin_transfer": None})
    assert load("standin_steps", "benchmarks/standin_steps.py").markdown_lines(none) == []


@pytest.mark.parametrize("key, value, sentence", [
    ("val_accuracy", {"float32": [1.5], "mixed_bfloat16": [0.7]}, "has 'float32' that"),
    ("bfloat16_ratio", 0.0, "(precision): bfloat16_ratio = 0.0 must be finite and > 0"),
])
def test_a_bad_stand_in_value_is_named(tmp_path, key, value, sentence):
    data = copy.deepcopy(STANDIN)
    data["precision"][key] = value
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"kind": "benchmark", "schema": 1, **data}))
    with pytest.raises(RecordError) as error:
        BenchmarkResults.read(path)
    assert sentence in str(error.value)


def test_the_stand_in_steps_are_chosen_by_name():
    run = load("benchmarks_run", "benchmarks/run.py")
    assert run.step_list("standin_transfer,precision") == ["precision", "standin_transfer"]
    assert "precision" not in run.STEPS  # not a default step: it pretrains ResNet50 four times
