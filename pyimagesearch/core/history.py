"""The history of a run: one row per epoch written to CSV, and the progress line of each row.

Two callbacks of one job each, as Keras keeps ``History`` and ``CSVLogger``
apart from ``ProgbarLogger``: ``EpochHistory`` records the rows and writes
``history.csv``; ``ProgressLog`` turns the newest row into a line of the
run's log. The checkpoint after every epoch is ``core.loop.EpochCheckpoint``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np

from pyimagesearch.core.outputs import read_csv, write_csv

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


class EpochHistory(keras.callbacks.Callback):
    """One row per epoch, appended to ``rows`` and written whole to ``path`` at once.

    A row holds ``epoch`` (1-based), ``columns(epoch)`` (columns of the epoch
    such as its batch size; 0-based epoch), ``steps`` (optimizer steps in the
    epoch), ``iterations`` (optimizer steps so far), ``lr``, the epoch's loss
    and accuracy means with their validation counterparts and, under
    ``time_field``, the seconds since ``start()`` or the previous epoch's end
    (so work done between ``fit`` calls, such as per-epoch feature
    extraction, counts). Only ``fields`` go into the CSV. ``lr_at(step)``
    gives the LR of the epoch's last step (as the value to record); without
    it the optimizer's LR as the epoch ends is recorded (an LR set once per
    epoch), as the shortest text that gives back its float32 value.
    """

    def __init__(self, path: str | os.PathLike, fields: Sequence[str], rows: list[dict] | None = None,
                 lr_at: Callable[[int], Any] | None = None, columns: Callable[[int], dict] | None = None,
                 time_field: str = "time_s"):
        super().__init__()
        self.path, self.fields = Path(path), list(fields)
        self.rows = rows if rows is not None else []
        self.lr_at, self.columns, self.time_field = lr_at, columns, time_field
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
            lr = str(np.float32(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
        row = {"epoch": epoch + 1, **(self.columns(epoch) if self.columns else {}),
               "steps": iterations - self.first_step, "iterations": iterations, "lr": lr,
               **{key: float(logs.get(key, float("nan"))) for key in METRICS},
               self.time_field: round(now - self.clock, 3)}
        self.clock = now
        self.rows.append(row)
        write_csv(self.path, self.rows, self.fields)


class ProgressLog(keras.callbacks.Callback):
    """After every epoch, ``log(describe(row))`` for the newest of ``rows`` (an ``EpochHistory``'s, run before)."""

    def __init__(self, log: Callable[[str], None], describe: Callable[[dict], str], rows: list[dict]):
        super().__init__()
        self.log, self.describe, self.rows = log, describe, rows

    def on_epoch_end(self, epoch, logs=None):
        self.log(self.describe(self.rows[-1]))


def read_history(path: str | os.PathLike) -> list[dict[str, float]]:
    """Rows of a history CSV written by ``EpochHistory``, every value a float (NaN where empty)."""
    return [{key: float(value) if value not in (None, "") else float("nan") for key, value in row.items()}
            for row in read_csv(path)]
