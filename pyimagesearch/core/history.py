"""The one per-epoch history callback: a row per epoch, written to CSV as each epoch ends."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import keras

from pyimagesearch.core.outputs import read_csv, write_csv

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


class EpochHistory(keras.callbacks.Callback):
    """One row per epoch, appended to ``rows`` and written whole to ``path`` at once.

    A row holds ``epoch`` (1-based), ``steps`` (optimizer steps in the epoch),
    ``iterations`` (optimizer steps so far), ``lr``, the epoch's loss and
    accuracy means with their validation counterparts, ``extra`` (constant
    columns such as the batch size) and the seconds since ``start()`` or the
    previous epoch's end under ``time_field`` (so work done between ``fit``
    calls, such as per-epoch feature extraction, counts). Only ``fields`` go
    into the CSV. ``lr_at(step)`` gives the LR of the epoch's last step (as
    the value to record); without it the optimizer's current LR is read. Each row is passed to
    ``describe`` for a progress line to ``log``, then ``after_epoch()`` runs
    (a checkpoint, for example).
    """

    def __init__(self, path: str | os.PathLike, fields: Sequence[str], log: Callable[[str], None],
                 describe: Callable[[dict], str], rows: list[dict] | None = None,
                 lr_at: Callable[[int], float] | None = None, extra: dict[str, Any] | None = None,
                 time_field: str = "time_s", after_epoch: Callable[[], None] | None = None):
        super().__init__()
        self.path, self.fields, self.log, self.describe = Path(path), list(fields), log, describe
        self.rows = rows if rows is not None else []
        self.lr_at, self.extra, self.time_field, self.after_epoch = lr_at, dict(extra or {}), time_field, after_epoch
        self.clock = time.perf_counter()
        self.first_step = 0

    def start(self) -> None:
        """Start timing the next epoch now."""
        self.clock = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.first_step = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        now = time.perf_counter()
        iterations = int(self.model.optimizer.iterations.numpy())
        if self.lr_at is not None:
            lr = self.lr_at(max(iterations - 1, 0))
        else:
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch + 1, **self.extra, "steps": iterations - self.first_step, "iterations": iterations,
               "lr": lr, **{key: float(logs.get(key, float("nan"))) for key in METRICS},
               self.time_field: round(now - self.clock, 3)}
        self.clock = now
        self.rows.append(row)
        write_csv(self.path, self.rows, self.fields)
        self.log(self.describe(row))
        if self.after_epoch:
            self.after_epoch()


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """Rows of a history CSV written by ``EpochHistory``, every value a float (NaN where empty)."""
    return [{key: float(value) if value not in (None, "") else float("nan") for key, value in row.items()}
            for row in read_csv(path)]
