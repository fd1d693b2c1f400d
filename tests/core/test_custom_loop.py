"""The multi-worker loop logs the loss it trains on, regularisation included, as Keras' fit does."""

import keras
import numpy as np
import pytest

from pyimagesearch.core.custom_loop import StrategyLoop
from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.core.training import compile_classifier


def regularised_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, activation="softmax", kernel_regularizer=keras.regularizers.L2(0.5))])
    compile_classifier(model, keras.optimizers.SGD(0.1))
    return model


def test_the_loop_logs_and_trains_on_the_regularised_loss_like_fit():
    x = np.random.default_rng(0).normal(size=(96, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    data = make_dataset((x, y), 32)
    by_fit, by_loop = regularised_model(), regularised_model()
    fit_losses = by_fit.fit(data, epochs=3, verbose=0).history["loss"]
    loop_losses = StrategyLoop(by_loop, 2).fit(data, epochs=3).history["loss"]
    np.testing.assert_allclose(loop_losses, fit_losses, rtol=1e-6)
    for a, b in zip(by_loop.get_weights(), by_fit.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    penalty = 0.5 * np.sum(by_loop.get_weights()[0] ** 2)
    assert penalty > 0.05  # the regularisation is a visible share of the logged loss
    evaluated = StrategyLoop(by_loop, 2).evaluate(data, return_dict=True)["loss"]
    assert evaluated == pytest.approx(by_loop.evaluate(data, verbose=0, return_dict=True)["loss"], rel=1e-6)
