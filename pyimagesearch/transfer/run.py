"""One transfer-learning run: SGD with momentum and a multi-step LR, history, curves and metrics.

SGD with momentum 0.9 and a multi-step schedule: during (0-based) epoch e the
LR is ``lr * gamma**(number of milestones <= e)`` (``lr_policies.multistep_lr``),
set by ``LearningRateScheduler`` when each epoch begins. A per-epoch setting
stays exact when a loss-scaling optimizer (mixed_float16) skips steps, which a
schedule on ``optimizer.iterations`` would not.

Each (mode, LR) is a run in ``<dataset folder>/<mode>_lr<lr>/`` with
config.json (written once the models are built), history.csv (written after
every epoch), curves.png and metrics.json, written last: a folder with
metrics.json is a finished run that a later sweep keeps.

Every epoch trains on its own pipeline, whose order and crops depend on
(seed, epoch) only, so a run resumed in the middle and one LR of a sweep run
alone train on the very batches of the uninterrupted sweep. A fine-tuning run
saves a checkpoint after every epoch and, killed, resumes after its last
finished epoch (``core.checkpoints``).
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

from pyimagesearch.core import peers
from pyimagesearch.core.checkpoints import RunCheckpoint
from pyimagesearch.core.cli import set_seed
from pyimagesearch.core.history import EpochHistory, read_history
from pyimagesearch.core.outputs import (
    OutputError, output_error_message, prepare_dir, remove_stale, save_figure, write_config, write_csv, write_json,
)
from pyimagesearch.core.pipeline import steps_per_epoch as steps_per_epoch_of
from pyimagesearch.core.training import DivergenceGuard, compile_classifier
from pyimagesearch.lr_policies import multistep_lr
from pyimagesearch.transfer.pipeline import make_pipeline
from pyimagesearch.transfer.features import FeatureExtractor, feature_batches
from pyimagesearch.transfer.models import BASE_NAME, ModelPool, Models, build_models
from pyimagesearch.transfer.settings import TransferSettings, run_name

HISTORY_FIELDS = ["epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
RUN_FILES = ("history.csv", "curves.png", "metrics.json", "model.weights.h5")


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


def history_recorder(path: Path, label: str, epochs: int, model, say: Callable[[str], None], rows=None,
                     after_epoch=None) -> EpochHistory:
    """The per-epoch ``EpochHistory`` of a transfer run: LR as the optimizer used it, seconds per epoch."""
    return EpochHistory(path, HISTORY_FIELDS, say, epoch_line(label, epochs), rows=rows, lr_at=optimizer_lr(model),
                        time_field="seconds", after_epoch=after_epoch)


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
              strategy=None, multiworker: bool = False, config: dict | None = None, worker=None,
              overwrite: bool = False, tensorboard: bool = False, pool: ModelPool | None = None) -> dict:
    """Train one (mode, LR) run and write config.json, history.csv, curves.png (model.weights.h5) and metrics.json.

    Fine-tuning runs under ``strategy`` (default: the current one) with
    ``settings.batch_size`` per replica; under ``MultiWorkerMirroredStrategy``
    (``multiworker``, this process being ``worker``) it trains through
    ``custom_loop.StrategyLoop``, as Keras' ``fit`` fails there, and the
    workers agree on the epoch they resume from (``overwrite``: it starts
    over). Feature extraction trains one Dense layer on the base's features
    and always runs on one device.

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
    import tensorflow as tf

    from pyimagesearch.core.custom_loop import StrategyLoop
    from pyimagesearch.core.tensorboard import LOG_DIR, tensorboard_callbacks
    from pyimagesearch.transfer.plots import plot_curves

    label = run_name(mode, lr)
    start = time.perf_counter()
    set_seed(settings.seed)
    strategy = strategy if strategy is not None and mode == "finetune" else tf.distribute.get_strategy()
    multiworker = multiworker and mode == "finetune"
    checkpoint = None
    if mode == "finetune":
        checkpoint = RunCheckpoint(run_dir, {"mode": mode, "lr": lr, **settings.as_dict(),
                                             "replicas": strategy.num_replicas_in_sync},
                                   keep=3 if multiworker else 2, required=("wall_seconds",), restart_flag="--overwrite")
        if overwrite:
            checkpoint.clear()
    with peers.watch(worker if multiworker else None):
        resume_epoch = checkpoint.find(say, strict=not multiworker) if checkpoint else 0
        if multiworker:
            resume_epoch = peers.agree_on_epoch(strategy, resume_epoch)
        state = None
        with strategy.scope():
            if resume_epoch:
                # The saved optimizer carries the momentum and the step count; compiled as a new run is.
                state, model = checkpoint.restore(keras.models.load_model, resume_epoch)
                compile_classifier(model, model.optimizer)
                models = Models(model, model.get_layer(BASE_NAME), model)
        if not resume_epoch:
            models = (pool or ModelPool()).get(mode, lr, lambda: build_models(
                image_set.num_classes, mode, lr, settings.image_size, settings.weights, settings.dtype_policy,
                base=None if extractor is None else extractor.base), strategy)
        if extractor is not None and extractor.base is None:
            extractor.base = models.base
        # Written once the models exist, so a run that cannot start leaves no config.json without results.
        prepare_dir(run_dir)
        (run_dir / "metrics.json").unlink(missing_ok=True)
        if not resume_epoch:
            if checkpoint:
                checkpoint.clear()
            remove_stale(run_dir, RUN_FILES)
            shutil.rmtree(run_dir / LOG_DIR, ignore_errors=True)
        write_config(run_dir, config or {"mode": mode, "lr": lr, "resolved": settings.as_dict()})
        batch_size = settings.batch_size * strategy.num_replicas_in_sync
        steps_per_epoch = steps_per_epoch_of(image_set.size("train"), batch_size, multiworker)
        rows = list(state["history"]) if state else []
        wall_before = state["wall_seconds"] if state else 0.0
        if state:
            say(f"{label}: resuming after epoch {state['epochs_done']} from {checkpoint.path(state['epochs_done'])}")
            write_csv(run_dir / "history.csv", rows, HISTORY_FIELDS)

        def save_state():
            checkpoint.save(models.trained, {"epochs_done": len(rows), "history": rows,
                                             "wall_seconds": wall_before + time.perf_counter() - start})

        recorder = history_recorder(run_dir / "history.csv", label, settings.epochs, models.trained, say, rows,
                                    save_state if checkpoint else None)
        guard = DivergenceGuard(reference_loss=math.log(image_set.num_classes))
        callbacks = [multistep_scheduler(lr, settings.milestones, settings.gamma), recorder, guard]
        if tensorboard:
            callbacks += tensorboard_callbacks(run_dir / LOG_DIR)
        recorder.start()
        if mode == "finetune":
            trainer = StrategyLoop(models.trained) if multiworker else models.trained
            train = lambda epoch: make_pipeline(image_set.encoded("train"), settings.image_size, batch_size,  # noqa: E731
                                                settings.augment, shuffle=True, seed=settings.seed,
                                                size=image_set.size("train"), epoch=epoch)
            val = make_pipeline(image_set.encoded("validation"), settings.image_size, batch_size)
        else:
            trainer = models.trained
            train = lambda epoch: feature_batches(*extractor.training(epoch), settings.batch_size,  # noqa: E731
                                                  shuffle_seed=settings.seed, epoch=epoch)
            val = feature_batches(*extractor.validation(), settings.batch_size)
        fit_epochs(trainer, train, val, len(rows), settings.epochs, callbacks, guard, progress and mode == "finetune")
    wall = wall_before + time.perf_counter() - start
    if guard.diverged:
        say(f"{label} stopped: {guard.reason} (the LR is too high for this run)")
    rows = read_history(run_dir / "history.csv")
    axes = plot_curves(rows, title=f"{image_set.name}: {label}", stopped=guard.reason or None)
    save_figure(axes[0].figure, run_dir / "curves.png")
    if save_weights:
        write_weights(models.model, run_dir / "model.weights.h5")
    metrics = run_metrics(rows, mode, lr, settings, wall, steps_per_epoch, image_set, guard.reason or None, extractor)
    write_json(run_dir / "metrics.json", metrics)
    if checkpoint:
        checkpoint.clear()
    say(
        f"{label} done: best val_accuracy {metrics['best_val_accuracy']:.4f} (epoch {metrics['best_epoch']}), "
        f"final {metrics['final_val_accuracy']:.4f}, {metrics['wall_seconds']:.1f} s"
    )
    return metrics


def fit_epochs(trainer, train: Callable[[int], object], val, first: int, epochs: int, callbacks, guard,
               progress: bool = False) -> None:
    """Train epochs ``first`` to ``epochs - 1``, each on ``train(epoch)``, its own pipeline; stop when ``guard`` trips.

    Fine-tuning trains on images (random crops and flips if asked), feature
    extraction on the base's features of that epoch's images.
    """
    for epoch in range(first, epochs):
        trainer.fit(train(epoch), validation_data=val, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks,
                    verbose=int(progress))
        if guard.diverged:
            break


def write_weights(model, path: Path) -> None:
    """``model.save_weights`` to a temporary file, then moved into place; removed if the write fails."""
    partial = path.with_name(".model.partial.weights.h5")  # Keras saves weights only to names ending in .weights.h5
    try:
        model.save_weights(partial)
        os.replace(partial, path)
    except OSError as error:
        # h5py does not always set errno for a full disk, so every failed write of the file ends here.
        partial.unlink(missing_ok=True)
        raise OutputError(output_error_message(path, error)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
