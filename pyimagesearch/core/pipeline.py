"""The one in-memory ``tf.data`` pipeline and the one count of steps per epoch.

Every path that trains on arrays (LeNet-5 runs, the LR finder, the LR grid,
the transfer head on cached features) batches through ``make_dataset``, and
every count of optimizer steps per epoch comes from ``steps_per_epoch``, so
``fit`` and the multi-worker loop (which drops a partial last batch) agree.

Runs that can be resumed in the middle build one pipeline per epoch, shuffled
with ``epoch_seed(seed, epoch)``: the order of every epoch is a function of
(seed, epoch) only, so a resumed run sees the very batches of an
uninterrupted one, and one run of a sweep those of the same run alone.
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


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """The seed of one epoch's random stream: a function of ``(seed, epoch, stream)`` only.

    ``stream`` tells apart the streams of one epoch (0: shuffling, 1:
    augmentation). NumPy's ``SeedSequence`` hashes the three numbers, so
    neighbouring seeds and epochs give unrelated streams.
    """
    import numpy as np

    entropy = [seed % 2**64, epoch, stream]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])


def make_dataset(arrays: tuple, batch_size: int, shuffle: bool = False, seed: int | None = None,
                 epoch: int | None = None):
    """A ``tf.data`` pipeline over in-memory arrays: (shuffle), batch, prefetch.

    ``arrays`` is ``(x, y)`` or ``(x, y, sample_weight)``, one element per
    example. With ``epoch``, the pipeline is that epoch's: shuffled once in
    the order of ``epoch_seed(seed, epoch)``. Without it, shuffling reshuffles
    at every pass from ``seed`` (a run trained in one ``fit`` call, never
    resumed in the middle).
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(tuple(arrays))
    if shuffle and epoch is not None:
        dataset = dataset.shuffle(len(arrays[0]), seed=epoch_seed(seed or 0, epoch), reshuffle_each_iteration=False)
    elif shuffle:
        dataset = dataset.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
