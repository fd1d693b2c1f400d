"""ResNet50 transfer learning: fine-tuning or feature extraction, multi-step LR, runs and their summary.

A new ``Dense`` layer of the target's class count goes on top of
``keras.applications.ResNet50(include_top=False, pooling="avg")``. Two modes
(keras.io guide "Transfer learning & fine-tuning"):

- ``finetune``: every layer trains with one learning rate; BatchNormalization
  runs in training mode.
- ``feature`` (feature extractor): the base is frozen (``trainable = False``,
  called with ``training=False`` so BatchNormalization keeps its moving
  statistics) and only the new layer trains. A frozen base is a fixed
  function, so its pooled features are computed outside the training loop:
  once and cached for every epoch and every LR of a sweep when there is no
  augmentation, once per epoch (from new random crops) with augmentation. The
  new layer then trains on those features, which gives the same gradients as
  training the whole frozen model, without a pass through the base for every
  batch.

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
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Sequence

import keras
import numpy as np

from pyimagesearch.transfer import data as decathlon
from pyimagesearch.core.cli import UserError, set_seed
from pyimagesearch.lr_policies import default_milestones, multistep_lr
from pyimagesearch.core.outputs import prepare_dir, read_csv, read_json, save_figure, write_config, write_csv, write_json, write_text
from pyimagesearch.core.training import DivergenceGuard, compile_classifier

MODES = ("finetune", "feature")
# The learning rates the task compares: all layers fine-tuned, and only the new last layer trained.
TASK_LRS = {"finetune": (0.1, 0.01, 0.001), "feature": (1.0, 0.1, 0.01, 0.001)}
MOMENTUM = 0.9
HEAD_NAME = "classifier"
IMAGENET_NOTOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
IMAGENET_NOTOP_MD5 = "4d473c1dd8becc155b73f8504c6f6626"
HISTORY_FIELDS = ["epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]


def run_name(mode: str, lr: float) -> str:
    """Folder of one run: ``finetune_lr0.001``, ``feature_lr1e-05``."""
    return f"{mode}_lr{lr:g}"


# --------------------------------------------------------------------------- settings

def resolve_milestones(epochs: int, milestones: Sequence[int] | None = None) -> list[int]:
    """The epochs at which the LR drops, checked against ``epochs``.

    Without ``milestones``: ``default_milestones(epochs)`` (1/4, 1/2 and 3/4 of
    the epochs), keeping only distinct values in 1..epochs-1, so fewer than
    three drops when ``epochs`` < 4. Given milestones must be strictly
    increasing and inside 1..epochs-1 (a drop at epoch 0 or at or after the
    last epoch would never shape the training).
    """
    if milestones is None:
        return sorted({m for m in default_milestones(epochs) if 1 <= m <= epochs - 1})
    milestones = list(milestones)
    outside = [m for m in milestones if not 1 <= m <= epochs - 1]
    if outside:
        raise UserError(
            f"--milestones {outside[0]} is outside the epochs: each milestone must be between 1 and "
            f"epochs - 1 = {epochs - 1} (the 0-based epoch at which the LR drops)"
        )
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise UserError(f"--milestones {','.join(map(str, milestones))} must be strictly increasing")
    return milestones


def check_weights(weights: str) -> str:
    """``"imagenet"``, ``"none"`` or the absolute path of an existing weights file."""
    if weights in ("imagenet", "none"):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UserError(f"weights file {path} does not exist; pass a ResNet50 notop weights file, imagenet or none to --weights")
    return str(path.resolve())


def dtype_policy_name(mixed_precision: bool) -> str:
    """``float32``, or with mixed precision ``mixed_float16`` on a GPU and ``mixed_bfloat16`` on a CPU.

    CPUs have no fast float16 arithmetic; bfloat16 keeps float32's exponent
    range, so it also needs no loss scaling.
    """
    if not mixed_precision:
        return "float32"
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextmanager
def dtype_policy(name: str):
    """Build layers under the Keras dtype policy ``name``, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@dataclass(frozen=True)
class Settings:
    """Everything besides mode and LR that defines a run; a kept run must match it."""

    data: str
    epochs: int
    milestones: tuple[int, ...]
    gamma: float
    batch_size: int
    image_size: int
    augment: str
    weights: str
    dtype_policy: str
    seed: int

    def as_dict(self) -> dict:
        return {**asdict(self), "milestones": list(self.milestones)}


