"""LearningRateFinder: LR sequence, true per-batch losses, stop rule, restored state."""

import math

import numpy as np
import pytest
import tensorflow as tf
import keras

import pyimagesearch.learningratefinder as lrf_module
from pyimagesearch.learningratefinder import LearningRateFinder
from pyimagesearch.lr_policies import geometric_lrs
from pyimagesearch.lr_range import lag_free_losses, suggest_lr_range

W0 = 0.5


def linear_model(lr=0.01, momentum=0.0):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False,
                              kernel_initializer=keras.initializers.Constant(W0))])
    model.compile(optimizer=keras.optimizers.SGD(lr, momentum=momentum), loss="mse")
    return model


def regression_batches():
    """Four fixed batches whose losses differ by orders of magnitude (y = 0 or y = 20x)."""
    x = np.linspace(0.5, 1.5, 32, dtype=np.float32).reshape(4, 8, 1)
    slopes = np.array([0.0, 20.0, 0.0, 20.0], dtype=np.float32).reshape(4, 1, 1)
    return x, slopes * x


def simulate(x_batches, y_batches, lrs):
    """Plain SGD on y = w x with mean squared error, in float64: the loss of every batch."""
    w, losses = W0, []
    for t, lr in enumerate(lrs):
        x, y = x_batches[t % len(x_batches)], y_batches[t % len(y_batches)]
        losses.append(np.mean((w * x - y) ** 2))
        w -= lr * np.mean(2 * (w * x - y) * x)
    return np.array(losses)


