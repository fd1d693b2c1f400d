"""Problem 1's training records: a run's metrics, its history, its test predictions, the seeds aggregate, the comparison.

``train_lenet.py`` writes ``metrics.json`` (one run, or the aggregate of a
``--seeds`` folder) and ``--compare`` writes ``comparison.json`` through these
records; ``lenet.compare`` and the report's reader read them back through
them, with ``history.csv`` row by row (``records.csv_rows``) and
``test_predictions.npz``. A file that fails validation is one ``RecordError``
naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyimagesearch.records.base import (
    ACCURACY, COUNT, FINITE, LR, NONNEGATIVE, POSITIVE_COUNT, PROBABILITY, SECONDS, Record, RecordError, one_of,
)
from pyimagesearch.records.csv_rows import read_records

POLICIES = ("clr", "batch-growth", "fixed")
GAP = {"check": lambda v: None if math.isfinite(v) and -1 <= v <= 1
       else "is not a difference of accuracies (it must be in [-1, 1])"}


@dataclass(frozen=True, kw_only=True)
class TrainingScores(Record):
    """A trained LeNet-5 scored on its training, validation and test images (``lenet.training.evaluate``'s numbers).

    The fields every LeNet-5 run's metrics share: train_lenet.py's runs (``RunMetrics``) and Problem 4's models.
    """

    test_accuracy: float = field(metadata=ACCURACY)
    test_loss: float = field(metadata=NONNEGATIVE)
    final_train_loss: float = field(metadata=NONNEGATIVE)
    final_train_accuracy: float = field(metadata=ACCURACY)
    val_accuracy: float = field(metadata=ACCURACY)
    val_loss: float = field(metadata=NONNEGATIVE)
    train_accuracy: float = field(metadata=ACCURACY)
    train_loss: float = field(metadata=NONNEGATIVE)
    generalization_gap: float = field(metadata=GAP)
    best_val_accuracy: float = field(metadata=ACCURACY)
    best_val_epoch: int = field(metadata=POSITIVE_COUNT)
    epochs: int = field(metadata=POSITIVE_COUNT)
    optimizer_steps: int = field(metadata=POSITIVE_COUNT)
    train_time_s: float = field(metadata=SECONDS)
    train_images: int = field(metadata=POSITIVE_COUNT)
    val_images: int = field(metadata=POSITIVE_COUNT)
    test_images: int = field(metadata=POSITIVE_COUNT)

    def check(self) -> str | None:
        if abs(self.generalization_gap - (self.train_accuracy - self.test_accuracy)) > 1e-6:
            return (f"generalization_gap = {self.generalization_gap!r} is not train_accuracy - test_accuracy "
                    f"({self.train_accuracy - self.test_accuracy!r})")
        if self.best_val_epoch > self.epochs:
            return f"best_val_epoch = {self.best_val_epoch} is after the last epoch ({self.epochs})"
        return None


@dataclass(frozen=True, kw_only=True)
class RunMetrics(TrainingScores):
    """``metrics.json`` of one finished train_lenet.py run: ``lenet.training.evaluate``'s numbers and the policy."""

    KIND = "lenet-run-metrics"
    FILE = "metrics.json"

    policy: str = field(metadata=one_of(*POLICIES))


SPREAD_METRICS = tuple(spec.name for spec in dataclasses.fields(RunMetrics) if spec.name != "policy")
INTEGER_METRICS = {spec.name for spec in dataclasses.fields(RunMetrics) if spec.type in (int, "int")}


@dataclass(frozen=True)
class Spread(Record):
    """One metric over the seeds: mean, sample standard deviation (null for one seed) and the per-seed values."""

    KIND = "spread"

    mean: float = field(metadata=FINITE)
    sd: float | None = field(metadata=NONNEGATIVE)
    values: list[float]

    def check(self) -> str | None:
        if not self.values:
            return "values is empty"
        if abs(self.mean - math.fsum(self.values) / len(self.values)) > 1e-9 * max(1.0, abs(self.mean)):
            return f"mean = {self.mean!r} is not the mean of its values"
        return None


@dataclass(frozen=True)
class SeedsAggregate(Record):
    """``metrics.json`` of a ``--seeds`` folder: the seeds and, for every number of ``RunMetrics``, its spread."""

    KIND = "lenet-seeds-aggregate"
    FILE = "metrics.json"

    seeds: list[int]
    policy: str = field(metadata=one_of(*POLICIES))
    test_accuracy: Spread
    test_loss: Spread
    final_train_loss: Spread
    final_train_accuracy: Spread
    val_accuracy: Spread
    val_loss: Spread
    train_accuracy: Spread
    train_loss: Spread
    generalization_gap: Spread
    best_val_accuracy: Spread
    best_val_epoch: Spread
    epochs: Spread
    optimizer_steps: Spread
    train_time_s: Spread
    train_images: Spread
    val_images: Spread
    test_images: Spread

    def check(self) -> str | None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            return f"seeds = {self.seeds!r} is empty or repeats a seed"
        rules = {spec.name: spec.metadata["check"] for spec in dataclasses.fields(RunMetrics)}
        for name in SPREAD_METRICS:
            values = getattr(self, name).values
            if len(values) != len(self.seeds):
                return f"{name} has {len(values)} values for {len(self.seeds)} seeds"
            for seed, value in zip(self.seeds, values):
                if name in INTEGER_METRICS and isinstance(value, float) and value.is_integer():
                    value = int(value)  # JSON read back as the list's numbers: 20.0 is the count 20
                problem = rules[name](value)
                if problem:
                    return f"{name} of seed {seed} = {value!r} {problem}"
        return None

    @classmethod
    def of(cls, runs: dict[int, RunMetrics]) -> "SeedsAggregate":
        """The aggregate of finished runs by seed (``stats.mean_and_sd`` of every metric); the policy they share."""
        from pyimagesearch.stats import mean_and_sd

        policies = {run.policy for run in runs.values()}
        if len(policies) != 1:
            raise ValueError(f"Argument `runs` must share one policy. Received: policies={sorted(policies)}")
        spreads = {}
        for name in SPREAD_METRICS:
            values = [getattr(run, name) for run in runs.values()]
            mean, sd = mean_and_sd(values)
            spreads[name] = Spread(mean, None if math.isnan(sd) else sd, values)
        return cls(seeds=list(runs), policy=policies.pop(), **spreads)


def is_seeds_aggregate(data: Any) -> bool:
    """Whether JSON data read from a ``metrics.json`` is a seeds aggregate (it lists seeds) rather than one run."""
    return isinstance(data, dict) and (data.get("kind") == SeedsAggregate.KIND or isinstance(data.get("seeds"), list))


@dataclass(frozen=True)
class EpochRow(Record):
    """One row of a run's ``history.csv``; the losses of a diverged epoch may be empty (null)."""

    KIND = "lenet-epoch"

    epoch: int = field(metadata=POSITIVE_COUNT)
    batch_size: int = field(metadata=POSITIVE_COUNT)
    steps: int = field(metadata=COUNT)
    iterations: int = field(metadata=COUNT)
    lr: float = field(metadata=LR)
    loss: float | None = field(metadata=NONNEGATIVE)
    accuracy: float | None = field(metadata=ACCURACY)
    val_loss: float | None = field(metadata=NONNEGATIVE)
    val_accuracy: float | None = field(metadata=ACCURACY)
    time_s: float = field(metadata=SECONDS)


def read_history(path: str | os.PathLike, finished: bool = True) -> list[dict[str, float]]:
    """The rows of ``history.csv``, validated (``EpochRow``), as dicts of floats (NaN where null).

    ``finished``: the run ended normally, so every epoch has its losses and accuracies.
    """
    path = Path(path)
    records = read_records(EpochRow, path)
    if finished and not records:
        raise RecordError(str(path), None, "holds no epoch, though the run finished")
    for number, record in enumerate(records, start=1):
        if finished and None in (record.loss, record.accuracy, record.val_loss, record.val_accuracy):
            raise RecordError(f"{path} (row {number})", None, "has no loss or accuracy, though the run finished")
    return [{spec.name: math.nan if getattr(record, spec.name) is None else getattr(record, spec.name)
             for spec in dataclasses.fields(EpochRow)} for record in records]




TEST_PREDICTIONS = "test_predictions.npz"


def read_test_correct(folder: str | os.PathLike, images: int | None = None):
    """The per-image correctness saved with a run (``test_predictions.npz``), or None when the run saved none.

    ``images``: the number of test images the run's metrics report. A
    truncated or damaged file, or one of another length, is a ``RecordError``.
    """
    import zipfile

    import numpy as np

    path = Path(folder) / TEST_PREDICTIONS
    if not path.exists():
        return None
    try:
        with np.load(path) as saved:
            correct = np.asarray(saved["correct"]).astype(bool)
    except KeyError:
        raise RecordError(str(path), "correct", "is missing") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise RecordError(str(path), None, f"is truncated or damaged ({error}); run the training again") from None
    if correct.ndim != 1 or (images is not None and len(correct) != images):
        raise RecordError(str(path), "correct", f"holds {correct.size} values for {images} test images")
    return correct


@dataclass(frozen=True)
class Interval(Record):
    """A mean difference with its t interval (``stats.t_interval``); ``low``/``high`` null for one seed."""

    KIND = "t-interval"

    mean: float = field(metadata=FINITE)
    low: float | None = field(metadata=FINITE)
    high: float | None = field(metadata=FINITE)
    n: int = field(metadata=POSITIVE_COUNT)
    confidence: float = field(metadata=PROBABILITY)
    method: str

    def check(self) -> str | None:
        if (self.low is None) != (self.n < 2) or (self.low is not None and not self.low <= self.mean <= self.high):
            return f"low = {self.low!r}, mean = {self.mean!r}, high = {self.high!r} is not an interval of {self.n} values"
        return None

    @classmethod
    def of(cls, interval) -> "Interval":
        values = interval.to_dict()
        return cls(**{**values, **{k: None for k in ("low", "high") if not math.isfinite(values[k])}})


@dataclass(frozen=True)
class Verdict(Record):
    """The numbers the comparison's paragraph rests on (``lenet.compare.compare_sides``)."""

    KIND = "lenet-comparison-verdict"

    seeds: list
    per_seed: list[dict]
    sides: dict
    test_difference: Interval
    gap_difference: Interval
    budget: dict
    budget_differs: list[str]
    smith: dict | None
    alpha: float = field(metadata=PROBABILITY)
    verdicts: dict = field(default_factory=dict)  # pyimagesearch.verdicts' verdicts, each with its sentence

    def check(self) -> str | None:
        if len(self.per_seed) != self.test_difference.n or len(self.per_seed) != self.gap_difference.n:
            return f"test_difference and gap_difference are not over the {len(self.per_seed)} paired runs"
        for index, row in enumerate(self.per_seed):
            for key in ("test_accuracy_a", "test_accuracy_b"):
                if ACCURACY["check"](row.get(key)):
                    return f"per_seed[{index}].{key} = {row.get(key)!r} is not an accuracy (it must be in [0, 1])"
        return None


@dataclass(frozen=True)
class Comparison(Record):
    """``comparison.json`` of ``train_lenet.py --compare``: the two folders, the table and the verdict."""

    KIND = "lenet-comparison"
    FILE = "comparison.json"

    A: str
    B: str
    table: dict
    verdict: Verdict


def read_metrics(folder: str | os.PathLike) -> RunMetrics | SeedsAggregate:
    """The ``metrics.json`` of a training folder: one run's, or the aggregate of a ``--seeds`` folder."""
    import json

    path = Path(folder) / RunMetrics.FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(str(path), None, "does not exist") from None
    except (OSError, ValueError) as error:
        raise RecordError(str(path), None, f"is not valid JSON (truncated or damaged: {error})") from None
    return (SeedsAggregate if is_seeds_aggregate(data) else RunMetrics).from_json(data, str(path))
