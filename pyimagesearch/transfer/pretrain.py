"""``--weights fashion-mnist``: a ResNet50 base pretrained by the project on Fashion-MNIST, the stand-in for ImageNet.

ImageNet weights cannot be downloaded here, so the source task is Fashion-MNIST
(60,000 real 28x28 grayscale images of clothes, 10 classes): ResNet50
(``weights=None, include_top=False``) with a new 10-way layer, trained as a
fine-tuning run of the task (``train_run`` in mode "finetune": SGD with
momentum 0.9, a multi-step LR, a checkpoint per epoch, exact resume)::

    28x28 -> 36x36: 4 px of background on every side; the pipeline's resize to
        36 px is a no-op and its centre crop gives the image with 2 px of
        background (32x32), a random 32x32 window with --augment crop
    one channel decoded to three (the gray value replicated)

Fashion-MNIST's training split gives a seeded, stratified validation part
(the choices) and the training images; the test split is read once, after
training, for ``test_accuracy``. Everything lives in
``<output>/pretrain/fashion-mnist-<digest of the settings>/``, owned by
``core.run.RunFolder``::

    config.json, complete.json       the settings; the completion record, last
    train/                           the run of train_run: history.csv, curves.png,
                                     metrics.json, model.weights.h5 (checkpoint/ while unfinished)
    base.weights.h5                  the base without its top: what --weights fashion-mnist loads
    pretraining.json                 records.standin.Pretraining
    pretrain.log

``pretrained_base_weights(settings, output)`` trains once; every later call
with the same settings finds the folder finished and returns its base.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.core.checkpoints import file_sha256
from pyimagesearch.core.run import RunFolder, RunFolderError, settings_digest
from pyimagesearch.lenet.data import CLASS_NAMES, load_fashion_mnist
from pyimagesearch.records.standin import Pretraining
from pyimagesearch.records.transfer import TransferRun
from pyimagesearch.transfer.batchnorm import batchnorm_layers, reestimate_batchnorm  # noqa: F401  (named here too)
from pyimagesearch.transfer.digits import NAME as DIGITS, TARGET_NOTE, image_set_of, stratified_parts
from pyimagesearch.transfer.settings import TransferSettings

WEIGHTS_NAME = "fashion-mnist"
SOURCE = "Fashion-MNIST"
BASE_FILE = "base.weights.h5"
IMAGE_SIZE = 32
RECALIBRATION_IMAGES = 2_048  # training images whose batch statistics become the base's BatchNorm statistics
PAD = 4  # 28 -> 36 px, the size the pipeline resizes a 32 px input to before its centre crop
BASE_NOTE = "the base was pretrained on Fashion-MNIST, not ImageNet"
REAL_COMMAND = "python transfer.py --dataset <config> --weights imagenet"


def standin_note(dataset: str, weights: str) -> str | None:
    """The sentence every output that depends on the stand-in begins with, or None for the real path.

    Names what stands in for what (the base, the target or both) and the command for the real target.
    """
    parts = ([BASE_NOTE] if weights == WEIGHTS_NAME else []) + ([TARGET_NOTE] if dataset == DIGITS else [])
    if not parts:
        return None
    return f"Offline stand-in: {'; '.join(parts)}; for the real target run: {REAL_COMMAND}"


STANDIN_NOTE = standin_note(DIGITS, WEIGHTS_NAME)


@dataclass(frozen=True)
class PretrainSettings:
    """What determines the pretrained base: the images used, the training schedule and the seed."""

    train_images: int
    val_images: int
    test_images: int
    epochs: int
    lr: float
    milestones: tuple[int, ...]
    gamma: float = 0.1
    batch_size: int = 64
    augment: str = "none"
    dtype_policy: str = "float32"
    seed: int = 42

    def __post_init__(self):
        for name in ("train_images", "val_images", "test_images", "epochs", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"Argument `lr` must be > 0. Received: lr={self.lr}")
        if self.train_images + self.val_images > 60_000 or self.test_images > 10_000:
            raise ValueError("Fashion-MNIST has 60,000 training and 10,000 test images. Received: "
                             f"train_images + val_images={self.train_images + self.val_images}, "
                             f"test_images={self.test_images}")

    def as_dict(self) -> dict:
        return {**asdict(self), "milestones": list(self.milestones)}


# lr 0.003, chosen on the held-out images at the quick scale (6,000 images, 2 epochs, BatchNorm re-estimated):
# 0.003 gave 78.1% and 0.01 77.7% on 1,000 images (tied within noise: the standard error is 1.3 points); 0.001 learnt
# nothing in 2 epochs of a small set, and 0.01 diverged on 640 images. Full: all 60,000 training images (6,000 held out
# for the choices), 10,000 test images, 4 epochs (about 8-14 minutes each here), the LR dropping after epochs 2 and 3.
FULL_SETTINGS = PretrainSettings(train_images=54_000, val_images=6_000, test_images=10_000, epochs=4, lr=0.003,
                                 milestones=(2, 3))
# Quick: leaves time for the seven quick transfer runs on the digits.
QUICK_SETTINGS = PretrainSettings(train_images=6_000, val_images=1_000, test_images=2_000, epochs=2, lr=0.003,
                                  milestones=(1,))


def pretrain_folder(settings: PretrainSettings, output: str | Path) -> Path:
    """``<output>/pretrain/fashion-mnist-<first 12 hex digits of the settings' SHA-256>``."""
    return Path(output) / "pretrain" / f"{WEIGHTS_NAME}-{settings_digest(settings.as_dict())[:12]}"


