"""The LR range test (Smith, arXiv 1506.01186, section 3.3) for Keras 3 models.

A port of pyimagesearch's ``LearningRateFinder`` (Rosebrock, 2019) with its
API, fixed where the original is wrong:

- it records the true loss of every batch (``raw_losses``). Keras' ``logs["loss"]``
  in ``on_train_batch_end`` is the running mean over the epoch so far
  (tensorflow/tensorflow#58098, keras-team/keras#17167); smoothing that mean
  smooths twice and shifts the curve. The finder therefore runs its own
  compiled training step, which returns the batch's loss;
- it stops on a NaN/inf loss as well as on ``smooth > stopFactor * best``;
- it restores the weights, the optimizer's variables (including its
  iteration count and learning rate) afterwards, also when interrupted;
- it suggests lr_min and lr_max (``lr_range.suggest_lr_range``) from a
  centred, lag-free smoothing of the batch losses (``lag_free_losses``; the
  EMA that the stop rule needs lags by about beta/(1-beta) batches) and marks
  them on the plot, over the raw losses drawn faintly;
- it uses Keras 3 names (``optimizer.learning_rate``, no ``K.set_value``).

Example::

    finder = LearningRateFinder(model)          # model compiled with SGD(float LR)
    finder.find((x, y), 1e-9, 1e1, batchSize=64)
    print(finder.suggest())
    finder.plot_loss()
"""

from __future__ import annotations

import math

import tensorflow as tf
import keras

from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.core.pipeline import steps_per_epoch as steps_per_epoch_of
from pyimagesearch.lr_policies import geometric_lrs
from pyimagesearch.lr_range import DEFAULT_LR_MAX_RULE, LRSuggestion, SmoothedLoss, lag_free_losses, suggest_lr_range