def pyimagesearch_stop_index(raw_losses, beta, stop_factor):
    """The original's loop, written out: index of the batch where it stops, or None."""
    avg, best = 0.0, 1e9
    for n, loss in enumerate(raw_losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        smooth = avg / (1 - beta**n)
        if not math.isfinite(smooth) or (n > 1 and smooth > stop_factor * best):
            return n - 1
        if n == 1 or smooth < best:
            best = smooth
    return None


def test_records_true_batch_losses_and_applies_each_lr():
    x, y = regression_batches()
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    finder = LearningRateFinder(linear_model(), stopFactor=1e9)
    finder.find(dataset, 1e-3, 1e-1, epochs=3, verbose=0, batches_per_call=5)
    lrs = geometric_lrs(1e-3, 1e-1, 12)
    np.testing.assert_allclose(finder.lrs, lrs, rtol=1e-12)
    expected = simulate(x, y, lrs)
    np.testing.assert_allclose(finder.raw_losses, expected, rtol=2e-5)
    running_mean = [np.mean(expected[4 * (t // 4): t + 1]) for t in range(12)]
    assert not np.allclose(finder.raw_losses, running_mean, rtol=0.1)
    beta = finder.beta
    avg, hand = 0.0, []
    for n, loss in enumerate(finder.raw_losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        hand.append(avg / (1 - beta**n))
    np.testing.assert_allclose(finder.losses, hand, rtol=1e-12)


def test_numpy_input_length_follows_sample_size():
    x = np.random.default_rng(0).normal(size=(100, 1)).astype(np.float32)
    finder = LearningRateFinder(linear_model(), stopFactor=1e9)
    finder.find((x, 3 * x), 1e-4, 1e-2, batchSize=32, sampleSize=10, verbose=0, seed=0)
    # 4 batches per epoch, ceil(10 / 4) = 3 epochs.
    np.testing.assert_allclose(finder.lrs, geometric_lrs(1e-4, 1e-2, 12), rtol=1e-12)
    finder.find((x, 3 * x), 1e-4, 1e-2, epochs=2, batchSize=50, verbose=0, seed=0)
    assert len(finder.lrs) == 4


def test_stops_where_the_original_rule_says():
    x, y = regression_batches()
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    finder = LearningRateFinder(linear_model(), stopFactor=4, beta=0.9)
    finder.find(dataset, 1e-3, 1e2, epochs=25, verbose=0)
    all_losses = simulate(x, y, geometric_lrs(1e-3, 1e2, 100))
    stop = pyimagesearch_stop_index(all_losses, 0.9, 4)
    assert stop is not None and len(finder.lrs) == stop + 1 < 100
    assert finder.stop_reason


def test_stops_on_nan():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, (64, 1)).astype(np.float32)
    y = 1e3 * x + rng.normal(size=(64, 1)).astype(np.float32)
    finder = LearningRateFinder(linear_model(), stopFactor=math.inf, beta=0.5)
    finder.find((x, y), 1e-2, 1e12, epochs=50, batchSize=8, verbose=0, seed=0)
    assert not math.isfinite(finder.raw_losses[-1])
    assert all(math.isfinite(v) for v in finder.raw_losses[:-1])
    assert "became" in finder.stop_reason and len(finder.lrs) < 400


def bn_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    return model


def state(model):
    return [w.copy() for w in model.get_weights()], [v.numpy().copy() for v in model.optimizer.variables]


def assert_same_state(a, b):
    for left, right in zip(a[0] + a[1], b[0] + b[1], strict=True):
        np.testing.assert_array_equal(left, right)


@pytest.fixture
def trained_bn_model():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(96, 4)).astype(np.float32), rng.integers(0, 3, 96)
    model = bn_model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    return model, (x, y)


def test_restores_weights_optimizer_and_lr(trained_bn_model):
    model, data = trained_bn_model
    before = state(model)
    assert float(model.optimizer.iterations) == 6 and float(model.optimizer.learning_rate) == pytest.approx(0.05)
    LearningRateFinder(model).find(data, 1e-4, 10.0, epochs=3, batchSize=16, verbose=0, seed=0)
    assert_same_state(before, state(model))


def test_restores_state_when_interrupted(trained_bn_model, monkeypatch):
    model, data = trained_bn_model
    before = state(model)
    calls = []
    original = lrf_module.SmoothedLoss.update

    def interrupt_on_fifth(self, loss):
        calls.append(loss)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(self, loss)

    monkeypatch.setattr(lrf_module.SmoothedLoss, "update", interrupt_on_fifth)
    finder = LearningRateFinder(model)
    with pytest.raises(KeyboardInterrupt):
        finder.find(data, 1e-4, 10.0, epochs=3, batchSize=16, verbose=0, seed=0)
    assert len(finder.lrs) == 4
    assert_same_state(before, state(model))


def test_builds_an_unbuilt_optimizer_and_leaves_it_fresh():
    keras.utils.set_random_seed(2)
    model = bn_model()
    weights = model.get_weights()
    x = np.random.default_rng(2).normal(size=(32, 4)).astype(np.float32)
    LearningRateFinder(model).find((x, np.zeros(32, int)), 1e-3, 1.0, epochs=2, batchSize=8, verbose=0)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert float(model.optimizer.iterations) == 0
    assert all(not np.any(v.numpy()) for v in model.optimizer.variables if "momentum" in v.name)


def test_rejects_bad_use():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    x = np.zeros((8, 1), np.float32)
    with pytest.raises(ValueError, match="compiled"):
        LearningRateFinder(model).find((x, x), 1e-3, 1.0, verbose=0)
    model.compile(optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)), loss="mse")
    with pytest.raises(TypeError, match="float `learning_rate`"):
        LearningRateFinder(model).find((x, x), 1e-3, 1.0, verbose=0)
    with pytest.raises(ValueError, match="startLR < endLR"):
        LearningRateFinder(linear_model()).find((x, x), 1.0, 1.0, verbose=0)
    with pytest.raises(ValueError, match="stepsPerEpoch"):
        LearningRateFinder(linear_model()).find(tf.data.Dataset.from_tensors((x, x)).repeat(), 1e-3, 1.0, verbose=0)


def test_plot_marks_the_suggestion():
    import matplotlib

    matplotlib.use("Agg")
    finder = LearningRateFinder(linear_model())
    finder.lrs = list(geometric_lrs(1e-6, 1e1, 300))
    x = np.log10(finder.lrs)
    finder.raw_losses = list(2.3 - 2.0 / (1 + np.exp(-4 * (x + 2))) + 3.0 * np.clip(x, 0, None) ** 2
                             + 0.1 * np.random.default_rng(0).standard_normal(300))
    ax = finder.plot_loss(skipBegin=10, skipEnd=1, title="t")
    lines = {line.get_label(): line for line in ax.get_lines()}
    suggestion = finder.suggest(10, 1)
    assert f"lr_min = {suggestion.lr_min:.2g}" in lines and f"lr_max = {suggestion.lr_max:.2g}" in lines
    raw, curve = lines["batch loss"], lines["smoothed training loss (the curve the suggestion reads)"]
    assert ax.get_xscale() == "log" and len(raw.get_xdata()) == len(curve.get_xdata()) == 289
    # The curve drawn is the one the rule read: the lag-free smoothing (half width 49 at beta 0.98).
    np.testing.assert_allclose(curve.get_ydata(), lag_free_losses(finder.raw_losses, 0.98)[10:299])
    assert suggestion == suggest_lr_range(finder.lrs, lag_free_losses(finder.raw_losses, 0.98), 10, 1)
    # The fall, the minimum and the rise leave no corner empty: the legend is below the axes, over no data.
    from pyimagesearch.core.plotting import legend_hides_data

    assert not legend_hides_data(ax) and ax.get_legend().get_window_extent().y1 < ax.bbox.y0