def fashion_mnist(settings: PretrainSettings, data_dir=None):
    """Fashion-MNIST as an ``ImageSet`` with the splits "train", "validation" and "test" of ``settings``' sizes.

    "validation" is a seeded, stratified part of the training split, held out
    first, "train" a part of what is left; "test" a part of the test split
    (``digits.stratified_parts``). Images are ``uint8`` (N, 36, 36, 1).
    """
    (x_train, y_train), (x_test, y_test), source = load_fashion_mnist(data_dir)
    unused = len(y_train) - settings.val_images - settings.train_images
    parts = stratified_parts(y_train, {"validation": settings.val_images, "unused": unused}, settings.seed)
    test = stratified_parts(y_test, {"unused": len(y_test) - settings.test_images}, settings.seed, rest="test")["test"]
    pad = ((0, 0), (PAD, PAD), (PAD, PAD))
    pixels = {"train": x_train[parts["train"]], "validation": x_train[parts["validation"]], "test": x_test[test]}
    labels = {"train": y_train[parts["train"]], "validation": y_train[parts["validation"]], "test": y_test[test]}
    return image_set_of(WEIGHTS_NAME, f"{SOURCE} ({source})", list(CLASS_NAMES),
                        {split: np.pad(images, pad)[..., np.newaxis] for split, images in pixels.items()}, labels)


def transfer_settings(settings: PretrainSettings, image_set) -> TransferSettings:
    """The pretraining as a fine-tuning run of ``train_run``: random weights, 32x32 inputs."""
    return TransferSettings(data=image_set.origin, epochs=settings.epochs, milestones=tuple(settings.milestones),
                            gamma=settings.gamma, batch_size=settings.batch_size, image_size=IMAGE_SIZE,
                            augment=settings.augment, weights="none", dtype_policy=settings.dtype_policy,
                            seed=settings.seed)


def pretraining_of(weights: str) -> Pretraining | None:
    """The ``Pretraining`` record of a base file this module wrote (``weights`` its path), else None."""
    path = Path(weights)
    if path.name != BASE_FILE or not path.parent.name.startswith(f"{WEIGHTS_NAME}-"):
        return None
    return Pretraining.read(path.parent) if (path.parent / Pretraining.FILE).is_file() else None


def finished_base(folder: Path) -> Path:
    """The base weights file of a finished pretraining folder, checked against its record."""
    record = Pretraining.read(folder)
    path = folder / record.base_weights
    if not path.is_file() or file_sha256(path) != record.base_sha256:
        raise RunFolderError(f"{path} is missing or differs from the one {folder / Pretraining.FILE} records; "
                             f"delete {folder} to pretrain again")
    return path