# --------------------------------------------------------------------------- models

def load_base(image_size: int, weights: str = "imagenet"):
    """``ResNet50(include_top=False, pooling="avg")`` for ``image_size`` inputs.

    ``weights``: "imagenet" (Keras' download cache, else a download), "none"
    (random) or a weights file. Failures a user can fix become ``UserError``.
    """
    source = None if weights == "none" else weights
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a mismatched file warns once per layer before it fails
            return keras.applications.ResNet50(
                include_top=False, weights=source, input_shape=(image_size, image_size, 3), pooling="avg"
            )
    except Exception as error:  # Keras raises a bare Exception for a failed download
        if weights == "imagenet":
            cache = Path(os.environ.get("KERAS_HOME", "~/.keras")) / "models"
            raise UserError(
                f"the ImageNet weights of ResNet50 could not be loaded or downloaded ({decathlon.error_reason(error)}); without "
                f"internet, copy {IMAGENET_NOTOP_FILE} (md5 {IMAGENET_NOTOP_MD5}) into {cache} or pass "
                "--weights PATH to it (or --weights none for random weights)"
            ) from None
        if source is not None:
            raise UserError(
                f"weights file {weights} does not fit ResNet50 without its top layers ({decathlon.error_reason(error)}); pass "
                f"{IMAGENET_NOTOP_FILE} or a .weights.h5 file saved from "
                "keras.applications.ResNet50(include_top=False)"
            ) from None
        raise


class Models(NamedTuple):
    """The models of one run.

    ``model``: image -> class probabilities (base + head). ``base``: ResNet50
    without top. ``trainable``: the compiled model ``fit`` trains: ``model``
    when fine-tuning, the head alone on pooled features for feature extraction.
    """

    model: keras.Model
    base: keras.Model
    trainable: keras.Model


def build_models(num_classes: int, mode: str, lr: float, image_size: int, weights: str = "imagenet",
                 dtype_policy_name: str = "float32", base=None) -> Models:
    """Create the models and their SGD optimizer and compile them.

    The only function that creates models or optimizers, so that a
    ``tf.distribute`` strategy scope can wrap it. ``base`` reuses a (frozen)
    base across the runs of a feature-extraction sweep, so every run's head
    sees the very features that were cached. The
    head starts at zero, as in Big Transfer (Kolesnikov et al. 2020, section
    3.3): its first predictions are uniform, so the first loss is ln(number of
    classes) whatever the scale of the features, the reference of the
    divergence guard. It computes in float32 under mixed precision, so its
    softmax is not rounded to 16 bits.
    """
    if mode not in MODES:
        raise ValueError(f"Argument `mode` must be one of {MODES}. Received: mode={mode!r}")
    with dtype_policy(dtype_policy_name):
        base = base if base is not None else load_base(image_size, weights)
        head = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer="zeros", dtype="float32",
                                  name=HEAD_NAME)
        images = keras.Input((image_size, image_size, 3), name="image")
        if mode == "feature":
            base.trainable = False
            model = keras.Model(images, head(base(images, training=False)), name="resnet50_feature")
            features = keras.Input((base.output_shape[-1],), name="features")
            trainable = keras.Model(features, head(features), name="head")
        else:
            base.trainable = True
            model = trainable = keras.Model(images, head(base(images)), name="resnet50_finetune")
        compile_classifier(trainable, keras.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM))
    return Models(model, base, trainable)


# --------------------------------------------------------------------------- feature extraction