class LearningRateFinder:
    """Train while the LR grows geometrically from ``startLR`` to ``endLR``.

    Attributes after ``find``: ``lrs`` (LR used for each batch), ``raw_losses``
    (that batch's loss), ``smoothed_losses`` (``losses`` in the pyimagesearch
    original), ``stop_reason`` (why it stopped early, empty if it ran to the
    end), ``history`` (all three as a dict, named as the columns of find_lr.py's CSV).
    """

    def __init__(self, model, stopFactor: float = 4, beta: float = 0.98):
        self.model = model
        self.stopFactor = stopFactor
        self.beta = beta
        self._train_chunk = None  # compiled once, reused by later sweeps
        self._compiled_for = None
        self.reset()

    def reset(self) -> None:
        """Forget the results of an earlier sweep."""
        self.lrs: list[float] = []
        self.smoothed_losses: list[float] = []
        self.raw_losses: list[float] = []
        self.stop_reason = ""

    @property
    def losses(self) -> list[float]:
        """The smoothed losses, under the pyimagesearch original's name."""
        return self.smoothed_losses

    @losses.setter
    def losses(self, values) -> None:
        self.smoothed_losses = list(values)

    @property
    def lag_free_losses(self) -> list[float]:
        """The batch losses smoothed without lag (``lr_range.lag_free_losses``): the curve the suggestion reads."""
        return lag_free_losses(self.raw_losses, self.beta).tolist()

    @property
    def history(self) -> dict[str, list[float]]:
        return {"lr": self.lrs, "raw_loss": self.raw_losses, "smoothed_loss": self.smoothed_losses,
                "lag_free_loss": self.lag_free_losses}

    def find(self, trainData, startLR: float, endLR: float, epochs: int | None = None,
             stepsPerEpoch: int | None = None, batchSize: int = 32, sampleSize: int = 2048,
             verbose: int = 1, seed: int | None = None, batches_per_call: int = 16):
        """Run the sweep.

        Args:
            trainData: a NumPy tuple ``(x, y)`` (shuffled every epoch, batched
                with ``batchSize``) or a batched ``tf.data.Dataset`` of
                ``(x, y)`` or ``(x, y, sample_weight)``.
            startLR, endLR: the range; the LR of batch i is
                ``startLR * mult**i`` with ``mult = (endLR/startLR)**(1/updates)``.
            epochs: passes over the data; by default
                ``ceil(sampleSize / stepsPerEpoch)`` as in the original, so
                ``sampleSize`` is the least number of batch updates.
            stepsPerEpoch: batches per epoch; needed for a dataset of unknown
                length, taken from the data otherwise.
            verbose: 1 shows a progress bar.
            seed: shuffling seed for NumPy input.
            batches_per_call: batches trained per call of the compiled step,
                to keep Python out of the inner loop (like Keras'
                ``steps_per_execution``). The stop rule is still applied to
                every batch; batches after the stopping one are discarded
                with the rest when the weights are restored.

        Returns:
            ``self``, with ``lrs``, ``raw_losses`` and ``smoothed_losses`` filled.
        """
        if not 0 < startLR < endLR:
            raise ValueError(f"Arguments must satisfy 0 < startLR < endLR. Received: startLR={startLR}, endLR={endLR}")
        if batchSize < 1:
            raise ValueError(f"Argument `batchSize` must be >= 1. Received: batchSize={batchSize}")
        if batches_per_call < 1:
            raise ValueError(f"Argument `batches_per_call` must be >= 1. Received: batches_per_call={batches_per_call}")
        dataset, steps = self._as_dataset(trainData, batchSize, stepsPerEpoch, seed)
        if epochs is None:
            epochs = math.ceil(sampleSize / steps)
        lrs = geometric_lrs(startLR, endLR, epochs * steps)
        self.reset()
        optimizer = self._checked_optimizer()
        if self._compiled_for is not optimizer:
            self._train_chunk, self._compiled_for = self._make_train_chunk(optimizer), optimizer
        train_chunk = self._train_chunk
        snapshot = self._snapshot(optimizer)
        smoother = SmoothedLoss(self.beta, self.stopFactor)
        progress = keras.utils.Progbar(len(lrs), stateful_metrics=["lr", "loss"]) if verbose else None
        try:
            for _ in range(epochs):
                iterator = iter(self.model.distribute_strategy.experimental_distribute_dataset(dataset.take(steps)))
                for start in range(0, steps, batches_per_call):
                    chunk = lrs[len(self.lrs):len(self.lrs) + min(batches_per_call, steps - start)]
                    batch_losses = train_chunk(iterator, tf.constant(chunk, tf.float32)).numpy()
                    for lr, loss in zip(chunk, batch_losses.astype(float)):
                        smooth, stop = smoother.update(loss)
                        self.lrs.append(float(lr))
                        self.raw_losses.append(loss)
                        self.smoothed_losses.append(smooth)
                        if stop:
                            self.stop_reason = self._why_stopped(loss, smooth, smoother.best)
                            return self
                    if progress:
                        progress.update(len(self.lrs), [("lr", self.lrs[-1]), ("loss", self.smoothed_losses[-1])])
        finally:
            self._restore(optimizer, snapshot)
            if progress and self.stop_reason:
                print(f"\nstopped at lr={self.lrs[-1]:.3g}: {self.stop_reason}")
        return self

    def suggest(self, skipBegin: int = 10, skipEnd: int = 1, rule: str = DEFAULT_LR_MAX_RULE) -> LRSuggestion:
        """lr_min and lr_max from the lag-free curve (rule in ``lr_range.suggest_lr_range``)."""
        return suggest_lr_range(self.lrs, self.lag_free_losses, skipBegin, skipEnd, rule)

    def plot_loss(self, skipBegin: int = 10, skipEnd: int = 1, title: str = "", ax=None, rule: str = DEFAULT_LR_MAX_RULE):
        """Plot the lag-free loss against the LR (log axis), the raw losses faintly, the suggestion marked; return the axes."""
        from pyimagesearch.core.plotting import plot_lr_range

        shown = slice(skipBegin, len(self.lrs) - skipEnd)
        return plot_lr_range(self.lrs[shown], self.lag_free_losses[shown], self.suggest(skipBegin, skipEnd, rule),
                             title=title, ax=ax, raw_losses=self.raw_losses[shown])

    def _checked_optimizer(self):
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None or not getattr(model, "compiled", False):
            raise ValueError("The model must be compiled with an optimizer and a loss before the LR range test.")
        if not isinstance(optimizer.learning_rate, keras.Variable):  # a schedule evaluates to a tensor
            raise TypeError(
                "The LR range test sets the learning rate batch by batch; compile the model with an optimizer "
                "created with a float `learning_rate`, not a schedule."
            )
        if not optimizer.built:
            with model.distribute_strategy.scope():
                optimizer.build(model.trainable_variables)
        return optimizer

    def _make_train_chunk(self, optimizer):
        """A compiled function training one batch per LR in ``lrs``; returns each batch's loss.

        Under a ``tf.distribute`` strategy (the model built in its scope) each
        replica trains on its share of the batch; Keras scales each replica's
        loss by 1 / replicas, so their sum is the loss of the whole batch.
        """
        model = self.model
        strategy = model.distribute_strategy

        def train_step(batch):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
                scaled_loss = optimizer.scale_loss(loss)
            gradients = tape.gradient(scaled_loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return tf.cast(loss, tf.float32)

        @tf.function(reduce_retracing=True)
        def train_chunk(iterator, lrs):
            losses = tf.TensorArray(tf.float32, size=tf.shape(lrs)[0])
            for i in tf.range(tf.shape(lrs)[0]):
                optimizer.learning_rate.assign(lrs[i])
                per_replica = strategy.run(train_step, args=(next(iterator),))
                losses = losses.write(i, strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
            return losses.stack()

        return train_chunk

    def _snapshot(self, optimizer):
        return self.model.get_weights(), [variable.numpy() for variable in optimizer.variables]

    def _restore(self, optimizer, snapshot) -> None:
        weights, optimizer_values = snapshot
        self.model.set_weights(weights)
        for variable, value in zip(optimizer.variables, optimizer_values):
            variable.assign(value)

    def _as_dataset(self, data, batch_size, steps_per_epoch, seed):
        if isinstance(data, tf.data.Dataset):
            if steps_per_epoch is None:
                cardinality = int(data.cardinality())
                if cardinality <= 0:
                    raise ValueError("Argument `stepsPerEpoch` is required for a dataset of unknown or infinite length.")
                steps_per_epoch = cardinality
            return data, steps_per_epoch
        if not (isinstance(data, (tuple, list)) and len(data) in (2, 3)):
            raise TypeError("`trainData` must be a tuple (x, y) of NumPy arrays or a batched tf.data.Dataset.")
        dataset = make_dataset(tuple(data), batch_size, shuffle=True, seed=seed)
        return dataset, steps_per_epoch or steps_per_epoch_of(len(data[0]), batch_size)

    def _why_stopped(self, loss: float, smooth: float, best: float) -> str:
        if not math.isfinite(loss):
            return f"the batch loss became {loss}"
        return f"the smoothed loss {smooth:.3g} exceeded {self.stopFactor:g} x the best {best:.3g}"
