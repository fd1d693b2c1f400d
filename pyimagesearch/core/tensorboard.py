"""TensorBoard logs of a training run: Keras' own callback plus the learning rate of every optimizer step.

``tensorboard_callbacks(log_dir, lr_at)`` gives the callbacks to add to
``fit`` (or to ``custom_loop.StrategyLoop.fit``, which calls the same epoch
hooks). They write into ``log_dir``:

- ``train/`` and ``validation/``: Keras' ``TensorBoard`` callback, once per
  epoch: ``epoch_loss``, ``epoch_accuracy`` and, in ``train/``,
  ``epoch_learning_rate`` (the LR when the epoch ends), against the epoch
  (0-based);
- ``train/`` also: ``step_learning_rate``, the LR used by each optimizer step
  (iteration) t = 0, 1, ..., written when an epoch ends. With
  ``steps_per_execution`` > 1 a callback sees only every n-th batch, so the
  values are not read during the epoch but computed for each step of it:
  ``lr_at(steps)`` evaluates the run's schedule, which is exact; without
  ``lr_at`` every step of the epoch gets the optimizer's LR at its end, which
  is exact for an LR set once per epoch (``LearningRateScheduler``).

View them with ``tensorboard --logdir output``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import keras
import numpy as np

LOG_DIR = "tensorboard"  # inside a run's folder
STEP_LR_TAG = "step_learning_rate"


class StepLearningRate(keras.callbacks.Callback):
    """Write the LR of every optimizer step of each epoch as the scalar ``step_learning_rate``.

    ``lr_at(steps)`` maps an array of optimizer steps to their LRs (the
    schedule evaluated on them); without it, the optimizer's LR at the end of
    the epoch stands for all of its steps.
    """

    def __init__(self, log_dir: str | os.PathLike, lr_at: Callable[[np.ndarray], np.ndarray] | None = None):
        super().__init__()
        self.log_dir, self.lr_at = Path(log_dir), lr_at
        self.writer = None
        self.first_step = 0

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self.writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_epoch_begin(self, epoch, logs=None):
        self.first_step = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        steps = np.arange(self.first_step, int(self.model.optimizer.iterations.numpy()))
        if self.lr_at is not None:
            lrs = np.asarray(self.lr_at(steps), dtype=np.float64).reshape(len(steps))
        else:
            lrs = np.full(len(steps), float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
        with self.writer.as_default():
            for step, lr in zip(steps, lrs):
                tf.summary.scalar(STEP_LR_TAG, lr, step=int(step))
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()


def tensorboard_callbacks(log_dir: str | os.PathLike, lr_at=None) -> list[keras.callbacks.Callback]:
    """Keras' ``TensorBoard`` callback (per epoch) and ``StepLearningRate``, both writing into ``log_dir``."""
    log_dir = Path(log_dir)
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch"),
            StepLearningRate(log_dir / "train", lr_at)]