def pretrained_base_weights(settings: PretrainSettings = FULL_SETTINGS, output: str | Path = "output",
                            say: Callable[[str], None] = print, data_dir=None, progress: bool = False) -> Path:
    """The ``base.weights.h5`` of a ResNet50 pretrained on Fashion-MNIST with ``settings``: trained once, then reused.

    A finished folder of the same settings is reused without training; an
    unfinished one (a killed pretraining) resumes after its last finished
    epoch. The file loads with ``models.load_base(32, path)``.
    """
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.transfer.run import train_run

    folder = pretrain_folder(settings, output)
    note = standin_note("", WEIGHTS_NAME)
    with RunFolder(folder, Pretraining.KIND, settings.as_dict(), seed=settings.seed, tensorflow=True,
                   config={"source": SOURCE, "note": note}) as run:
        if run.finished:
            path = finished_base(folder)
            say(f"pretrained base {path} reused (finished earlier with the same settings)")
            return path
        log = RunLog(folder / "pretrain.log", echo=False, append=True)

        def tell(line: str) -> None:
            log(line)
            say(line)

        tell(note)
        image_set = fashion_mnist(settings, data_dir)
        tell(f"pretraining ResNet50 on {image_set.origin}: {image_set.size('train'):,} training, "
             f"{image_set.size('validation'):,} validation and {image_set.size('test'):,} test images, "
             f"{settings.epochs} epochs at lr {settings.lr:g}")
        run_dir = folder / "train"
        if not (run_dir / TransferRun.FILE).is_file():
            train_run(image_set, "finetune", settings.lr, transfer_settings(settings, image_set), run_dir, tell,
                      save_weights=True, progress=progress)
        trained = TransferRun.read(run_dir)
        if trained.diverged:
            raise ValueError(f"The pretraining in {run_dir} diverged ({trained.diverged}): its base is no use; "
                             f"choose a lower `lr`. Received: lr={settings.lr}")
        finished = finish_base(settings, image_set, run_dir, folder / BASE_FILE)
        record = Pretraining(
            source=image_set.origin, note=note, settings=settings.as_dict(), quick=settings != FULL_SETTINGS,
            epochs=trained.epochs, train_images=image_set.size("train"), val_images=image_set.size("validation"),
            test_images=image_set.size("test"), recalibration_images=finished["recalibration_images"],
            val_accuracy=finished["val_accuracy"], test_accuracy=finished["test_accuracy"],
            epoch_val_accuracy=trained.final_val_accuracy, seconds_per_epoch=trained.seconds_per_epoch,
            images_per_second=images_per_second(run_dir, image_set.size("train")),
            train_seconds=trained.wall_seconds, eval_seconds=finished["seconds"], base_weights=BASE_FILE,
            base_sha256=file_sha256(folder / BASE_FILE))
        record.write(folder)
        tell(f"pretraining done: val accuracy {record.val_accuracy:.4f} ({record.epoch_val_accuracy:.4f} before the "
             f"BatchNorm statistics were re-estimated), test accuracy {record.test_accuracy:.4f}, "
             f"{record.images_per_second:g} images/s; base {folder / BASE_FILE}")
        run.complete(quick=record.quick, summary={"val_accuracy": record.val_accuracy,
                                                  "test_accuracy": record.test_accuracy, "base_weights": BASE_FILE})
    return folder / BASE_FILE


def images_per_second(run_dir: Path, train_images: int) -> float:
    """Training images per second of an epoch with its validation pass: the median of the epochs after the first."""
    from pyimagesearch.core.history import read_history

    seconds = [row["seconds"] for row in read_history(run_dir / "history.csv")]
    return round(train_images / float(np.median(seconds[1:] or seconds)), 1)


def finish_base(settings: PretrainSettings, image_set, run_dir: Path, path: Path) -> dict:
    """Re-estimate the trained model's BatchNorm statistics, read validation and test once, save the base to ``path``.

    Returns ``val_accuracy``, ``test_accuracy``, ``recalibration_images`` and
    ``seconds`` (the three passes). The base alone is saved, the file that
    ``models.load_base(32, path)`` loads.
    """
    from pyimagesearch.transfer.models import build_models
    from pyimagesearch.transfer.pipeline import make_pipeline
    from pyimagesearch.transfer.run import write_weights

    models = build_models(image_set.num_classes, "finetune", settings.lr, IMAGE_SIZE, "none", settings.dtype_policy)
    with warnings.catch_warnings():  # the weights alone are wanted: Keras warns that the optimizer's are not loaded
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        models.model.load_weights(run_dir / "model.weights.h5")
    start = time.perf_counter()
    train = make_pipeline(image_set.encoded("train"), IMAGE_SIZE, settings.batch_size)
    images = reestimate_batchnorm(models.model, train.take(-(-RECALIBRATION_IMAGES // settings.batch_size)))
    accuracy = {split: float(models.model.evaluate(make_pipeline(image_set.encoded(split), IMAGE_SIZE,
                                                                 settings.batch_size), verbose=0)[1])
                for split in ("validation", "test")}
    seconds = round(time.perf_counter() - start, 3)
    write_weights(models.base, path)
    return {"val_accuracy": accuracy["validation"], "test_accuracy": accuracy["test"], "recalibration_images": images,
            "seconds": seconds}


def describe_pretraining(record: Pretraining) -> str:
    """One sentence on a finished pretraining for a summary: images, schedule, accuracies, time."""
    settings = record.settings
    return (f"ResNet50 pretrained on {SOURCE} ({record.train_images:,} training images, {record.epochs} epochs at "
            f"lr {settings.get('lr'):g}): validation accuracy {record.val_accuracy:.1%} on "
            f"{record.val_images:,} held-out training images, test accuracy {record.test_accuracy:.1%} on "
            f"{record.test_images:,} test images; {record.train_seconds / 60:.1f} min of training "
            f"({record.images_per_second:g} images/s){' (quick settings)' if record.quick else ''}")