def feature_batches(features: np.ndarray, labels: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """``tf.data`` batches of (features, labels), reshuffled every epoch when ``shuffle_seed`` is given."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(features), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


class FeatureExtractor:
    """A frozen base and the pooled features it gives for the two splits of a data set.

    ``base`` is set by the first feature-extraction run, which builds it, and
    shared by the later ones. Validation images are never augmented, so their
    features are computed once. Training features are computed once when
    ``augment`` is "none" and anew at every ``training()`` call otherwise (the
    pipeline draws new crops each time it is iterated). ``seconds`` adds up
    the time the base spent.
    """

    def __init__(self, image_set, image_size: int, batch_size: int, augment: str, seed: int, progress: bool = False):
        self.base = None
        self.image_set = image_set
        self.cached = augment == "none"
        self.progress = progress
        self.seconds = 0.0
        self._cache: dict[str, np.ndarray] = {}
        self._pipelines = {
            "train": decathlon.make_pipeline(image_set.encoded("train"), image_size, batch_size, augment, seed=seed),
            "validation": decathlon.make_pipeline(image_set.encoded("validation"), image_size, batch_size),
        }

    def _compute(self, split: str) -> np.ndarray:
        start = time.perf_counter()
        images = self._pipelines[split].map(lambda x, y: x)
        features = np.asarray(self.base.predict(images, verbose=int(self.progress)), dtype=np.float32)
        self.seconds += time.perf_counter() - start
        if len(features) != self.image_set.size(split):
            raise RuntimeError(f"{len(features)} features for {self.image_set.size(split)} {split} images")
        return features

    def _features(self, split: str, reuse: bool) -> tuple[np.ndarray, np.ndarray]:
        if not reuse:
            return self._compute(split), self.image_set.labels[split]
        if split not in self._cache:
            self._cache[split] = self._compute(split)
        return self._cache[split], self.image_set.labels[split]

    def training(self) -> tuple[np.ndarray, np.ndarray]:
        return self._features("train", reuse=self.cached)

    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        return self._features("validation", reuse=True)


# --------------------------------------------------------------------------- one run

class EpochHistory(keras.callbacks.Callback):
    """One row per epoch: the LR the optimizer used, losses, accuracies, seconds.

    The LR is read from the optimizer at the end of the epoch (the scheduler
    sets it when the epoch begins and nothing changes it during the epoch) and
    written as the shortest text that gives back its float32 value. The whole
    history.csv is rewritten after every epoch, so an interrupted run keeps the
    epochs it finished. Seconds count from ``start()`` or the previous epoch's
    end, so per-epoch feature extraction is included.
    """

    def __init__(self, path: Path, epochs: int, say: Callable[[str], None], label: str):
        super().__init__()
        self.path, self.epochs, self.say, self.label = Path(path), epochs, say, label
        self.rows: list[dict] = []
        self.clock = time.perf_counter()

    def start(self) -> None:
        self.clock = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        now = time.perf_counter()
        lr = np.float32(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch + 1, "lr": str(lr), "seconds": round(now - self.clock, 3)}
        row.update({key: float(logs[key]) for key in HISTORY_FIELDS if key in logs})
        self.clock = now
        self.rows.append(row)
        write_csv(self.path, self.rows, HISTORY_FIELDS)
        self.say(
            f"{self.label} epoch {epoch + 1}/{self.epochs}: lr {row['lr']}, loss {row.get('loss', math.nan):.4f}, "
            f"accuracy {row.get('accuracy', math.nan):.4f}, val_loss {row.get('val_loss', math.nan):.4f}, "
            f"val_accuracy {row.get('val_accuracy', math.nan):.4f} ({row['seconds']:.2f} s)"
        )


def multistep_scheduler(lr: float, milestones: Sequence[int], gamma: float):
    """``LearningRateScheduler`` setting ``multistep_lr(epoch, lr, milestones, gamma)`` as each epoch begins."""
    milestones = list(milestones)
    return keras.callbacks.LearningRateScheduler(lambda epoch: multistep_lr(epoch, lr, milestones, gamma))


def history_columns(rows: list[dict]) -> dict[str, list]:
    """Rows of history.csv (as read back) to columns of floats."""
    return {key: [float(row[key]) if row.get(key) not in (None, "") else math.nan for row in rows] for key in HISTORY_FIELDS}


def run_metrics(rows: list[dict], mode: str, lr: float, settings: Settings, wall_seconds: float, steps_per_epoch: int,
                image_set, diverged: str | None, extractor: FeatureExtractor | None) -> dict:
    """metrics.json of a run from its history rows."""
    history = history_columns(rows)
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


def train_run(image_set, mode: str, lr: float, settings: Settings, run_dir: Path, say: Callable[[str], None],
              extractor: FeatureExtractor | None = None, save_weights: bool = False, progress: bool = False,
              strategy=None, multiworker: bool = False) -> dict:
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
    """
    from pyimagesearch.transfer.plots import plot_curves

    label = run_name(mode, lr)
    (run_dir / "metrics.json").unlink(missing_ok=True)
    start = time.perf_counter()
    set_seed(settings.seed)
    import tensorflow as tf

    from pyimagesearch.core.custom_loop import StrategyLoop

    strategy = strategy if strategy is not None and mode == "finetune" else tf.distribute.get_strategy()
    with strategy.scope():
        models = build_models(image_set.num_classes, mode, lr, settings.image_size, settings.weights,
                              settings.dtype_policy, base=None if extractor is None else extractor.base)
    trainer = StrategyLoop(models.trainable) if multiworker and mode == "finetune" else models.trainable
    batch_size = settings.batch_size * strategy.num_replicas_in_sync
    if extractor is not None and extractor.base is None:
        extractor.base = models.base
    steps_per_epoch = math.ceil(image_set.size("train") / batch_size)
    recorder = EpochHistory(run_dir / "history.csv", settings.epochs, say, label)
    guard = DivergenceGuard(reference_loss=math.log(image_set.num_classes))
    callbacks = [multistep_scheduler(lr, settings.milestones, settings.gamma), recorder, guard]
    if mode == "finetune":
        train = decathlon.make_pipeline(image_set.encoded("train"), settings.image_size, batch_size,
                                        settings.augment, shuffle=True, seed=settings.seed, size=image_set.size("train"))
        val = decathlon.make_pipeline(image_set.encoded("validation"), settings.image_size, batch_size)
        recorder.start()
        trainer.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks, verbose=int(progress))
    else:
        val = feature_batches(*extractor.validation(), settings.batch_size)
        if extractor.cached:
            train = feature_batches(*extractor.training(), settings.batch_size, shuffle_seed=settings.seed)
            recorder.start()
            models.trainable.fit(train, validation_data=val, epochs=settings.epochs, callbacks=callbacks, verbose=0)
        else:
            recorder.start()
            for epoch in range(settings.epochs):
                train = feature_batches(*extractor.training(), settings.batch_size, shuffle_seed=settings.seed + epoch)
                models.trainable.fit(train, validation_data=val, initial_epoch=epoch, epochs=epoch + 1,
                                     callbacks=callbacks, verbose=0)
                if guard.diverged:
                    break
    wall = time.perf_counter() - start
    if guard.diverged:
        say(f"{label} stopped: {guard.reason} (the LR is too high for this run)")
    history = history_columns(read_csv(run_dir / "history.csv"))
    axes = plot_curves(history, title=f"{image_set.name}: {label}")
    save_figure(axes[0].figure, run_dir / "curves.png")
    if save_weights:
        partial = run_dir / ".partial-model.weights.h5"
        models.model.save_weights(partial)
        os.replace(partial, run_dir / "model.weights.h5")
    metrics = run_metrics(read_csv(run_dir / "history.csv"), mode, lr, settings, wall, steps_per_epoch, image_set,
                          guard.reason or None, extractor)
    write_json(run_dir / "metrics.json", metrics)
    say(
        f"{label} done: best val_accuracy {metrics['best_val_accuracy']:.4f} (epoch {metrics['best_epoch']}), "
        f"final {metrics['final_val_accuracy']:.4f}, {metrics['wall_seconds']:.1f} s"
    )
    return metrics


