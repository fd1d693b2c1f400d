"""Problem 1.1's records: the LR range test's suggestion and the literal LR grid, row by row.

``find_lr.py`` writes ``suggestion.json`` (range test and grid), ``lr_grid.csv``
and ``lr_grid_history.csv`` through these records; ``--from-finder``, the LR
rule study, a grid started again and the report read them back through them.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.lr_range import DEFAULT_LR_MAX_RULE, LR_MAX_RULES
from pyimagesearch.records.base import ACCURACY, COUNT, LR, NONNEGATIVE, POSITIVE_COUNT, SECONDS, Record, one_of
from pyimagesearch.records.csv_rows import read_records


@dataclass(frozen=True)
class LRRangeSuggestion(Record):
    """``suggestion.json`` of find_lr.py (range test or grid), or of the LR rule study: the range or why there is none."""

    KIND = "lr-range-suggestion"
    FILE = "suggestion.json"

    lr_min: float | None = field(metadata=LR)
    lr_max: float | None = field(metadata=LR)
    lr_at_minimum: float | None = field(default=None, metadata=LR)
    lr_steepest: float | None = field(default=None, metadata=LR)
    still_decreasing: bool = False
    reason: str = ""
    lr_max_rule: str = field(default=DEFAULT_LR_MAX_RULE, metadata=one_of(*LR_MAX_RULES))
    rule: str = ""
    seconds: float | None = field(default=None, metadata=SECONDS)
    batches: int | None = field(default=None, metadata=POSITIVE_COUNT)  # range test: batches trained
    stop_reason: str = ""  # range test: why the sweep stopped early
    learning_rates: int | None = field(default=None, metadata=POSITIVE_COUNT)  # grid: LRs trained

    def __bool__(self) -> bool:
        return self.lr_min is not None

    def check(self) -> str | None:
        if (self.lr_min is None) != (self.lr_max is None):
            return f"lr_min = {self.lr_min!r} and lr_max = {self.lr_max!r}: a range needs both, no range neither"
        if self.lr_min is not None and not self.lr_min < self.lr_max:
            return f"lr_min = {self.lr_min!r} is not below lr_max = {self.lr_max!r}"
        if self.lr_min is None and not self.reason:
            return "suggests no range and gives no reason"
        return None

    @classmethod
    def of(cls, suggestion, **extra) -> "LRRangeSuggestion":
        """The record of an ``lr_range.LRSuggestion`` with what the command adds (seconds, rule, batches ...)."""
        return cls(**suggestion.to_dict(), **extra)


@dataclass(frozen=True)
class GridRow(Record):
    """One learning rate of ``find_lr.py --grid``: a row of ``lr_grid.csv`` and its epochs in ``lr_grid_history.csv``."""

    KIND = "lr-grid-row"

    lr: float = field(metadata=LR)
    final_train_loss: float | None = field(metadata=NONNEGATIVE)  # null when the loss became NaN/inf
    train_accuracy: float | None = field(metadata=ACCURACY)
    diverged: bool
    epochs_run: int = field(metadata=COUNT)
    seconds: float = field(metadata=SECONDS)
    losses: list[float | None] = field(default_factory=list)  # per epoch
    accuracies: list[float | None] = field(default_factory=list)

    def check(self) -> str | None:
        if not self.diverged and None in (self.final_train_loss, self.train_accuracy):
            return "has no final training loss or accuracy, though it did not diverge"
        if len(self.losses) != len(self.accuracies):
            return f"has {len(self.losses)} epoch losses but {len(self.accuracies)} accuracies"
        return None

    @classmethod
    def of(cls, row: dict) -> "GridRow":
        """The record of a row of ``lenet.grid.run_lr_grid`` (a NaN or inf loss becomes null)."""
        def plain(value):
            return None if value is None or not math.isfinite(value) else float(value)

        return cls(float(row["lr"]), plain(row["final_train_loss"]), plain(row["train_accuracy"]),
                   bool(row["diverged"]), int(row["epochs_run"]), float(row["seconds"]),
                   [plain(v) for v in row["history"]["loss"]], [plain(v) for v in row["history"]["accuracy"]])

    def as_row(self) -> dict:
        """The row as ``run_lr_grid`` returns it (null losses as NaN), to be kept by a sweep started again."""
        nan = math.nan
        return {"lr": self.lr, "final_train_loss": nan if self.final_train_loss is None else self.final_train_loss,
                "train_accuracy": nan if self.train_accuracy is None else self.train_accuracy,
                "diverged": self.diverged, "epochs_run": self.epochs_run, "seconds": self.seconds,
                "history": {"loss": [nan if v is None else v for v in self.losses],
                            "accuracy": [nan if v is None else v for v in self.accuracies]}}


GRID_COLUMNS = ["lr", "final_train_loss", "train_accuracy", "diverged", "epochs_run", "seconds"]
GRID_FILE, GRID_HISTORY_FILE = "lr_grid.csv", "lr_grid_history.csv"


def write_grid(folder: str | os.PathLike, rows: list[GridRow]) -> None:
    """``lr_grid.csv`` (one row per LR) and ``lr_grid_history.csv`` (one row per LR and epoch), atomically."""
    folder = Path(folder)
    write_csv(folder / GRID_FILE, [{**{key: getattr(row, key) for key in GRID_COLUMNS},
                                    "diverged": "yes" if row.diverged else "no"} for row in rows], GRID_COLUMNS)
    write_csv(folder / GRID_HISTORY_FILE, [{"lr": row.lr, "epoch": epoch, "loss": loss, "accuracy": accuracy}
                                           for row in rows
                                           for epoch, (loss, accuracy) in enumerate(zip(row.losses, row.accuracies), 1)],
              ["lr", "epoch", "loss", "accuracy"])


@dataclass(frozen=True)
class GridEpoch(Record):
    """One row of ``lr_grid_history.csv``: an epoch of one LR of the grid."""

    KIND = "lr-grid-epoch"

    lr: float = field(metadata=LR)
    epoch: int = field(metadata=POSITIVE_COUNT)
    loss: float | None = field(metadata=NONNEGATIVE)
    accuracy: float | None = field(metadata=ACCURACY)


def read_grid(folder: str | os.PathLike, history: bool = True) -> list[GridRow]:
    """The grid rows in ``folder``, with each LR's epochs (``history``); ``RecordError`` naming file, row and column."""
    folder = Path(folder)
    epochs: dict[float, list[GridEpoch]] = {}
    for epoch in read_records(GridEpoch, folder / GRID_HISTORY_FILE) if history else []:
        epochs.setdefault(epoch.lr, []).append(epoch)
    rows = read_records(GridRow, folder / GRID_FILE, skip=("losses", "accuracies"))
    return [dataclasses.replace(row, losses=[e.loss for e in epochs.get(row.lr, [])],
                                accuracies=[e.accuracy for e in epochs.get(row.lr, [])]) for row in rows]


