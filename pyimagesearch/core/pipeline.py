"""The one in-memory ``tf.data`` pipeline and the one count of steps per epoch.

Every path that trains on arrays (LeNet-5 runs, the LR finder, the LR grid,
the transfer head on cached features) batches through ``make_dataset``, and
every count of optimizer steps per epoch comes from ``steps_per_epoch``, so
``fit`` and the multi-worker loop (which drops a partial last batch) agree.
"""

from __future__ import annotations

import math


def steps_per_epoch(num_images: int, batch_size: int, drop_remainder: bool = False) -> int:
    """Optimizer steps in one pass over ``num_images``.

    ``ceil(n / batch)`` when the last partial batch is trained on (``fit``),
    ``floor(n / batch)`` when it is dropped (``custom_loop.StrategyLoop``,
    where every replica must take a step).
    """
    if batch_size <= 0:
        raise ValueError(f"Argument `batch_size` must be > 0. Received: batch_size={batch_size}")
    return num_images // batch_size if drop_remainder else math.ceil(num_images / batch_size)


def make_dataset(arrays: tuple, batch_size: int, shuffle: bool = False, seed: int | None = None):
    """A ``tf.data`` pipeline over in-memory arrays: (shuffle), batch, prefetch.

    ``arrays`` is ``(x, y)`` or ``(x, y, sample_weight)``, one element per
    example. Shuffling reshuffles every epoch from ``seed``, so a run is
    reproducible.
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(tuple(arrays))
    if shuffle:
        dataset = dataset.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
