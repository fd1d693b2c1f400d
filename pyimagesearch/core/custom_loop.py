"""``fit`` and ``evaluate`` through ``strategy.run``, for multi-worker training.

Keras 3's ``model.fit`` fails under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585, tensorflow/tensorflow#72388; here: "Failed to
convert ... PerReplica to a Tensor"). ``StrategyLoop`` wraps a compiled
classifier and offers the part of ``fit``/``evaluate`` the scripts use, written
as the custom training loop of TensorFlow's distributed-training guide:

- each worker builds the same input pipeline (same seed) batched with the
  *global* batch; ``experimental_distribute_dataset`` with the DATA
  auto-shard policy gives every replica its slice of each batch. Training
  uses full batches only (the last partial batch of an epoch is dropped) so
  every replica always takes a step; evaluation uses every example;
- each replica's loss is ``sum(per-example loss) / global batch``; the
  optimizer sums the replicas' gradients (Keras' TF optimizer all-reduces), so
  the update is that of the mean loss over the global batch, as on one device;
- the epoch's loss and accuracy are sums reduced over all replicas, divided by
  the number of examples: the same weighted means Keras reports, the loss with
  the model's regularisation losses, as it is trained on.

Callbacks receive ``on_epoch_begin``/``on_epoch_end`` and, every
``steps_per_execution`` batches, ``on_train_batch_end`` with the running
means, so ``DivergenceGuard`` and per-epoch recorders work unchanged.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def distribute(dataset, strategy):
    """Re-batch nothing, shard by data: every replica takes its slice of each global batch."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


class StrategyLoop:
    """``fit``/``evaluate`` of a compiled classifier with integer labels, via ``strategy.run``."""

    def __init__(self, model, steps_per_execution: int = 32):
        self.model = model
        self.strategy = model.distribute_strategy
        self.steps_per_execution = steps_per_execution
        self._train = self._make_function(training=True)
        self._test = self._make_function(training=False)

    def _make_function(self, training: bool):
        model, strategy = self.model, self.strategy
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)

        def replica_step(x, y):
            global_batch = tf.cast(tf.shape(y)[0] * strategy.num_replicas_in_sync, tf.float32)
            with tf.GradientTape() as tape:
                y_pred = model(x, training=training)
                per_example = tf.cast(loss_fn(y, y_pred), tf.float32)
                regularisation = tf.cast(tf.add_n(model.losses), tf.float32) if model.losses else tf.constant(0.0)
                loss = tf.reduce_sum(per_example) / global_batch + regularisation / strategy.num_replicas_in_sync
            if training:
                gradients = tape.gradient(model.optimizer.scale_loss(loss), model.trainable_variables)
                model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            correct = tf.cast(tf.equal(tf.argmax(y_pred, axis=-1, output_type=tf.int32), tf.cast(y, tf.int32)), tf.float32)
            images = tf.cast(tf.shape(y)[0], tf.float32)
            # Logged as Keras logs it: each example's loss plus the regularisation losses, the loss trained on.
            return tf.stack([tf.reduce_sum(per_example) + images * regularisation, tf.reduce_sum(correct), images])

        @tf.function
        def run(iterator, steps):
            totals = tf.zeros(3)
            for _ in tf.range(steps):
                x, y = next(iterator)
                per_replica = strategy.run(replica_step, args=(x, y))
                totals += strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
            return totals

        return run

    def _batches(self, dataset) -> int:
        count = int(dataset.cardinality())
        if count < 0:
            raise ValueError("StrategyLoop needs a dataset of known length.")
        return count

    def fit(self, x, epochs: int = 1, initial_epoch: int = 0, validation_data=None, callbacks=None, verbose: int = 0):
        """Train like ``model.fit(x, ...)``; ``x`` a batched ``(images, labels)`` dataset (global batch)."""
        model = self.model
        steps = self._full_batches(x)
        dataset = x.take(steps)
        history = keras.callbacks.History()
        callback_list = keras.callbacks.CallbackList(list(callbacks or []) + [history], model=model,
                                                     epochs=epochs, steps=steps)
        model.stop_training = False
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            iterator = iter(distribute(dataset, self.strategy))
            totals, done = tf.zeros(3), 0
            while done < steps and not model.stop_training:
                chunk = min(self.steps_per_execution, steps - done)
                totals += self._train(iterator, tf.constant(chunk))
                done += chunk
                callback_list.on_train_batch_end(done - 1, self._logs(totals))
            logs = self._logs(totals)
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(validation_data, return_dict=True).items()})
            callback_list.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        callback_list.on_train_end()
        return history

    def evaluate(self, x, verbose: int = 0, return_dict: bool = False):
        """Mean loss and accuracy over a batched dataset, like ``model.evaluate``."""
        totals = self._test(iter(distribute(x, self.strategy)), tf.constant(self._batches(x)))
        logs = self._logs(totals)
        return logs if return_dict else [logs["loss"], logs["accuracy"]]

    def _full_batches(self, dataset) -> int:
        """Number of full batches: all of them, or all but a partial last one."""
        count = self._batches(dataset)
        first = next(iter(dataset.take(1)))[1].shape[0]
        last = next(iter(dataset.skip(count - 1)))[1].shape[0]
        return count if last == first else count - 1

    @staticmethod
    def _logs(totals) -> dict[str, float]:
        loss_sum, correct, count = (float(v) for v in totals.numpy())
        if count == 0:
            return {"loss": float("nan"), "accuracy": float("nan")}
        return {"loss": loss_sum / count, "accuracy": correct / count}
