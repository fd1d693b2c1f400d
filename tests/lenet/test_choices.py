"""Problem 1's choices read validation only: the best epoch, the choice among candidates (rule, step size)."""

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import t

from pyimagesearch.core.outputs import read_json
from pyimagesearch.lenet.choices import SPLIT_DISCIPLINE, best_epoch, choose_by_validation, validation_by_seed
from pyimagesearch.lenet.seeds import aggregate_metrics
from pyimagesearch.records.lenet import RunMetrics
from tests.lenet.test_compare import fake_run, fake_seeds


def test_the_discipline_is_stated_once_with_every_choice_it_governs():
    assert SPLIT_DISCIPLINE.startswith("training data trains; validation data makes every choice")
    for choice in ("the lr_max rule", "the step size", "the best epoch"):
        assert choice in SPLIT_DISCIPLINE
    assert "test data is read once, after every choice, for the reported figure" in SPLIT_DISCIPLINE


def test_best_epoch_follows_validation_whatever_the_test_column_says():
    history = [{"epoch": 1, "val_accuracy": 0.80, "test_accuracy": 0.99},
               {"epoch": 2, "val_accuracy": 0.86, "test_accuracy": 0.10},
               {"epoch": 3, "val_accuracy": 0.86, "test_accuracy": 0.50},  # a tie: the first epoch is kept
               {"epoch": 4, "val_accuracy": math.nan}]
    assert best_epoch(history) == (2, 0.86)
    with pytest.raises(ValueError, match="finite `val_accuracy`"):
        best_epoch([{"epoch": 1, "val_accuracy": math.nan}])


def test_evaluate_records_the_best_epoch_by_validation():
    """train_lenet.py's metrics.json: best_val_epoch comes from validation, though test would pick another epoch."""
    from pyimagesearch.lenet import training

    scores = iter([{"loss": 0.2, "accuracy": 0.95}, {"loss": 0.3, "accuracy": 0.9}, {"loss": 0.31, "accuracy": 0.89}])
    model = SimpleNamespace(evaluate=lambda *args, **kwargs: next(scores))
    x, y = np.zeros((4, 28, 28, 1), np.float32), np.zeros(4, np.int32)
    data = SimpleNamespace(x_train=x, y_train=y, x_val=x, y_val=y, x_test=x, y_test=y)
    history = [{"epoch": e, "iterations": 10 * e, "loss": 0.5, "accuracy": 0.8, "val_accuracy": v, "test_accuracy": 1 - v}
               for e, v in ((1, 0.7), (2, 0.9), (3, 0.8))]
    metrics = training.evaluate(model, data, history, 1.0)
    assert (metrics["best_val_epoch"], metrics["best_val_accuracy"]) == (2, 0.9)


def test_the_choice_is_the_best_mean_on_validation_with_its_verdict_against_the_next():
    step_sizes = {"2": {42: 0.900, 1: 0.902, 2: 0.899}, "2.5": {42: 0.910, 1: 0.912, 2: 0.911},
                  "5": {42: 0.905, 1: 0.906, 2: 0.904}}
    choice = choose_by_validation(step_sizes)
    assert choice.chosen == "2.5" and list(choice.means) == ["2.5", "5", "2"] and choice.seeds == (42, 1, 2)
    d = np.subtract([0.910, 0.912, 0.911], [0.905, 0.906, 0.904])
    half = t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert choice.verdict.outcome == "A ahead" and choice.verdict.interval == pytest.approx((d.mean() - half, d.mean() + half))
    assert choice.sentence() == (
        "2.5, the highest mean validation accuracy (91.10% over seeds 42, 1, 2): against the next, 2.5 ahead by 0.60 "
        f"points, 91.1% against 90.5% for 5 (2.5 minus 5: 95% interval {100 * (d.mean() - half):+.2f} to "
        f"{100 * (d.mean() + half):+.2f} points, paired t over 3 seeds, on validation accuracy)")


def test_a_candidate_without_every_seed_is_left_out_and_a_tie_is_not_settled():
    choice = choose_by_validation({"a": {1: 0.90, 2: 0.91}, "b": {1: 0.91, 2: 0.89}, "c": {1: 0.99}})
    assert choice.chosen == "a" and choice.left_out == ("c",) and choice.verdict.outcome == "no difference detected"
    assert choice.sentence().startswith("a, the highest mean validation accuracy (90.50% over seeds 1, 2; c left out: "
                                        "no result at every seed), not a settled choice: against the next, tied within")
    assert choose_by_validation({"a": {1: 0.9}}).sentence() == (
        "a, the highest mean validation accuracy (90.00% over seeds 1), the only candidate with a result at every seed")
    with pytest.raises(ValueError, match="some candidate a result at every seed"):
        choose_by_validation({"a": {1: 0.9}}, seeds=[1, 2])
    with pytest.raises(ValueError, match=r"accuracies in \[0, 1\]"):
        choose_by_validation({"a": {1: math.nan}})


def with_validation(folder, accuracy):
    """A fake run's metrics.json with another validation accuracy than its test accuracy."""
    metrics = RunMetrics.read(folder)
    replace(metrics, val_accuracy=accuracy).write(folder)
    return read_json(folder / "metrics.json")


def test_validation_by_seed_reads_the_validation_column_of_a_run_or_a_seeds_folder(tmp_path):
    folder = fake_seeds(tmp_path / "seeds", "clr", [0.905, 0.902, 0.908], [0.05, 0.05, 0.05])
    per_seed = {seed: with_validation(folder / f"seed-{seed}", value) for seed, value in ((42, 0.81), (1, 0.82), (2, 0.83))}
    (folder / "metrics.json").write_text(json.dumps(aggregate_metrics(per_seed)))
    assert validation_by_seed(folder) == {42: 0.81, 1: 0.82, 2: 0.83}
    one = fake_run(tmp_path / "one", "clr", 7, 0.9, 0.05)
    with_validation(one, 0.7)
    assert validation_by_seed(one) == {7: 0.7}
