"""Problem 1's records: each kind round-trips, and a bad file (out of range, NaN, missing field, truncated) is one sentence."""

import json
import math

import numpy as np
import pytest

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.lenet.training import HISTORY_FIELDS, write_test_predictions
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.lenet import (
    Comparison, RunMetrics, SeedsAggregate, read_history, read_metrics, read_test_correct,
)
from pyimagesearch.records.lr_finder import (
    GridRow, LRRangeSuggestion, read_finder_curve, read_grid, write_finder_curve, write_grid,
)

METRICS = {"policy": "clr", "test_accuracy": 0.9, "test_loss": 0.3, "final_train_loss": 0.25,
           "final_train_accuracy": 0.91, "val_accuracy": 0.905, "val_loss": 0.28, "train_accuracy": 0.93,
           "train_loss": 0.2, "generalization_gap": 0.93 - 0.9, "best_val_accuracy": 0.91, "best_val_epoch": 3,
           "epochs": 4, "optimizer_steps": 60, "train_time_s": 12.5, "train_images": 900, "val_images": 100,
           "test_images": 1000}
SUGGESTION = {"lr_min": 0.001, "lr_max": 0.03, "lr_at_minimum": 0.09, "lr_steepest": 0.01, "still_decreasing": False,
              "reason": "", "lr_max_rule": "minimum/3", "rule": "a rule", "seconds": 3.5, "batches": 400,
              "stop_reason": ""}


def history_rows(epochs=4):
    return [{"epoch": e, "batch_size": 64, "steps": 15, "iterations": 15 * e, "lr": 0.01, "loss": 1 / e, "accuracy": 0.8,
             "val_loss": 0.5, "val_accuracy": 0.8, "time_s": 1.5} for e in range(1, epochs + 1)]


