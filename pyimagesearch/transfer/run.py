"""One transfer-learning run: SGD with momentum and a multi-step LR, history, curves and metrics.

SGD with momentum 0.9 and a multi-step schedule: during (0-based) epoch e the
LR is ``lr * gamma**(number of milestones <= e)`` (``lr_policies.multistep_lr``),
set by ``LearningRateScheduler`` when each epoch begins. A per-epoch setting
stays exact when a loss-scaling optimizer (mixed_float16) skips steps, which a
schedule on ``optimizer.iterations`` would not.

Each (mode, LR) is a run in ``<dataset folder>/<mode>_lr<lr>/`` with
history.csv (written after every epoch), curves.png and metrics.json, written
last: a folder with metrics.json is a finished run that a later sweep keeps.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np

from pyimagesearch.core.cli import set_seed
from pyimagesearch.core.history import EpochHistory, read_history
from pyimagesearch.core.outputs import save_figure, write_json
from pyimagesearch.core.pipeline import steps_per_epoch as steps_per_epoch_of
from pyimagesearch.core.training import DivergenceGuard
from pyimagesearch.lr_policies import multistep_lr
from pyimagesearch.transfer.pipeline import make_pipeline
from pyimagesearch.transfer.features import FeatureExtractor, feature_batches
from pyimagesearch.transfer.models import ModelPool, build_models
from pyimagesearch.transfer.settings import TransferSettings, run_name

HISTORY_FIELDS = ["epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]


def epoch_line(label: str, epochs: int):
    """The progress line of one history row."""
    return lambda row: (
        f"{label} epoch {row['epoch']}/{epochs}: lr {row['lr']}, loss {row['loss']:.4f}, "
        f"accuracy {row['accuracy']:.4f}, val_loss {row['val_loss']:.4f}, "
        f"val_accuracy {row['val_accuracy']:.4f} ({row['seconds']:.2f} s)")


def optimizer_lr(model):
    """The LR the optimizer used in the epoch, as the shortest text that gives back its float32 value.

    The scheduler sets it when the epoch begins and nothing changes it during the epoch.
    """
    return lambda step: str(np.float32(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))


def history_recorder(path: Path, label: str, epochs: int, model, say: Callable[[str], None]) -> EpochHistory:
    """The per-epoch ``EpochHistory`` of a transfer run: LR as the optimizer used it, seconds per epoch."""
    return EpochHistory(path, HISTORY_FIELDS, say, epoch_line(label, epochs), lr_at=optimizer_lr(model),
                        time_field="seconds")


def multistep_scheduler(lr: float, milestones: Sequence[int], gamma: float):
    """``LearningRateScheduler`` setting ``multistep_lr(epoch, lr, milestones, gamma)`` as each epoch begins."""
    milestones = list(milestones)
    return keras.callbacks.LearningRateScheduler(lambda epoch: multistep_lr(epoch, lr, milestones, gamma))


def run_metrics(rows: list[dict], mode: str, lr: float, settings: TransferSettings, wall_seconds: float, steps_per_epoch: int,
                image_set, diverged: str | None, extractor: FeatureExtractor | None) -> dict:
    """metrics.json of a run from its history rows (``read_history``)."""
    history = {key: [row[key] for row in rows] for key in HISTORY_FIELDS}
    val_accuracy = np.asarray(history["val_accuracy"], float)
    best = int(np.nanargmax(val_accuracy)) if np.isfinite(val_accuracy).any() else len(rows) - 1
    return {
        "mode": mode,
        "lr": lr,
        "best_val_accuracy": val_accuracy[best],
        "best_epoch": best + 1,
        "final_val_accuracy": val_accuracy[-1],
        "final_val_loss": history["val_loss"][-1],
        "final_accuracy": history["accuracy"][-1],
        "epochs": len(rows),
        "wall_seconds": round(wall_seconds, 3),
        "seconds_per_epoch": float(np.median(history["seconds"])),
        "steps_per_epoch": steps_per_epoch,
        "train_images": image_set.size("train"),
        "val_images": image_set.size("validation"),
        "feature_cache": None if extractor is None else ("once" if extractor.cached else "per epoch"),
        "feature_seconds": None if extractor is None else round(extractor.seconds, 3),
        "diverged": diverged,
        "settings": settings.as_dict(),
    }


def train_run(image_set, mode: str, lr: float, settings: TransferSettings, run_dir: Path, say: Callable[[str], None],
              extractor: FeatureExtractor | None = None, save_weights: bool = False, progress: bool = False,
              strategy=None, multiworker: bool = False, tensorboard: bool = False, pool: ModelPool | None = None) -> dict:
    """Train one (mode, LR) run and write history.csv, curves.png (model.weights.h5) and metrics.json.

    Fine-tuning runs under ``strategy`` (default: the current one) with
    ``settings.batch_size`` per replica; under ``MultiWorkerMirroredStrategy``
    (``multiworker``) it trains through ``custom_loop.StrategyLoop``, as
    Keras' ``fit`` fails there. Feature extraction trains one Dense layer on
    cached features and always runs on one device.

    Feature extraction needs the ``extractor`` whose base it trains on. A
    loss that becomes NaN/inf or exceeds 4 x ln(number of classes) (the
    loss of the zero-initialised head) stops the run early; it is still a
    finished run, with the reason in ``metrics["diverged"]``: for an LR sweep
    a too-high LR is a result, not an error.

    ``pool`` (a ``models.ModelPool``) lends the models of the sweep's
    earlier runs of this mode, restored; without it they are built anew.
    ``tensorboard`` also writes TensorBoard logs into ``run_dir/tensorboard``
    (``core.tensorboard``; the LR of every step is the epoch's LR).
    """
    from pyimagesearch.core.tensorboard import LOG_DIR, tensorboard_callbacks
    from pyimagesearch.transfer.plots import plot_curves

    label = run_name(mode, lr)
    (run_dir / "metrics.json").unlink(missing_ok=True)
    shutil.rmtree(run_dir / LOG_DIR, ignore_errors=True)
    start = time.perf_counter()
    set_seed(settings.seed)
    import tensorflow as tf

    from pyimagesearch.core.custom_loop import StrategyLoop

    strategy = strategy if strategy is not None and mode == "finetune" else tf.distribute.get_strategy()
    models = (pool or ModelPool()).get(mode, lr, lambda: build_models(
        image_set.num_classes, mode, lr, settings.image_size, settings.weights, settings.dtype_policy,
        base=None if extractor is None else extractor.base), strategy)
    if extractor is not None and extractor.base is None:
        extractor.base = models.base
    batch_size = settings.batch_size * strategy.num_replicas_in_sync
    drop_remainder = multiworker and mode == "finetune"
    steps_per_epoch = steps_per_epoch_of(image_set.size("train"), batch_size, drop_remainder)
    recorder = history_recorder(run_dir / "history.csv", label, settings.epochs, models.trained, say)
    guard = DivergenceGuard(reference_loss=math.log(image_set.num_classes))
    callbacks = [multistep_scheduler(lr, settings.milestones, settings.gamma), recorder, guard]
    if tensorboard:
        callbacks += tensorboard_callbacks(run_dir / LOG_DIR)
    recorder.start()
    if mode == "finetune":
        trainer = StrategyLoop(models.trained) if multiworker else models.trained
        fit_finetune(trainer, image_set, settings, batch_size, callbacks, progress)
    elif extractor.cached:
        fit_cached_features(models.trained, extractor, settings, callbacks)
    else:
        fit_features_per_epoch(models.trained, extractor, settings, callbacks, guard)
    wall = time.perf_counter() - start
    if guard.diverged:
        say(f"{label} stopped: {guard.reason} (the LR is too high for this run)")
    rows = read_history(run_dir / "history.csv")
    axes = plot_curves(rows, title=f"{image_set.name}: {label}", stopped=guard.reason or None)
    save_figure(axes[0].figure, run_dir / "curves.png")
    if save_weights:
        partial = run_dir / ".partial-model.weights.h5"
        models.model.save_weights(partial)
        os.replace(partial, run_dir / "model.weights.h5")
    metrics = run_metrics(rows, mode, lr, settings, wall, steps_per_epoch, image_set, guard.reason or None, extractor)
    write_json(run_dir / "metrics.json", metrics)
    say(
        f"{label} done: best val_accuracy {metrics['best_val_accuracy']:.4f} (epoch {metrics['best_epoch']}), "
        f"final {metrics['final_val_accuracy']:.4f}, {metrics['wall_seconds']:.1f} s"
    )
    return metrics


def fit_finetune(trainer, image_set, settings: TransferSettings, batch_size: int, callbacks, progress: bool) -> None:
    """Fine-tuning: the whole model trains on the image pipeline (random crops and flips if asked)."""
    train = make_pipeline(image_set.encoded("train"), settings.image_size, batch_size,
                                    settings.augment, shuffle=True, seed=settings.seed, size=image_set.size("train"))
    val = make_pipeline(image_set.encoded("validation"), settings.image_size, batch_size)
    trainer.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks, verbose=int(progress))


def fit_cached_features(head, extractor: FeatureExtractor, settings: TransferSettings, callbacks) -> None:
    """Feature extraction without augmentation: the head trains on features computed once."""
    val = feature_batches(*extractor.validation(), settings.batch_size)
    train = feature_batches(*extractor.training(), settings.batch_size, shuffle_seed=settings.seed)
    head.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks, verbose=0)


def fit_features_per_epoch(head, extractor: FeatureExtractor, settings: TransferSettings, callbacks, guard) -> None:
    """Feature extraction with augmentation: new crops, so new features, every epoch."""
    val = feature_batches(*extractor.validation(), settings.batch_size)
    for epoch in range(settings.epochs):
        train = feature_batches(*extractor.training(), settings.batch_size, shuffle_seed=settings.seed + epoch)
        head.fit(train, validation_data=val, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks, verbose=0)
        if guard.diverged:
            break
