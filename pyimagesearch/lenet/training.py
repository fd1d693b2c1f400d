"""Training and evaluating LeNet-5 on Fashion-MNIST under one LR policy.

Every policy runs as a list of stages (one batch size each, a few epochs
each) on one model compiled once, so the epoch count and the optimizer step
continue across stages. The LR is a schedule or a constant, evaluated inside
the compiled step, so ``steps_per_execution`` can run many batches per call.
Each epoch trains on its own pipeline, shuffled by (seed, epoch)
(``pipeline.make_dataset``), so a run resumed after any epoch sees the batches
an uninterrupted run sees.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pyimagesearch.core.distribute import Distribution
from pyimagesearch.core.logging import RunLog
from pyimagesearch.lenet.settings import PolicySettings

# Files a training run writes besides config.json; stale ones from an earlier run are removed first.
RUN_FILES = ("history.csv", "log.txt", "metrics.json", "model.keras", "curves.png", "lr_trace.png",
             "loss_vs_log2_batch.png", "test_predictions.npz")
EVAL_BATCH = 1024
HISTORY_FIELDS = ["epoch", "batch_size", "steps", "iterations", "lr", "loss", "accuracy", "val_loss",
                  "val_accuracy", "time_s"]


def epoch_line(epochs: int):
    """The progress line of one history row."""
    return lambda row: (
        f"epoch {row['epoch']:3d}/{epochs}  batch {row['batch_size']:5d}  lr {row['lr']:.5g}  loss {row['loss']:.4f}  "
        f"acc {row['accuracy']:.4f}  val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  "
        f"({row['time_s']:.1f} s)")


def remove_stale_results(folder: Path) -> None:
    """Delete the result files of an earlier run in ``folder``, so none can pass for this run's."""
    from pyimagesearch.core.tensorboard import LOG_DIR

    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / LOG_DIR, ignore_errors=True)



def build_optimizer(settings: PolicySettings, momentum: float, weight_decay: float | None = None):
    """SGD with momentum; its LR is a ``CyclicalLearningRate`` (clr) or a constant.

    ``weight_decay`` is Keras' decoupled decay: every step also does
    ``w -= lr * weight_decay * w`` (L2 regularisation, as in Smith's runs).

    Returns ``(optimizer, lr_at)`` with ``lr_at(steps)`` the LR the optimizer
    uses at each of ``steps`` (an int or an array of ints), as a NumPy array.
    """
    import keras
    import numpy as np

    from pyimagesearch.clr_callback import CyclicalLearningRate

    if settings.policy == "clr":
        if settings.step_size_iterations is None:
            raise ValueError("call settings.set_train_size() before building the clr optimizer")
        schedule = CyclicalLearningRate(settings.lr_min, settings.lr_max, settings.step_size_iterations,
                                        settings.mode, settings.gamma)
        return (keras.optimizers.SGD(schedule, momentum=momentum, weight_decay=weight_decay),
                lambda steps: keras.ops.convert_to_numpy(schedule(np.asarray(steps))))
    return (keras.optimizers.SGD(settings.lr, momentum=momentum, weight_decay=weight_decay),
            lambda steps: np.full(np.shape(steps), settings.lr, dtype=np.float32))


def train(settings: PolicySettings, data, folder: Path, log: RunLog, momentum: float = 0.9,
          steps_per_execution: int = 32, seed: int = 42, weight_decay: float | None = None,
          distribution: Distribution | None = None, checkpoint=None, initial_weights=None,
          resume_epoch: int = 0, tensorboard: bool = False, epoch_data=None) -> dict[str, Any]:
    """Train LeNet-5 stage by stage through ``core.loop.train_epochs``, writing ``history.csv`` as epochs end.

    A fresh LeNet-5 starts from Keras' seeded initialisation, or from
    ``initial_weights`` (a list as ``model.get_weights()`` returns, e.g. a
    pre-trained network's) with a new optimizer.

    The model and optimizer are created in the scope of ``distribution``'s
    strategy (default: the current strategy, one process); stage batch sizes
    are global batches. With a ``checkpoints.RunCheckpoint``, the state is
    saved after every epoch; with ``resume_epoch`` > 0 (``core.loop.resume_epoch``)
    training continues from that epoch's checkpoint. ``tensorboard`` writes
    TensorBoard logs into ``folder/tensorboard`` (``core.tensorboard``), the
    LR of every optimizer step included. ``epoch_data(epoch)`` gives the
    ``(x, y)`` arrays (0-based) epoch ``epoch`` trains on (a new resampled
    draw, for example), shuffled like ``data.x_train``/``data.y_train`` are
    without it. The untrained model's validation loss is the reference of
    ``DivergenceGuard``: with ``steps_per_execution`` > 1 the first logged loss
    is already a mean over many steps.

    Returns ``{"model", "trainer", "history", "train_time_s", "lr_at", "diverged"}``;
    ``trainer`` has ``evaluate`` (the model, or the loop); ``diverged`` is "" or
    the reason ``DivergenceGuard`` stopped training (the epochs up to that point
    are in the history).
    """
    from pyimagesearch.core.history import EpochHistory
    from pyimagesearch.core.loop import train_epochs
    from pyimagesearch.core.pipeline import make_dataset
    from pyimagesearch.core.tensorboard import LOG_DIR
    from pyimagesearch.core.training import compile_classifier
    from pyimagesearch.lenet.model import build_lenet5

    distribution = distribution or Distribution.local()
    with distribution.strategy.scope():
        optimizer, lr_at = build_optimizer(settings, momentum, weight_decay)

    def model_of(restored):
        model = restored or build_lenet5()
        if restored is None and initial_weights is not None:
            model.set_weights(initial_weights)
        compile_classifier(model, model.optimizer if restored else optimizer, steps_per_execution=steps_per_execution)
        return model

    def stage_of(epoch: int):
        return next(stage for stage in settings.stages if stage.first_epoch <= epoch < stage.end_epoch)

    def train_data(epoch: int):
        arrays = epoch_data(epoch) if epoch_data else (data.x_train, data.y_train)
        return make_dataset(arrays, stage_of(epoch).batch_size, shuffle=True, seed=seed, epoch=epoch)

    def untrained_loss(trainer, val_data) -> float:
        initial = trainer.evaluate(val_data, verbose=0, return_dict=True)
        log(f"untrained: val_loss {initial['loss']:.4f}  val_acc {initial['accuracy']:.4f}")
        return float(initial["loss"])

    history = EpochHistory(folder / "history.csv", HISTORY_FIELDS, lr_at=lambda step: float(lr_at(step)),
                           columns=lambda epoch: {"batch_size": stage_of(epoch).batch_size})
    # Validation runs after every epoch on the same batches: cached once built.
    trained = train_epochs(model_of, train_data, lambda: make_dataset((data.x_val, data.y_val), EVAL_BATCH).cache(),
                           settings.stages[-1].end_epoch, history, epoch_line(settings.epochs), log,
                           reference_loss=untrained_loss, distribution=distribution, checkpoint=checkpoint,
                           resume_epoch=resume_epoch, tensorboard=folder / LOG_DIR if tensorboard else None,
                           tensorboard_lr_at=lr_at, steps_per_execution=steps_per_execution)
    return {"model": trained.model, "trainer": trained.trainer, "history": trained.history,
            "train_time_s": trained.train_seconds, "lr_at": lr_at, "diverged": trained.diverged}


