"""The one epoch loop of every training run: LeNet-5, Problem 4's runs, transfer fine-tuning and feature extraction.

A run supplies its model (``model_of``), the data of each epoch
(``epoch_data(epoch)``, its own pipeline, so a resumed run sees the batches
of an uninterrupted one), its validation data and how its history reads;
``train_epochs`` does the rest, the way Keras' ``fit`` drives its callbacks:

- build the model in the strategy's scope, or restore it from the checkpoint
  of ``resume_epoch`` (``core.checkpoints.RunCheckpoint``), optimizer state,
  history and divergence reference included;
- train epoch by epoch, each a ``fit`` with validation, through the model or,
  for multi-worker, ``custom_loop.StrategyLoop`` (``Distribution.trainer``);
- callbacks of one job each: ``training.DivergenceGuard`` (stops the run),
  ``history.EpochHistory`` (rows and ``history.csv``), ``history.ProgressLog``
  (a line per epoch), ``EpochCheckpoint`` (the state after every epoch) and,
  if asked, ``core.tensorboard``'s;
- stop when the guard trips: the epochs so far are the run's history.

``resume_epoch`` chooses where a run resumes: its newest whole checkpoint
and, for multi-worker, the smallest over the workers (``core.peers``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import keras

from pyimagesearch.core.checkpoints import RunCheckpoint
from pyimagesearch.core.distribute import Distribution
from pyimagesearch.core.history import EpochHistory, ProgressLog
from pyimagesearch.core.outputs import write_csv
from pyimagesearch.core.training import DivergenceGuard

# What the loop keeps in a checkpoint's state besides RunCheckpoint's own entries.
STATE_KEYS = ("reference_loss", "wall_seconds")


def resume_epoch(checkpoint: RunCheckpoint | None, distribution: Distribution, note: Callable[[str], None]) -> int:
    """The epoch a run resumes after: its newest whole checkpoint, agreed on by every worker; 0 to start over.

    One process refuses when every checkpoint is damaged (``RunCheckpoint.find``
    strict); a worker starts over instead, as the others roll back to what it
    has. Multi-worker: call it inside ``distribution.watch()``.
    """
    if checkpoint is None:
        return 0
    epoch = checkpoint.find(note, strict=not distribution.multiworker)
    if distribution.multiworker:
        from pyimagesearch.core import peers

        epoch = peers.agree_on_epoch(distribution.strategy, epoch)
    return epoch


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch, save the model and ``state()`` as one checkpoint (``RunCheckpoint.save``).

    Place it after the callbacks whose work the state holds (the history).
    """

    def __init__(self, checkpoint: RunCheckpoint, state: Callable[[], dict[str, Any]]):
        super().__init__()
        self.checkpoint, self.state = checkpoint, state

    def on_epoch_end(self, epoch, logs=None):
        self.checkpoint.save(self.model, self.state())


@dataclass
class Trained:
    """What ``train_epochs`` leaves: the model, what trained it, the history rows and the time spent.

    ``train_seconds`` sums the epochs' times (those before a resume
    included); ``wall_seconds`` runs from ``started`` (plus the wall time
    before a resume); ``diverged`` is "" or why the guard stopped training.
    """

    model: Any
    trainer: Any
    history: list[dict]
    train_seconds: float
    wall_seconds: float
    diverged: str


def train_epochs(model_of: Callable[[Any], Any], epoch_data: Callable[[int], Any], validation: Callable[[], Any],
                 epochs: int, history: EpochHistory, progress: Callable[[dict], str], log: Callable[[str], None], *,
                 reference_loss: Callable[[Any, Any], float], distribution: Distribution | None = None,
                 checkpoint: RunCheckpoint | None = None, resume_epoch: int = 0,
                 callbacks: Sequence[keras.callbacks.Callback] = (), tensorboard: Path | None = None,
                 tensorboard_lr_at=None, steps_per_execution: int = 32, verbose: int = 0, label: str = "",
                 started: float | None = None) -> Trained:
    """Train ``epochs`` epochs (those not yet in the resumed history), each a ``fit`` on ``epoch_data(epoch)``.

    Args:
        model_of: ``model_of(restored)`` returns the compiled model to train,
            given the model restored from the checkpoint or None for a new run;
            called in the strategy's scope.
        epoch_data: the batched training data of (0-based) epoch ``epoch``.
        validation: gives the batched validation data, once the model exists.
        history: the run's ``EpochHistory``; its rows begin with the resumed ones.
        progress: the log line of a history row (``ProgressLog``).
        log: where the progress lines and the resume note go.
        reference_loss: ``reference_loss(trainer, validation)`` for
            ``DivergenceGuard``, taken on a new run and kept in the checkpoint.
        distribution: strategy and workers (default: the current strategy, one process).
        checkpoint: saved after every epoch when given; ``resume_epoch`` > 0
            restores that epoch's checkpoint (``resume_epoch()`` chose it).
        callbacks: the run's own callbacks (an LR scheduler), after the loop's.
        tensorboard: TensorBoard's log folder (``core.tensorboard``), with the
            schedule ``tensorboard_lr_at(steps)`` for the LR of every step.
        label: prefix of the resume note ("<label>: resuming after epoch N ...").
        started: ``time.perf_counter()`` when the run began (default: now).
    """
    started = time.perf_counter() if started is None else started
    distribution = distribution or Distribution.local()
    state, restored = None, None
    with distribution.strategy.scope():
        if resume_epoch:
            # The saved optimizer carries the momentum, the iteration count and the schedule.
            state, restored = checkpoint.restore(keras.models.load_model, resume_epoch)
        model = model_of(restored)
    trainer = distribution.trainer(model, steps_per_execution)
    val_data = validation()
    rows = history.rows
    if state:
        rows[:] = state["history"]
        reference, wall_before = state["reference_loss"], state.get("wall_seconds", 0.0)
        log(f"{label + ': ' if label else ''}resuming after epoch {state['epochs_done']} from "
            f"{checkpoint.path(state['epochs_done'])}")
        write_csv(history.path, rows, history.fields)
    else:
        rows.clear()
        reference, wall_before = reference_loss(trainer, val_data), 0.0
    guard = DivergenceGuard(reference_loss=reference)

    def saved_state() -> dict[str, Any]:
        return {"epochs_done": len(rows), "history": rows, "reference_loss": reference,
                "wall_seconds": wall_before + time.perf_counter() - started}

    loop_callbacks = [guard, history, ProgressLog(log, progress, rows)]
    if checkpoint is not None:
        loop_callbacks.append(EpochCheckpoint(checkpoint, saved_state))
    loop_callbacks += list(callbacks)
    if tensorboard is not None:
        from pyimagesearch.core.tensorboard import tensorboard_callbacks

        loop_callbacks += tensorboard_callbacks(tensorboard, tensorboard_lr_at)
    time_before = sum(row[history.time_field] for row in rows)
    clock = time.perf_counter()
    history.start()
    for epoch in range(len(rows), epochs):
        trainer.fit(epoch_data(epoch), validation_data=val_data, initial_epoch=epoch, epochs=epoch + 1,
                    callbacks=loop_callbacks, verbose=verbose)
        if guard.diverged:
            break
    now = time.perf_counter()
    return Trained(model, trainer, rows, time_before + now - clock, wall_before + now - started, guard.reason)
