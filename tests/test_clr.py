"""Cyclical learning rates: the pure formula, the CyclicLR callback and the CyclicalLearningRate schedule."""

import math

import keras
import numpy as np
import pytest

from pyimagesearch.clr_callback import CyclicalLearningRate, CyclicLR
from pyimagesearch.lr_policies import clr

BASE_LR, MAX_LR = 0.001, 0.006
STEP_SIZES = [1.0, 2.5, 7.5, 2000.0 / 3.0, 250.0]
GAMMA = 0.9993


def reference_clr(t, base_lr, max_lr, step_size, mode, gamma=1.0):
    """Smith's triangle written as a wave: position within the cycle, then the mode's scale."""
    position = (t / (2.0 * step_size)) % 1.0  # 0 at the start of a cycle, 0.5 at its peak
    triangle = 1.0 - abs(2.0 * position - 1.0)
    cycles_done = math.floor(t / (2.0 * step_size))
    scale = {"triangular": 1.0, "triangular2": 0.5**cycles_done, "exp_range": gamma**t}[mode]
    return base_lr + (max_lr - base_lr) * triangle * scale


def reference_lrs(n, step_size, mode, gamma=1.0, base_lr=BASE_LR, max_lr=MAX_LR):
    return np.array([reference_clr(t, base_lr, max_lr, step_size, mode, gamma) for t in range(n)])


# --- the pure formula ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("step_size", STEP_SIZES)
def test_clr_matches_independent_reference(mode, step_size):
    t = np.arange(5000, dtype=np.float64)
    expected = reference_lrs(5000, step_size, mode, GAMMA)
    np.testing.assert_allclose(clr(t, BASE_LR, MAX_LR, step_size, mode, GAMMA), expected, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("step_size", [10.0, 2.5])
def test_triangular_base_at_zero_max_at_step_size_base_at_two_step_sizes(step_size):
    lr = lambda t: clr(t, BASE_LR, MAX_LR, step_size)  # noqa: E731
    assert lr(0) == BASE_LR
    assert lr(step_size) == pytest.approx(MAX_LR, rel=1e-15)
    assert lr(2 * step_size) == pytest.approx(BASE_LR, rel=1e-15)
    assert lr(3 * step_size) == pytest.approx(MAX_LR, rel=1e-15)
    assert lr(step_size / 2) == pytest.approx((BASE_LR + MAX_LR) / 2, rel=1e-15)


def test_triangular2_halves_the_amplitude_every_cycle():
    step_size = 4.0
    peaks = [clr(t, BASE_LR, MAX_LR, step_size, "triangular2") - BASE_LR for t in (4, 12, 20, 28)]
    amplitude = MAX_LR - BASE_LR
    np.testing.assert_allclose(peaks, [amplitude, amplitude / 2, amplitude / 4, amplitude / 8], rtol=1e-12)


def test_exp_range_scales_the_triangle_by_gamma_to_the_iteration():
    t = np.arange(3000, dtype=np.float64)
    triangle = clr(t, BASE_LR, MAX_LR, 7.5) - BASE_LR
    exp_range = clr(t, BASE_LR, MAX_LR, 7.5, "exp_range", GAMMA) - BASE_LR
    np.testing.assert_allclose(exp_range, triangle * GAMMA**t, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_custom_scale_function(scale_mode):
    scale_fn = lambda v: 0.5 * (1 + np.sin(v * np.pi / 2.0))  # noqa: E731  bckenstler's README example
    callback = CyclicLR(BASE_LR, MAX_LR, 5.0, scale_fn=scale_fn, scale_mode=scale_mode)
    for t in range(40):
        cycle = math.floor(1 + t / 10.0)
        scale = scale_fn(cycle if scale_mode == "cycle" else t)
        triangle = reference_clr(t, 0.0, 1.0, 5.0, "triangular")
        callback.clr_iterations = t
        assert callback.clr() == pytest.approx(BASE_LR + (MAX_LR - BASE_LR) * triangle * scale, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"base_lr": 0.0}, "base_lr"),
        ({"max_lr": 0.001}, "max_lr"),
        ({"step_size": 0}, "step_size"),
        ({"mode": "cosine"}, "mode"),
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": 0.0}, "gamma"),
    ],
)
def test_bad_arguments_are_rejected_by_callback_and_schedule(kwargs, message):
    arguments = {"base_lr": BASE_LR, "max_lr": MAX_LR, "step_size": 10.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        CyclicLR(**arguments)
    with pytest.raises(ValueError, match=message):
        CyclicalLearningRate(**arguments)


# --- Keras: callback and schedule in real fits -----------------------------------------------------


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3, activation="softmax")])


def tiny_data(n=100, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6)).astype("float32"), rng.integers(0, 3, size=n).astype("int32")


def compile_sgd(model, learning_rate, steps_per_execution=1):
    model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9), "sparse_categorical_crossentropy",
                  steps_per_execution=steps_per_execution)


class LearningRateProbe(keras.callbacks.Callback):
    """Read the optimizer's LR just before each batch runs: the LR that batch trains with."""

    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(np.float32(self.model.optimizer.learning_rate.numpy()))


