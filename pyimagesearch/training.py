"""Keras training glue shared by the scripts: compiling and divergence guard."""

from __future__ import annotations

import math

import keras


def compile_classifier(model, optimizer, steps_per_execution: int = 1) -> None:
    """Compile for integer labels with accuracy.

    XLA (``jit_compile``) is off: for LeNet-5 on a CPU it was measured slower
    than plain graph mode. ``steps_per_execution`` > 1 runs several batches
    per call of the compiled step; LR policies must then be schedules
    (evaluated on ``optimizer.iterations``), not per-batch callbacks.
    """
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
        steps_per_execution=steps_per_execution,
    )


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training when the loss is NaN/inf or exceeds ``factor`` x the first one.

    Keras passes the epoch's running mean in ``logs["loss"]``; a single
    exploding batch drives that mean up as well, so the mean suffices to
    detect divergence (it is not used as a per-batch loss anywhere).
    """

    def __init__(self, factor: float = 4.0):
        super().__init__()
        self.factor = factor
        self.first_loss = None
        self.diverged = False
        self.reason = ""

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        if self.first_loss is None and math.isfinite(loss):
            self.first_loss = loss
        if not math.isfinite(loss):
            self.reason = f"the training loss became {loss}"
        elif self.first_loss is not None and loss > self.factor * self.first_loss:
            self.reason = f"the training loss {loss:.3g} exceeded {self.factor:g} x its first value {self.first_loss:.3g}"
        else:
            return
        self.diverged = True
        self.model.stop_training = True