def evaluate(model, data, history: list[dict], train_time_s: float) -> dict[str, Any]:
    """Test, validation and training-set scores after training, with the generalization gap.

    ``model`` is anything with Keras' ``evaluate`` (a model, or a ``StrategyLoop``).
    ``final_train_loss``/``final_train_accuracy`` are the last epoch's running
    means, as Keras reports them; ``train_accuracy`` is measured on the whole
    training split after training, with the final weights, and the
    generalization gap is ``train_accuracy - test_accuracy``.
    """
    from pyimagesearch.core.pipeline import make_dataset

    scores = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("val", data.x_val, data.y_val),
                        ("test", data.x_test, data.y_test)):
        result = model.evaluate(make_dataset((x, y), EVAL_BATCH), verbose=0, return_dict=True)
        scores[split] = {"loss": float(result["loss"]), "accuracy": float(result["accuracy"]), "images": len(x)}
    from pyimagesearch.lenet.choices import best_epoch

    last = history[-1]
    best_epoch_number, best_val_accuracy = best_epoch(history)  # validation alone picks it
    return {
        "test_accuracy": scores["test"]["accuracy"],
        "test_loss": scores["test"]["loss"],
        "final_train_loss": last["loss"],
        "final_train_accuracy": last["accuracy"],
        "val_accuracy": scores["val"]["accuracy"],
        "val_loss": scores["val"]["loss"],
        "train_accuracy": scores["train"]["accuracy"],
        "train_loss": scores["train"]["loss"],
        "generalization_gap": scores["train"]["accuracy"] - scores["test"]["accuracy"],
        "best_val_accuracy": best_val_accuracy,
        "best_val_epoch": best_epoch_number,
        "epochs": last["epoch"],
        "optimizer_steps": last["iterations"],
        "train_time_s": train_time_s,
        "train_images": scores["train"]["images"],
        "val_images": scores["val"]["images"],
        "test_images": scores["test"]["images"],
    }


TEST_PREDICTIONS = "test_predictions.npz"


def predict_test_set(model, data) -> dict[str, Any]:
    """The final model's class for every test image: ``{"label", "predicted", "correct"}`` arrays, in test-set order.

    ``correct`` is what a paired test of two models on the same test images
    (``stats.mcnemar_exact``) needs; its mean is the test accuracy.
    """
    import numpy as np

    predicted = [np.argmax(np.asarray(model(data.x_test[i:i + EVAL_BATCH], training=False)), axis=-1)
                 for i in range(0, len(data.x_test), EVAL_BATCH)]
    predicted = np.concatenate(predicted).astype(np.int8) if predicted else np.zeros(0, np.int8)
    labels = np.asarray(data.y_test).astype(np.int8)
    return {"label": labels, "predicted": predicted, "correct": predicted == labels}


def write_test_predictions(folder: Path, predictions: dict[str, Any]) -> Path:
    """Save ``predict_test_set``'s arrays as ``test_predictions.npz`` in ``folder`` (atomically)."""
    import io

    import numpy as np

    from pyimagesearch.core.outputs import write_bytes

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **predictions)
    return write_bytes(Path(folder) / TEST_PREDICTIONS, buffer.getvalue())


def read_test_correct(folder: Path):
    """The per-image correctness saved with a run, or None when the run has no ``test_predictions.npz``."""
    import numpy as np

    path = Path(folder) / TEST_PREDICTIONS
    if not path.exists():
        return None
    with np.load(path) as saved:
        return saved["correct"].astype(bool)
