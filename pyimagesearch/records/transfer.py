"""Problem 3's records: one transfer-learning run and the description of its target data set.

``<dataset>/<mode>_lr<lr>/metrics.json`` is a ``TransferRun``;
``<dataset>/dataset.json`` a ``DatasetDescription``. Whether the sweep in
``<dataset>/`` is finished, and at quick or full settings, is its completion
record (``core.run.completion``), written by transfer.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import (
    ACCURACY, COUNT, LR, NONNEGATIVE, POSITIVE_COUNT, SECONDS, Record, each, one_of,
)


@dataclass(frozen=True)
class TransferRun(Record):
    """A finished (mode, LR) run of a transfer sweep; a diverged run keeps the epochs it trained.

    ``best_epoch`` is 1-based; the accuracies and the loss are None only for
    a run that diverged before they could be measured.
    """

    KIND = "transfer-run"
    FILE = "metrics.json"

    mode: str = field(metadata=one_of("finetune", "feature"))
    lr: float = field(metadata=LR)
    best_val_accuracy: float | None = field(metadata=ACCURACY)
    best_epoch: int = field(metadata=COUNT)
    final_val_accuracy: float | None = field(metadata=ACCURACY)
    final_val_loss: float | None = field(metadata=NONNEGATIVE)
    final_accuracy: float | None = field(metadata=ACCURACY)
    epochs: int = field(metadata=COUNT)
    wall_seconds: float = field(metadata=SECONDS)
    seconds_per_epoch: float | None = field(metadata=SECONDS)
    steps_per_epoch: int = field(metadata=POSITIVE_COUNT)
    train_images: int = field(metadata=POSITIVE_COUNT)
    val_images: int = field(metadata=POSITIVE_COUNT)
    feature_cache: str | None = field(metadata=one_of("once", "per epoch"))
    feature_seconds: float | None = field(metadata=SECONDS)
    diverged: str | None
    settings: dict

    def check(self) -> str | None:
        if not self.diverged and None in (self.best_val_accuracy, self.final_val_accuracy, self.final_val_loss):
            return "has no validation accuracy or loss, though the run did not diverge"
        if self.epochs and not 1 <= self.best_epoch <= self.epochs:
            return f"has best_epoch = {self.best_epoch} outside its epochs 1..{self.epochs}"
        if None not in (self.best_val_accuracy, self.final_val_accuracy) and self.best_val_accuracy < self.final_val_accuracy:
            return (f"has best_val_accuracy = {self.best_val_accuracy!r} below final_val_accuracy = "
                    f"{self.final_val_accuracy!r}, though the best is taken over every epoch, the last one included")
        if (self.mode == "feature") != (self.feature_cache is not None):
            return f"has feature_cache = {self.feature_cache!r}, which a {self.mode} run does not have"
        return None


@dataclass(frozen=True)
class ClassSpread(Record):
    """Images per class in one split: the smallest, median and largest count."""

    KIND = "class-spread"

    min: int = field(metadata=COUNT)
    median: float = field(metadata=NONNEGATIVE)
    max: int = field(metadata=COUNT)

    def check(self) -> str | None:
        if not self.min <= self.median <= self.max:
            return f"has min {self.min}, median {self.median:g} and max {self.max}, which are not in order"
        return None


@dataclass(frozen=True)
class SplitDescription(Record):
    """One split of a target data set: its images, per class (``counts`` in class order)."""

    KIND = "split-description"

    images: int = field(metadata=POSITIVE_COUNT)
    images_per_class: ClassSpread
    classes_without_images: int = field(metadata=COUNT)
    counts: list[int] = field(metadata=each(COUNT))

    def check(self) -> str | None:
        if not self.counts:
            return "has no counts, one per class"
        if sum(self.counts) != self.images:
            return f"has counts adding up to {sum(self.counts):,}, not its {self.images:,} images"
        spread = self.images_per_class
        if (spread.min, spread.max) != (min(self.counts), max(self.counts)):
            return f"has images_per_class min {spread.min} and max {spread.max}, which its counts do not give"
        if self.classes_without_images != self.counts.count(0):
            return f"has classes_without_images = {self.classes_without_images}, but {self.counts.count(0)} counts are 0"
        return None


@dataclass(frozen=True)
class Splits(Record):
    KIND = "splits"

    train: SplitDescription
    validation: SplitDescription


@dataclass(frozen=True)
class DatasetDescription(Record):
    """dataset.json: a target data set's classes, images per split and per class, and the sample images' classes."""

    KIND = "transfer-dataset"
    FILE = "dataset.json"

    name: str
    origin: str
    evaluation_split: str = field(metadata=one_of("validation"))
    num_classes: int = field(metadata=POSITIVE_COUNT)
    class_names: list[str]
    splits: Splits
    samples: list[str]

    def check(self) -> str | None:
        if self.num_classes < 2:
            return f"has num_classes = {self.num_classes}, but a classifier needs at least 2 classes"
        if len(self.class_names) != self.num_classes:
            return f"has {len(self.class_names)} class_names for num_classes = {self.num_classes}"
        for split in ("train", "validation"):
            counts = getattr(self.splits, split).counts
            if len(counts) != self.num_classes:
                return f"has {len(counts)} {split} counts for num_classes = {self.num_classes}"
        unknown = [name for name in self.samples if name not in self.class_names]
        if unknown:
            return f"has sample class {unknown[0]!r}, which is not among its class_names"
        return None
