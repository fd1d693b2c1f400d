"""The offline stand-in's records: the Fashion-MNIST pretraining of the ResNet50 base (``pretraining.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import ACCURACY, POSITIVE, POSITIVE_COUNT, SECONDS, Record, _rule

SHA256 = _rule(lambda v: isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v),
               "is not a SHA-256 digest (64 lowercase hexadecimal digits)")
FILE_NAME = _rule(lambda v: isinstance(v, str) and v.strip() != "" and "/" not in v and v not in (".", ".."),
                  "is not a file name inside the folder")


@dataclass(frozen=True)
class Pretraining(Record):
    """A finished pretraining of ResNet50 on Fashion-MNIST, the stand-in for its ImageNet weights.

    ``val_accuracy`` (a seeded, stratified part of Fashion-MNIST's training
    split) is the figure the settings are chosen by; ``test_accuracy`` is read
    once, after training. Both are of the final model after its BatchNorm
    statistics were re-estimated on ``recalibration_images`` training images
    (``pretrain.reestimate_batchnorm``); ``epoch_val_accuracy`` is the last
    epoch's, as training measured it, before. ``images_per_second`` is
    training images per second of an epoch (its validation pass included)
    over the epochs after the first, which also traces the training step;
    ``seconds_per_epoch`` is the median epoch; ``eval_seconds`` the
    re-estimation with the validation and test passes. ``base_weights`` is
    the file (in the record's folder) of the base without its top, with its
    SHA-256.
    """

    KIND = "standin-pretraining"
    FILE = "pretraining.json"

    source: str
    note: str
    settings: dict
    quick: bool
    epochs: int = field(metadata=POSITIVE_COUNT)
    train_images: int = field(metadata=POSITIVE_COUNT)
    val_images: int = field(metadata=POSITIVE_COUNT)
    test_images: int = field(metadata=POSITIVE_COUNT)
    recalibration_images: int = field(metadata=POSITIVE_COUNT)
    val_accuracy: float = field(metadata=ACCURACY)
    test_accuracy: float = field(metadata=ACCURACY)
    epoch_val_accuracy: float = field(metadata=ACCURACY)
    seconds_per_epoch: float = field(metadata=POSITIVE)
    images_per_second: float = field(metadata=POSITIVE)
    train_seconds: float = field(metadata=SECONDS)
    eval_seconds: float = field(metadata=SECONDS)
    base_weights: str = field(metadata=FILE_NAME)
    base_sha256: str = field(metadata=SHA256)

    def check(self) -> str | None:
        if self.settings.get("epochs") != self.epochs:
            return f"trained {self.epochs} epochs, but its settings ask for {self.settings.get('epochs')!r}"
        if self.recalibration_images > self.train_images:
            return (f"recalibration_images = {self.recalibration_images} is more than its {self.train_images} "
                    "training images")
        return None