# --------------------------------------------------------------------------- a sweep

def finished_run(run_dir: Path, settings: Settings) -> dict | None:
    """The metrics of a finished run in ``run_dir`` made with ``settings``, or None if unfinished.

    A finished run made with other settings raises ``UserError``: keeping it
    would mix different experiments in one summary.
    """
    path = Path(run_dir) / "metrics.json"
    if not path.exists():
        return None
    metrics = read_json(path, "metrics file")
    kept = metrics.get("settings", {})
    differences = [f"{key} {kept.get(key)!r} vs {value!r}" for key, value in settings.as_dict().items() if kept.get(key) != value]
    if differences:
        raise UserError(
            f"{run_dir} holds a finished run made with other settings ({'; '.join(differences)}); "
            "pass --overwrite to replace it or --output to train elsewhere"
        )
    return metrics


def sweep(image_set, modes: Sequence[str], lrs: Sequence[float] | Mapping[str, Sequence[float]], settings: Settings,
          folder: Path,
          say: Callable[[str], None], config: dict, overwrite: bool = False, save_weights: bool = False,
          progress: bool = False, strategy=None, multiworker: bool = False) -> list[dict]:
    """Train every (mode, LR) run not yet finished; return the metrics of all of them.

    ``lrs`` is one list for every mode, or a list per mode.

    Finished runs are checked first (``finished_run``), so a mismatch stops
    the sweep before any training. Feature-extraction runs share one frozen
    base and its cached features.
    """
    lrs_of = lrs if isinstance(lrs, Mapping) else {mode: lrs for mode in modes}
    runs = [(mode, lr, Path(folder) / run_name(mode, lr)) for mode in modes for lr in lrs_of[mode]]
    kept = {} if overwrite else {run_dir.name: finished_run(run_dir, settings) for _, _, run_dir in runs}
    results, extractor = [], None
    for mode, lr, run_dir in runs:
        if kept.get(run_dir.name):
            metrics = kept[run_dir.name]
            say(f"{run_dir.name} finished earlier (final val accuracy {_pct(metrics['final_val_accuracy'])}); "
                "kept, --overwrite runs it again")
            results.append(metrics)
            continue
        prepare_dir(run_dir)
        write_config(run_dir, {**config, "mode": mode, "lr": lr, "resolved": settings.as_dict()})
        if mode == "feature" and extractor is None:
            extractor = FeatureExtractor(image_set, settings.image_size, settings.batch_size, settings.augment,
                                         settings.seed, progress)
        say(f"{run_dir.name}: training {settings.epochs} epochs on {image_set.size('train'):,} images")
        results.append(train_run(image_set, mode, lr, settings, run_dir, say, extractor if mode == "feature" else None,
                                 save_weights, progress, strategy=strategy, multiworker=multiworker))
    return results