@dataclass(frozen=True)
class FinderBatch(Record):
    """One row of the range test's ``lr_finder.csv``: a batch's LR and its loss, raw and smoothed (null once NaN)."""

    KIND = "lr-finder-batch"

    lr: float = field(metadata=LR)
    raw_loss: float | None = field(metadata=NONNEGATIVE)
    smoothed_loss: float | None = field(metadata=NONNEGATIVE)
    lag_free_loss: float | None = field(default=None, metadata=NONNEGATIVE)


FINDER_FILE = "lr_finder.csv"
FINDER_COLUMNS = ["lr", "raw_loss", "smoothed_loss", "lag_free_loss"]


def write_finder_curve(folder: str | os.PathLike, history: dict[str, list[float]]) -> Path:
    """``lr_finder.csv`` from ``LearningRateFinder.history`` (NaN and inf written empty), each row a ``FinderBatch``."""
    def plain(value):
        return float(value) if math.isfinite(value) else None

    rows = [FinderBatch(*map(plain, values)) for values in zip(*(history[key] for key in FINDER_COLUMNS))]
    return write_csv(Path(folder) / FINDER_FILE, [{key: getattr(row, key) for key in FINDER_COLUMNS} for row in rows],
                     FINDER_COLUMNS)


def read_finder_curve(folder: str | os.PathLike) -> list[FinderBatch]:
    """The rows of a range test's ``lr_finder.csv``; ``RecordError`` naming file, row and column."""
    return read_records(FinderBatch, Path(folder) / FINDER_FILE)
