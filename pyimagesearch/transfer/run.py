"""One transfer-learning run: SGD with momentum and a multi-step LR, history, curves and metrics.

SGD with momentum 0.9 and a multi-step schedule: during (0-based) epoch e the
LR is ``lr * gamma**(number of milestones <= e)`` (``lr_policies.multistep_lr``),
set by ``LearningRateScheduler`` when each epoch begins. A per-epoch setting
stays exact when a loss-scaling optimizer (mixed_float16) skips steps, which a
schedule on ``optimizer.iterations`` would not.

Each (mode, LR) is a run in ``<dataset folder>/<mode>_lr<lr>/``, a
``core.run.RunFolder``: config.json, history.csv (written after every
epoch), curves.png, metrics.json (``records.transfer.TransferRun``) and,
last, complete.json: a completed folder is a finished run that a later sweep
keeps. A run that cannot start (its models cannot be built) leaves no folder.

Every epoch trains on its own pipeline, whose order and crops depend on
(seed, epoch) only, so a run resumed in the middle and one LR of a sweep run
alone train on the very batches of the uninterrupted sweep. The epochs are
``core.loop.train_epochs``'s: a fine-tuning run saves a checkpoint after every
epoch and, killed, resumes after its last finished epoch. A fine-tuning run
with ``settings.bn_images`` re-estimates its BatchNorm statistics before
every evaluation (``batchnorm.BatchNormRefresh``).

The history's validation columns are the validation split's (the curves).
When the data set has a "selection" split (held out of the training split
for the choices), the final model is scored once on it and on validation,
image by image: ``selection_accuracy`` in metrics.json, and correctness.json
(``records.transfer.ImageCorrectness``) for the paired comparisons of the
summary.
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

from pyimagesearch.core.checkpoints import RunCheckpoint
from pyimagesearch.core.distribute import Distribution
from pyimagesearch.core.history import EpochHistory, read_history
from pyimagesearch.core.loop import STATE_KEYS, resume_epoch, train_epochs
from pyimagesearch.core.outputs import OutputError, output_error_message, prepare_dir, remove_stale, save_figure
from pyimagesearch.core.pipeline import steps_per_epoch as steps_per_epoch_of
from pyimagesearch.core.run import RunFolder
from pyimagesearch.core.tensorboard import LOG_DIR
from pyimagesearch.core.training import compile_classifier
from pyimagesearch.lr_policies import multistep_lr
from pyimagesearch.records.transfer import ImageCorrectness, TransferRun
from pyimagesearch.transfer.batchnorm import BatchNormRefresh
from pyimagesearch.transfer.features import FeatureExtractor, feature_batches
from pyimagesearch.transfer.models import BASE_NAME, ModelPool, Models, build_models
from pyimagesearch.transfer.pipeline import make_pipeline
from pyimagesearch.transfer.scoring import score_images
from pyimagesearch.transfer.settings import TransferSettings, run_name

RUN_KIND = "transfer-run"
HISTORY_FIELDS = ["epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
RUN_FILES = ("history.csv", "curves.png", "metrics.json", "model.weights.h5", ImageCorrectness.FILE)


def epoch_line(label: str, epochs: int):
    """The progress line of one history row."""
    return lambda row: (
        f"{label} epoch {row['epoch']}/{epochs}: lr {row['lr']}, loss {row['loss']:.4f}, "
        f"accuracy {row['accuracy']:.4f}, val_loss {row['val_loss']:.4f}, "
        f"val_accuracy {row['val_accuracy']:.4f} ({row['seconds']:.2f} s)")


def history_recorder(path: Path, rows: list[dict] | None = None) -> EpochHistory:
    """The ``EpochHistory`` of a transfer run: the LR as the optimizer used it in the epoch, seconds per epoch.

    The scheduler sets the LR when the epoch begins and nothing changes it
    during the epoch, so the optimizer's LR as the epoch ends is the epoch's.
    """
    return EpochHistory(path, HISTORY_FIELDS, rows=rows, time_field="seconds")


def multistep_scheduler(lr: float, milestones: Sequence[int], gamma: float):
    """``LearningRateScheduler`` setting ``multistep_lr(epoch, lr, milestones, gamma)`` as each epoch begins."""
    milestones = list(milestones)
    return keras.callbacks.LearningRateScheduler(lambda epoch: multistep_lr(epoch, lr, milestones, gamma))


def _value(number) -> float | None:
    """A history value as a record holds it: a float, or None where a diverged epoch left NaN."""
    number = float(number)
    return number if math.isfinite(number) else None


def run_record(rows: list[dict], mode: str, lr: float, settings: TransferSettings, wall_seconds: float,
               steps_per_epoch: int, image_set, diverged: str | None,
               extractor: FeatureExtractor | None, correctness: ImageCorrectness | None = None) -> TransferRun:
    """The ``TransferRun`` record (metrics.json) of a run from its history rows (``read_history``)."""
    selection = correctness.correct("selection") if correctness is not None else None
    history = {key: [row[key] for row in rows] for key in HISTORY_FIELDS}
    val_accuracy = np.asarray(history["val_accuracy"], float)
    best = int(np.nanargmax(val_accuracy)) if np.isfinite(val_accuracy).any() else len(rows) - 1
    return TransferRun(
        mode=mode,
        lr=lr,
        best_val_accuracy=_value(val_accuracy[best]),
        best_epoch=best + 1,
        final_val_accuracy=_value(val_accuracy[-1]),
        final_val_loss=_value(history["val_loss"][-1]),
        final_accuracy=_value(history["accuracy"][-1]),
        epochs=len(rows),
        wall_seconds=round(wall_seconds, 3),
        seconds_per_epoch=_value(np.median(history["seconds"])),
        steps_per_epoch=steps_per_epoch,
        train_images=image_set.size("train"),
        val_images=image_set.size("validation"),
        feature_cache=None if extractor is None else ("once" if extractor.cached else "per epoch"),
        feature_seconds=None if extractor is None else round(extractor.seconds, 3),
        diverged=diverged,
        settings=settings.as_dict(),
        selection_accuracy=None if selection is None else float(selection.mean()),
        selection_images=image_set.size("selection") if "selection" in image_set.labels else 0,
    )


def run_settings(mode: str, lr: float, settings: TransferSettings, distribution: Distribution) -> dict:
    """What determines a run's results, as its ``RunFolder`` compares them: mode, LR, settings, replicas."""
    return {"mode": mode, "lr": lr, "resolved": settings.as_dict(), "replicas": distribution.replicas}


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.4f}"