@pytest.mark.parametrize("mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.97)])
def test_callback_sets_exactly_the_clr_values_batch_by_batch(mode, gamma):
    x, y = tiny_data()
    model = tiny_model()
    compile_sgd(model, 0.5)
    cyclic = CyclicLR(BASE_LR, MAX_LR, step_size=4.5, mode=mode, gamma=gamma)
    probe = LearningRateProbe()
    model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, callbacks=[cyclic, probe])
    expected = reference_lrs(30, 4.5, mode, gamma)
    np.testing.assert_array_equal(probe.lrs, expected.astype(np.float32))
    np.testing.assert_allclose(cyclic.history["lr"], expected, rtol=1e-12)
    assert cyclic.history["iterations"] == list(range(30))
    assert int(model.optimizer.iterations) == 30


def test_callback_continues_across_fit_calls_and_restarts_after_reset():
    x, y = tiny_data(40)
    model = tiny_model()
    compile_sgd(model, 0.5)
    cyclic = CyclicLR(BASE_LR, MAX_LR, step_size=3.0)
    probe = LearningRateProbe()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[cyclic, probe])
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[cyclic, probe])
    cyclic._reset(new_max_lr=0.011)
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[cyclic, probe])
    expected = np.concatenate([reference_lrs(8, 3.0, "triangular"), reference_lrs(4, 3.0, "triangular", max_lr=0.011)])
    np.testing.assert_array_equal(probe.lrs, expected.astype(np.float32))


def test_callback_refuses_steps_per_execution_above_one():
    x, y = tiny_data(40)
    model = tiny_model()
    compile_sgd(model, 0.5, steps_per_execution=8)
    with pytest.raises(ValueError, match="steps_per_execution=1"):
        model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[CyclicLR(BASE_LR, MAX_LR, 3.0)])


@pytest.mark.parametrize("mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", GAMMA)])
def test_schedule_equals_callback_at_every_step(mode, gamma):
    steps = np.arange(20_000)
    schedule = CyclicalLearningRate(BASE_LR, MAX_LR, 666.5, mode, gamma)
    callback = CyclicLR(BASE_LR, MAX_LR, 666.5, mode, gamma)
    from_callback = []
    for step in steps:
        callback.clr_iterations = step
        from_callback.append(callback.clr())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(schedule(steps)), np.float32(from_callback))
    assert keras.ops.convert_to_numpy(schedule(steps)).dtype == np.float32


def test_schedule_in_fit_sets_the_clr_values_batch_by_batch():
    x, y = tiny_data()
    model = tiny_model()
    compile_sgd(model, CyclicalLearningRate(BASE_LR, MAX_LR, 4.5, "exp_range", 0.97))
    probe = LearningRateProbe()
    model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0, callbacks=[probe])
    np.testing.assert_array_equal(probe.lrs, reference_lrs(30, 4.5, "exp_range", 0.97).astype(np.float32))


@pytest.mark.parametrize("mode, gamma", [("triangular2", 1.0), ("exp_range", 0.97)])
def test_schedule_with_steps_per_execution_8_trains_like_callback_with_1(mode, gamma):
    # 100 samples in batches of 10: 10 steps per epoch, not a multiple of 8, so
    # executions straddle epoch ends; 4 epochs = 40 steps over several cycles.
    x, y = tiny_data()
    by_callback = tiny_model(seed=3)
    compile_sgd(by_callback, 0.5)
    by_callback.fit(x, y, batch_size=10, epochs=4, shuffle=False, verbose=0,
                    callbacks=[CyclicLR(0.05, 0.5, 3.5, mode, gamma)])
    by_schedule = tiny_model(seed=3)
    compile_sgd(by_schedule, CyclicalLearningRate(0.05, 0.5, 3.5, mode, gamma), steps_per_execution=8)
    by_schedule.fit(x, y, batch_size=10, epochs=4, shuffle=False, verbose=0)
    assert int(by_schedule.optimizer.iterations) == int(by_callback.optimizer.iterations) == 40
    untrained = tiny_model(seed=3).get_weights()
    assert not np.allclose(untrained[0], by_callback.get_weights()[0])
    for trained_by_callback, trained_by_schedule in zip(by_callback.get_weights(), by_schedule.get_weights()):
        np.testing.assert_allclose(trained_by_schedule, trained_by_callback, rtol=1e-6, atol=1e-7)


# --- serialisation -------------------------------------------------------------------------------


def test_schedule_config_round_trip():
    schedule = CyclicalLearningRate(BASE_LR, MAX_LR, 1234.5, "exp_range", GAMMA, name="clr")
    config = schedule.get_config()
    assert config == {"base_lr": BASE_LR, "max_lr": MAX_LR, "step_size": 1234.5, "mode": "exp_range",
                      "gamma": GAMMA, "name": "clr"}
    restored = CyclicalLearningRate.from_config(config)
    assert restored.get_config() == config
    revived = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(revived, CyclicalLearningRate) and revived.get_config() == config
    steps = np.arange(0, 10_000, 7)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(revived(steps)), keras.ops.convert_to_numpy(schedule(steps)))


def test_model_compiled_with_schedule_saves_and_loads_as_keras(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    compile_sgd(model, CyclicalLearningRate(0.05, 0.5, 3.5, "exp_range", 0.97), steps_per_execution=4)
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    schedule = keras.optimizers.schedules.deserialize(loaded.optimizer.get_config()["learning_rate"])
    assert isinstance(schedule, CyclicalLearningRate)
    assert schedule.get_config() == {"base_lr": 0.05, "max_lr": 0.5, "step_size": 3.5, "mode": "exp_range",
                                     "gamma": 0.97, "name": "CyclicalLearningRate"}
    assert int(loaded.optimizer.iterations) == 10
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # Training on from the loaded file continues the cycle and the momentum exactly where it stopped.
    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    for original, reloaded in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(reloaded, original)