def test_run_metrics_round_trip_and_name_the_bad_field(tmp_path):
    record = RunMetrics.from_json(METRICS)
    path = record.write(tmp_path)
    assert RunMetrics.read(tmp_path) == record == read_metrics(tmp_path)
    assert json.loads(path.read_text())["kind"] == "lenet-run-metrics"
    for change, sentence in [({"test_accuracy": 1.7}, "test_accuracy = 1.7 is not an accuracy (it must be in [0, 1])"),
                             ({"epochs": -1}, "epochs = -1 must be an integer > 0"),
                             ({"policy": "cosine"}, "policy = 'cosine' must be one of 'clr', 'batch-growth', 'fixed'"),
                             ({"generalization_gap": 0.5}, "generalization_gap = 0.5 is not train_accuracy - test_accuracy")]:
        path.write_text(json.dumps({**METRICS, **change}))
        with pytest.raises(RecordError) as error:
            RunMetrics.read(tmp_path)
        assert str(error.value).startswith(f"{path}: {sentence}")
    path.write_text(json.dumps({**METRICS, "test_accuracy": float("nan")}))  # json writes NaN, a literal it reads back
    with pytest.raises(RecordError, match=r"metrics.json: test_accuracy = nan is not a finite number"):
        RunMetrics.read(tmp_path)
    path.write_text(json.dumps({k: v for k, v in METRICS.items() if k != "val_accuracy"}))
    with pytest.raises(RecordError, match=r"metrics.json: val_accuracy is missing$"):
        RunMetrics.read(tmp_path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(RecordError, match=r"metrics.json: is not valid JSON \(truncated or damaged"):
        read_metrics(tmp_path)


def test_seeds_aggregate_holds_the_spread_of_every_metric_and_refuses_values_out_of_range(tmp_path):
    runs = {42: RunMetrics.from_json(METRICS),
            1: RunMetrics.from_json({**METRICS, "test_accuracy": 0.88, "generalization_gap": 0.93 - 0.88})}
    aggregate = SeedsAggregate.of(runs)
    assert aggregate.test_accuracy.values == [0.9, 0.88] and aggregate.test_accuracy.mean == pytest.approx(0.89)
    assert aggregate.test_accuracy.sd == pytest.approx(np.std([0.9, 0.88], ddof=1)) and aggregate.epochs.sd == 0
    aggregate.write(tmp_path)
    again = read_metrics(tmp_path)
    assert isinstance(again, SeedsAggregate) and again.seeds == [42, 1] and again.epochs.values == [4, 4]
    assert SeedsAggregate.of({7: runs[42]}).test_accuracy.sd is None  # one seed: no spread, written null
    data = json.loads((tmp_path / "metrics.json").read_text())
    data["test_accuracy"]["values"] = [1.2, 0.88]
    data["test_accuracy"]["mean"] = 1.04
    (tmp_path / "metrics.json").write_text(json.dumps(data))
    with pytest.raises(RecordError, match=r"metrics.json: test_accuracy of seed 42 = 1.2 is not an accuracy"):
        read_metrics(tmp_path)
    data["seeds"] = [42]
    (tmp_path / "metrics.json").write_text(json.dumps(data))
    with pytest.raises(RecordError, match=r"has 2 values for 1 seeds"):
        read_metrics(tmp_path)


def test_range_suggestion_round_trips_and_holds_a_range_or_a_reason(tmp_path):
    record = LRRangeSuggestion.from_json(SUGGESTION)
    record.write(tmp_path)
    assert LRRangeSuggestion.read(tmp_path) == record and bool(record)
    assert not LRRangeSuggestion(None, None, reason="the loss never fell")
    for change, sentence in [({"lr_max": -0.1}, "lr_max = -0.1 is not a learning rate"),
                             ({"lr_min": 0.05}, "lr_min = 0.05 is not below lr_max = 0.03"),
                             ({"lr_min": None}, "a range needs both, no range neither"),
                             ({"lr_min": None, "lr_max": None}, "suggests no range and gives no reason"),
                             ({"lr_max_rule": "median"}, "lr_max_rule = 'median' must be one of")]:
        (tmp_path / "suggestion.json").write_text(json.dumps({**SUGGESTION, **change}))
        with pytest.raises(RecordError, match=sentence):
            LRRangeSuggestion.read(tmp_path)
    (tmp_path / "suggestion.json").write_text(json.dumps({"lr_max": 0.1}))
    with pytest.raises(RecordError, match="suggestion.json: lr_min is missing"):
        LRRangeSuggestion.read(tmp_path)


def grid_rows():
    return [GridRow.of({"lr": 1e-3, "final_train_loss": 0.9, "train_accuracy": 0.7, "diverged": False, "epochs_run": 2,
                        "seconds": 3.0, "history": {"loss": [1.5, 0.9], "accuracy": [0.5, 0.7]}}),
            GridRow.of({"lr": 10.0, "final_train_loss": math.nan, "train_accuracy": 0.1, "diverged": True, "epochs_run": 1,
                        "seconds": 1.0, "history": {"loss": [math.inf], "accuracy": [0.1]}})]


def test_grid_rows_round_trip_through_the_two_csv_files_and_name_row_and_column(tmp_path):
    rows = grid_rows()
    write_grid(tmp_path, rows)
    assert read_grid(tmp_path) == rows
    assert rows[1].final_train_loss is None and math.isnan(rows[1].as_row()["history"]["loss"][0])
    text = (tmp_path / "lr_grid.csv").read_text()
    (tmp_path / "lr_grid.csv").write_text(text.replace("0.7,no", "1.7,no"))
    with pytest.raises(RecordError, match=r"lr_grid.csv \(row 1\): train_accuracy = 1.7 is not an accuracy"):
        read_grid(tmp_path)
    (tmp_path / "lr_grid.csv").write_text(text.replace(",no,", ",maybe,"))
    with pytest.raises(RecordError, match=r"lr_grid.csv \(row 1\): diverged = 'maybe' is not yes or no"):
        read_grid(tmp_path)
    (tmp_path / "lr_grid.csv").write_text(text.replace("0.9,0.7,no", ",0.7,no"))
    with pytest.raises(RecordError, match=r"row 1\): has no final training loss or accuracy, though it did not diverge"):
        read_grid(tmp_path)
    (tmp_path / "lr_grid.csv").write_text(text.replace("seconds", "wall"))
    with pytest.raises(RecordError, match=r"lr_grid.csv \(row 1\): seconds is missing \(no such column\)"):
        read_grid(tmp_path)
    (tmp_path / "lr_grid_history.csv").unlink()
    with pytest.raises(RecordError, match=r"lr_grid_history.csv: does not exist"):
        read_grid(tmp_path)


def test_finder_curve_round_trips_with_the_nan_of_a_stopped_sweep_as_empty(tmp_path):
    history = {"lr": [1e-5, 1e-4, 1e-3], "raw_loss": [2.3, 2.2, math.nan], "smoothed_loss": [2.3, 2.25, math.nan],
               "lag_free_loss": [2.3, 2.25, math.nan]}
    write_finder_curve(tmp_path, history)
    rows = read_finder_curve(tmp_path)
    assert [row.lr for row in rows] == history["lr"] and rows[2].raw_loss is None and rows[1].raw_loss == 2.2
    (tmp_path / "lr_finder.csv").write_text((tmp_path / "lr_finder.csv").read_text().replace("0.0001", "-0.0001"))
    with pytest.raises(RecordError, match=r"lr_finder.csv \(row 2\): lr = -0.0001 is not a learning rate"):
        read_finder_curve(tmp_path)


def test_history_without_val_accuracy_or_with_nan_is_one_sentence_naming_the_file(tmp_path):
    path = tmp_path / "history.csv"
    write_csv(path, history_rows(), HISTORY_FIELDS)
    assert [row["epoch"] for row in read_history(path)] == [1, 2, 3, 4]
    write_csv(path, history_rows(), [f for f in HISTORY_FIELDS if f != "val_accuracy"])
    with pytest.raises(RecordError) as error:
        read_history(path)
    assert str(error.value) == f"{path} (row 1): val_accuracy is missing (no such column)"
    write_csv(path, [{**row, "loss": math.nan} for row in history_rows()], HISTORY_FIELDS)  # written empty
    with pytest.raises(RecordError, match=r"history.csv \(row 1\): has no loss or accuracy, though the run finished"):
        read_history(path)
    assert math.isnan(read_history(path, finished=False)[0]["loss"])


def test_test_predictions_truncated_or_of_another_length_are_named(tmp_path):
    correct = np.array([True, False, True])
    write_test_predictions(tmp_path, {"label": np.zeros(3, np.int8), "predicted": np.zeros(3, np.int8), "correct": correct})
    np.testing.assert_array_equal(read_test_correct(tmp_path, 3), correct)
    assert read_test_correct(tmp_path / "none") is None
    with pytest.raises(RecordError, match=r"test_predictions.npz: correct holds 3 values for 1000 test images"):
        read_test_correct(tmp_path, 1000)
    path = tmp_path / "test_predictions.npz"
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(RecordError, match=r"test_predictions.npz: is truncated or damaged \(.*\); run the training again"):
        read_test_correct(tmp_path, 3)


def test_comparison_round_trips_and_refuses_a_nan_interval(tmp_path):
    interval = {"mean": 0.01, "low": -0.02, "high": 0.04, "n": 3, "confidence": 0.95, "method": "t"}
    per_seed = [{"test_accuracy_a": 0.9, "test_accuracy_b": 0.89}] * 3
    verdict = {"seeds": [42, 1, 2], "per_seed": per_seed, "sides": {}, "test_difference": interval,
               "gap_difference": interval, "budget": {}, "budget_differs": [], "smith": None, "alpha": 0.05}
    record = Comparison.from_json({"A": "a", "B": "b", "table": {}, "verdict": verdict})
    record.write(tmp_path)
    assert Comparison.read(tmp_path) == record
    bad = {**verdict, "test_difference": {**interval, "mean": float("nan")}}
    (tmp_path / "comparison.json").write_text(json.dumps({"A": "a", "B": "b", "table": {}, "verdict": bad}))
    with pytest.raises(RecordError, match=r"comparison.json \(verdict\) \(test_difference\): mean = nan is not a finite number"):
        Comparison.read(tmp_path)