def train_run(image_set, mode: str, lr: float, settings: TransferSettings, run_dir: Path, say: Callable[[str], None],
              extractor: FeatureExtractor | None = None, save_weights: bool = False, progress: bool = False,
              distribution: Distribution | None = None, config: dict | None = None, overwrite: bool = False,
              tensorboard: bool = False, pool: ModelPool | None = None) -> dict:
    """Train one (mode, LR) run in ``run_dir`` and write config.json, history.csv, curves.png
    (model.weights.h5), metrics.json (``records.transfer.TransferRun``) and, last, complete.json.

    The run folder is a ``core.run.RunFolder``: locked while the run
    trains, seeded with ``settings.seed``, refused when it holds a run of
    other settings (``overwrite`` empties it first); an unfinished run of the
    same settings resumes. Fine-tuning runs under ``distribution`` (default:
    the current strategy, one process) with ``settings.batch_size`` per
    replica, saving a checkpoint after every epoch; the workers of a cluster
    agree on the epoch they resume from. Feature extraction trains one Dense
    layer on the base's features and always runs on one device. The epochs
    are ``core.loop.train_epochs``'s.

    Feature extraction needs the ``extractor`` whose base it trains on. A
    loss that becomes NaN/inf or exceeds 4 x ln(number of classes) (the
    loss of the zero-initialised head) stops the run early; it is still a
    finished run, with the reason in ``metrics["diverged"]``, listed by the
    summary and never ranked.

    ``pool`` (a ``models.ModelPool``) lends the models of the sweep's
    earlier runs of this mode, restored; without it they are built anew.
    ``tensorboard`` also writes TensorBoard logs into ``run_dir/tensorboard``
    (``core.tensorboard``; the LR of every step is the epoch's LR).
    Returns the run's metrics as metrics.json holds them.
    """
    started = time.perf_counter()
    distribution = distribution or Distribution.local()
    if mode != "finetune":
        distribution = distribution.on_one_device()
    run_dir = Path(run_dir)
    fresh, built = not run_dir.exists(), []
    try:
        with RunFolder(run_dir, RUN_KIND, run_settings(mode, lr, settings, distribution), overwrite=overwrite,
                       seed=settings.seed, tensorflow=True, config=config) as run:
            if run.finished:
                say(f"{run_dir.name} finished earlier; kept, --overwrite runs it again")
                return TransferRun.read(run_dir).to_json()
            prepare_dir(run_dir)
            record = _train(image_set, mode, lr, settings, run_dir, say, extractor=extractor, save_weights=save_weights,
                            progress=progress, distribution=distribution, tensorboard=tensorboard, pool=pool,
                            built=built, started=started)
            run.complete(summary={"best_val_accuracy": record.best_val_accuracy,
                                  "final_val_accuracy": record.final_val_accuracy, "diverged": record.diverged})
    except BaseException:
        if fresh and not built:
            shutil.rmtree(run_dir, ignore_errors=True)  # the run could not start: no folder that describes nothing
        raise
    return record.to_json()


