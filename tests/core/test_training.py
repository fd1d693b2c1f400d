"""FreshStart: one model restored between the runs of a sweep trains exactly like a new model each run."""

import numpy as np

from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.core.training import FreshStart, compile_classifier


def small_classifier(lr: float, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="softmax")])
    compile_classifier(model, keras.optimizers.SGD(lr, momentum=0.9), steps_per_execution=4)
    return model


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int32) + (x[:, 2] > 1).astype(np.int32)


def test_restored_model_trains_like_a_new_one_and_keeps_its_train_function():
    x, y = data()
    model = small_classifier(0.5)
    fresh = FreshStart(model)
    model.fit(make_dataset((x, y), 16, shuffle=True, seed=0), epochs=2, verbose=0)
    train_function = model.train_function

    fresh.restore(0.05)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), small_classifier(0.05).get_weights()))
    assert int(model.optimizer.iterations.numpy()) == 0
    assert float(model.optimizer.learning_rate.numpy()) == np.float32(0.05)
    momenta = [v.numpy() for v in model.optimizer.variables if "momentum" in v.path]
    assert momenta and not any(m.any() for m in momenta)

    model.fit(make_dataset((x, y), 16, shuffle=True, seed=0), epochs=2, verbose=0)
    new = small_classifier(0.05)
    new.fit(make_dataset((x, y), 16, shuffle=True, seed=0), epochs=2, verbose=0)
    assert model.train_function is train_function  # nothing new to trace
    for restored, built in zip(model.get_weights(), new.get_weights()):  # BatchNorm moving statistics too
        np.testing.assert_array_equal(restored, built)