# --------------------------------------------------------------------------- describing the data set

def write_description(image_set, folder: Path, say: Callable[[str], None]) -> dict:
    """Write dataset.json, class_distribution.png and samples.png into ``folder``."""
    from pyimagesearch.transfer.plots import plot_class_distribution, plot_samples

    description = {"name": image_set.name, "origin": image_set.origin, "evaluation_split": "validation",
                   **decathlon.describe_labels(image_set.labels, image_set.class_names)}
    images, labels = decathlon.sample_images(image_set)
    description["samples"] = [image_set.class_names[label] for label in labels]
    write_json(folder / "dataset.json", description)
    counts = {split: info["counts"] for split, info in description["splits"].items()}
    ax = plot_class_distribution(counts, image_set.class_names, title=f"{image_set.name}: images per class")
    save_figure(ax.figure, folder / "class_distribution.png")
    axes = plot_samples(images, [f"class {image_set.class_names[label]}" for label in labels])
    save_figure(axes[0].figure, folder / "samples.png")
    parts = []
    for split, info in description["splits"].items():
        per_class = info["images_per_class"]
        parts.append(f"{split} {info['images']:,} images "
                     f"({per_class['min']}/{per_class['median']:g}/{per_class['max']} per class, min/median/max)")
    say(f"{image_set.name} ({image_set.origin}): {image_set.num_classes} classes; " + "; ".join(parts))
    return description


# --------------------------------------------------------------------------- summary

MODE_NAMES = {"finetune": "fine-tuning", "feature": "feature extraction"}


def load_finished_runs(folder: Path) -> list[dict]:
    """metrics.json of every run folder in ``folder``, ordered by mode and LR."""
    runs = [read_json(path, "metrics file") for path in sorted(Path(folder).glob("*/metrics.json"))]
    return sorted(runs, key=lambda m: (m["mode"], m["lr"]))


def _score(metrics: dict) -> tuple[float, float]:
    final = metrics.get("final_val_accuracy")
    best = metrics.get("best_val_accuracy")
    return (-math.inf if final is None else final, -math.inf if best is None else best)