def _train(image_set, mode: str, lr: float, settings: TransferSettings, run_dir: Path, say: Callable[[str], None], *,
           extractor: FeatureExtractor | None, save_weights: bool, progress: bool, distribution: Distribution,
           tensorboard: bool, pool: ModelPool | None, built: list, started: float) -> TransferRun:
    """``train_run`` inside its ``RunFolder``: resume or start, train the epochs, write the results.

    ``built`` receives the run's ``Models`` once they exist (restored or built).
    """
    from pyimagesearch.transfer.plots import plot_curves

    label = run_name(mode, lr)
    checkpoint = None
    if mode == "finetune":
        checkpoint = RunCheckpoint(run_dir, {"mode": mode, "lr": lr, **settings.as_dict(),
                                             "replicas": distribution.replicas},
                                   keep=3 if distribution.multiworker else 2, required=STATE_KEYS,
                                   restart_flag="--overwrite")
    batch_size = settings.batch_size * distribution.replicas

    def model_of(restored):
        if restored is not None:
            compile_classifier(restored, restored.optimizer)  # compiled as a new run is
            models = Models(restored, restored.get_layer(BASE_NAME), restored)
        else:
            models = (pool or ModelPool()).get(mode, lr, lambda: build_models(
                image_set.num_classes, mode, lr, settings.image_size, settings.weights, settings.dtype_policy,
                base=None if extractor is None else extractor.base), distribution.strategy)
        if extractor is not None and extractor.base is None:
            extractor.base = models.base
        built.append(models)
        return models.trained

    if mode == "finetune":
        def train(epoch):
            return make_pipeline(image_set.encoded("train"), settings.image_size, batch_size, settings.augment,
                                 shuffle=True, seed=settings.seed, size=image_set.size("train"), epoch=epoch)

        def validation():
            return make_pipeline(image_set.encoded("validation"), settings.image_size, batch_size)

        def refresh_batches():
            batches = -(-min(settings.bn_images, image_set.size("train")) // batch_size)
            return make_pipeline(image_set.encoded("train"), settings.image_size, batch_size).take(batches)
    else:
        def train(epoch):
            return feature_batches(*extractor.training(epoch), settings.batch_size, shuffle_seed=settings.seed,
                                   epoch=epoch)

        def validation():
            return feature_batches(*extractor.validation(), settings.batch_size)

    with distribution.watch():
        resumed = resume_epoch(checkpoint, distribution, say)
        (run_dir / "metrics.json").unlink(missing_ok=True)  # this run's own, left by a process killed as it finished
        if not resumed:
            if checkpoint:
                checkpoint.clear()
            remove_stale(run_dir, RUN_FILES)
            shutil.rmtree(run_dir / LOG_DIR, ignore_errors=True)
        trained = train_epochs(
            model_of, train, validation, settings.epochs, history_recorder(run_dir / "history.csv"),
            epoch_line(label, settings.epochs), say,
            reference_loss=lambda trainer, val: math.log(image_set.num_classes),
            distribution=distribution, checkpoint=checkpoint, resume_epoch=resumed,
            callbacks=[multistep_scheduler(lr, settings.milestones, settings.gamma),
                       *([BatchNormRefresh(refresh_batches)] if mode == "finetune" and settings.bn_images else [])],
            tensorboard=run_dir / LOG_DIR if tensorboard else None, verbose=int(progress and mode == "finetune"),
            label=label, started=started)
    if trained.diverged:
        say(f"{label} stopped in epoch {len(trained.history)}: {trained.diverged}; kept as a diverged run, listed and "
            "never ranked")
    rows = read_history(run_dir / "history.csv")
    axes = plot_curves(rows, title=f"{image_set.name}: {label}", stopped=trained.diverged or None)
    save_figure(axes[0].figure, run_dir / "curves.png")
    if save_weights:
        write_weights(built[-1].model, run_dir / "model.weights.h5")
    steps_per_epoch = steps_per_epoch_of(image_set.size("train"), batch_size, distribution.multiworker)
    correctness = None
    if "selection" in image_set.labels and not trained.diverged:
        correctness = score_images(image_set, mode, built[-1], settings, batch_size, extractor)
        correctness.write(run_dir)
    record = run_record(rows, mode, lr, settings, trained.wall_seconds, steps_per_epoch, image_set,
                        trained.diverged or None, extractor, correctness)
    record.write(run_dir)
    if checkpoint:
        checkpoint.clear()
    selection = f", selection {_shown(record.selection_accuracy)}" if record.selection_images else ""
    say(f"{label} done: best val_accuracy {_shown(record.best_val_accuracy)} (epoch {record.best_epoch}), "
        f"final {_shown(record.final_val_accuracy)}{selection}, {record.wall_seconds:.1f} s")
    return record


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
