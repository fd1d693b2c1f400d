"""The one steps-per-epoch count agrees with what fit and the multi-worker loop actually train."""

import numpy as np
import pytest

from pyimagesearch.core.distribute import Worker, output_folder
from pyimagesearch.core.pipeline import make_dataset, steps_per_epoch


@pytest.mark.parametrize("images, batch, fit_steps, loop_steps", [(100, 32, 4, 3), (96, 32, 3, 3), (5, 8, 1, 0)])
def test_steps_per_epoch_counts_partial_batches_only_when_they_are_trained(images, batch, fit_steps, loop_steps):
    assert steps_per_epoch(images, batch) == fit_steps
    assert steps_per_epoch(images, batch, drop_remainder=True) == loop_steps


def test_fit_and_the_strategy_loop_take_the_counted_steps():
    import keras

    from pyimagesearch.core.custom_loop import StrategyLoop
    from pyimagesearch.core.training import compile_classifier

    x = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    for drop_remainder in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        compile_classifier(model, keras.optimizers.SGD(0.1))
        trainer = StrategyLoop(model, 2) if drop_remainder else model
        trainer.fit(make_dataset((x, y), 32, shuffle=True, seed=0), epochs=2, verbose=0)
        assert int(model.optimizer.iterations.numpy()) == 2 * steps_per_epoch(100, 32, drop_remainder)


def test_make_dataset_reshuffles_every_epoch_from_its_seed():
    x = np.arange(10, dtype=np.float32)
    dataset = make_dataset((x, x), 10, shuffle=True, seed=3)
    first, second = ([int(v) for v in next(iter(dataset))[0].numpy()] for _ in range(2))
    again = [int(v) for v in next(iter(make_dataset((x, x), 10, shuffle=True, seed=3)))[0].numpy()]
    assert sorted(first) == list(range(10)) and first != second
    assert again == first


def test_only_the_chief_writes_into_the_output_folder(tmp_path):
    assert output_folder(tmp_path, None) == tmp_path
    assert output_folder(tmp_path, Worker("worker", 0, 2)) == tmp_path
    assert output_folder(tmp_path, Worker("worker", 1, 2)) == tmp_path / "worker-1"
