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
    """Stop training when the loss is NaN/inf or exceeds ``factor`` x a reference loss.

    The reference is ``reference_loss`` when given (for a classifier, the loss
    of a uniform prediction, ln(number of classes), is what a freshly
    initialised network starts from), otherwise the first loss logged. The
    first logged loss can come too late to serve: with ``steps_per_execution``
    = 32 it is the mean of 32 batches, and at a very high LR those batches
    have already blown up.

    Keras passes the epoch's running mean in ``logs["loss"]``; a single
    exploding batch drives that mean up as well, so the mean suffices to
    detect divergence (it is not used as a per-batch loss anywhere).
    """

    def __init__(self, factor: float = 4.0, reference_loss: float | None = None):
        super().__init__()
        self.factor = factor
        self.reference_loss = reference_loss
        self.diverged = False
        self.reason = ""

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        if self.reference_loss is None and math.isfinite(loss):
            self.reference_loss = loss
        if not math.isfinite(loss):
            self.reason = f"the training loss became {loss}"
        elif loss > self.factor * self.reference_loss:
            self.reason = f"the training loss {loss:.3g} exceeded {self.factor:g} x {self.reference_loss:.3g}"
        else:
            return
        self.diverged = True
        self.model.stop_training = True


class FreshStart:
    """A compiled model's initial weights and optimizer state, put back before each run of a sweep.

    A new Keras model for every run of a sweep (every LR of a grid) means
    new ``tf.function``s to trace; in a sweep of short runs TensorFlow then
    warns about "tf.function retracing" and spends the time tracing. One
    model restored in place keeps its traced train and test steps, and each
    run starts as a new model built with the same seed would: the same
    weights (BatchNorm statistics included), zero momentum, iteration 0.
    """

    def __init__(self, model):
        model.optimizer.build(model.trainable_variables)  # create the momentum slots now, to save them
        self.model = model
        self.weights = model.get_weights()
        self.optimizer_state = [variable.numpy() for variable in model.optimizer.variables]

    def restore(self, lr: float | None = None) -> None:
        """Put the initial weights and optimizer state back; then set the LR to ``lr`` if given."""
        self.model.set_weights(self.weights)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_state):
            variable.assign(value)
        if lr is not None:
            self.model.optimizer.learning_rate = lr