def best_runs(runs: Sequence[dict]) -> dict[str, dict]:
    """Per mode, the run with the highest final validation accuracy.

    Ties go to the highest best accuracy, then to the first run in ``runs``.
    """
    best = {}
    for metrics in runs:
        mode = metrics["mode"]
        if mode not in best or _score(metrics) > _score(best[mode]):
            best[mode] = metrics
    return best


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def comparison(runs: Sequence[dict]) -> str:
    """A paragraph comparing fine-tuning with feature extraction, computed from the runs' numbers."""
    best = best_runs(runs)
    if set(best) != set(MODES):
        present, missing = next(iter(best)), next(m for m in MODES if m not in best)
        return f"Only {MODE_NAMES[present]} runs are finished; train with --mode {missing} as well to compare the two."
    ft, fe = best["finetune"], best["feature"]
    gap = 100 * (_score(ft)[0] - _score(fe)[0])
    if abs(gap) < 0.05:
        verdict = "the two end level"
    else:
        verdict = f"{'fine-tuning' if gap > 0 else 'feature extraction'} is ahead by {abs(gap):.1f} points"
    ratio = ft["wall_seconds"] / fe["wall_seconds"] if fe["wall_seconds"] else math.inf
    text = (
        f"Fine-tuning's best run (lr {ft['lr']:g}) ends at {_pct(ft['final_val_accuracy'])} validation accuracy and "
        f"feature extraction's best (lr {fe['lr']:g}) at {_pct(fe['final_val_accuracy'])}: {verdict}. "
        f"A fine-tuning run took {ft['wall_seconds']:.1f} s against {fe['wall_seconds']:.1f} s "
        f"({ratio:.1f} times as long), {ft['seconds_per_epoch']:.2f} s against {fe['seconds_per_epoch']:.3f} s per epoch."
    )
    spans = {}
    for mode in MODES:
        finals = [m["final_val_accuracy"] for m in runs if m["mode"] == mode and m.get("final_val_accuracy") is not None]
        if len(finals) >= 2:
            spans[mode] = (min(finals), max(finals), len(finals))
    if len(spans) == 2:
        width = {mode: hi - lo for mode, (lo, hi, _) in spans.items()}
        sensitive = max(width, key=width.get)
        described = [f"{MODE_NAMES[m]}'s from {_pct(lo)} to {_pct(hi)} over {n} LRs" for m, (lo, hi, n) in spans.items()]
        text += (
            f" Across the learning rates tried, final accuracy ranges {described[0]} and {described[1]}, so "
            f"{MODE_NAMES[sensitive]} depends more on the learning rate."
        )
    return text


def summary_markdown(dataset: str, runs: Sequence[dict]) -> str:
    """summary.md: every finished run, the best LR per mode, the winner and the comparison."""
    if not runs:
        raise ValueError("Argument `runs` must hold at least one run.")
    lines = [
        f"# Transfer learning on {dataset}",
        "",
        "Runs are ranked by final validation accuracy, the accuracy of the model a run ends with; the best "
        "accuracy picks its epoch on the same validation images, so it is optimistic.",
        "",
        "| mode | lr | best val accuracy (epoch) | final val accuracy | epochs | wall time (s) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        note = f"diverged: {m['diverged']}" if m.get("diverged") else ""
        lines.append(
            f"| {m['mode']} | {m['lr']:g} | {_pct(m['best_val_accuracy'])} ({m['best_epoch']}) | "
            f"{_pct(m['final_val_accuracy'])} | {m['epochs']} | {m['wall_seconds']:.1f} | {note} |"
        )
    best = best_runs(runs)
    lines += ["", "## Best learning rate per mode", ""]
    for mode in MODES:
        if mode in best:
            m = best[mode]
            lines.append(f"- {MODE_NAMES[mode]}: lr {m['lr']:g}, final {_pct(m['final_val_accuracy'])}, "
                         f"best {_pct(m['best_val_accuracy'])}")
    winner = max(best.values(), key=_score)
    tied = [m for m in runs if m is not winner and _score(m) == _score(winner)]
    tie = " (tied with " + ", ".join(f"{m['mode']} at lr {m['lr']:g}" for m in tied) + ")" if tied else ""
    lines += [
        "",
        f"**Winner: {winner['mode']} at lr {winner['lr']:g}** with {_pct(winner['final_val_accuracy'])} final "
        f"validation accuracy{tie}.",
        "",
        "## Fine-tuning or feature extraction",
        "",
        comparison(runs),
        "",
    ]
    return "\n".join(lines)


def write_summary(folder: Path, dataset: str) -> str:
    """Write ``folder/summary.md`` from the finished runs in ``folder`` and return its text."""
    runs = load_finished_runs(folder)
    if not runs:
        raise UserError(f"no finished run in {folder}; train first, e.g. python transfer.py --dataset {dataset}")
    text = summary_markdown(dataset, runs)
    write_text(prepare_dir(folder) / "summary.md", text)
    return text


# --------------------------------------------------------------------------- printing and saving

class Log:
    """Print each line and keep all of them in a text file (rewritten whole, atomically, per line)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []

    def __call__(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)
        write_text(self.path, "\n".join(self.lines) + "\n")
