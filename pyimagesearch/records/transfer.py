"""Problem 3's records: one transfer-learning run and the description of its target data set.

``<dataset>/<mode>_lr<lr>/metrics.json`` is a ``TransferRun`` and
``correctness.json`` beside it its ``ImageCorrectness`` (which images of the
selection and validation splits the final model gets right, for the paired
comparisons of the summary); ``<dataset>/dataset.json`` a
``DatasetDescription``, which says where the data come from (``source``). Whether the sweep in
``<dataset>/`` is finished, and at quick or full settings, is its completion
record (``core.run.completion``), written by transfer.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import (
    ACCURACY, COUNT, LR, NONNEGATIVE, POSITIVE_COUNT, SECONDS, Record, _rule, each, one_of,
)


@dataclass(frozen=True)
class TransferRun(Record):
    """A finished (mode, LR) run of a transfer sweep; a diverged run keeps the epochs it trained.

    ``best_epoch`` is 1-based; the accuracies and the loss are None only for
    a run that diverged before they could be measured. The ``*_val_*``
    figures are on the validation split, which reports; ``selection_accuracy``
    is the final model's on the ``selection_images`` held out of the training
    split, which make the choices (the best LR, the winner): 0 images and None
    for a run without a selection split (a pretraining) or one that diverged.
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
    selection_accuracy: float | None = field(default=None, metadata=ACCURACY)
    selection_images: int = field(default=0, metadata=COUNT)

    def check(self) -> str | None:
        if self.selection_images and not self.diverged and self.selection_accuracy is None:
            return f"has no selection_accuracy for its {self.selection_images} selection images, though it did not diverge"
        if not self.selection_images and self.selection_accuracy is not None:
            return f"has selection_accuracy = {self.selection_accuracy!r} but no selection images"
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


BITS = _rule(lambda v: isinstance(v, str) and set(v) <= {"0", "1"}, "is not a string of 0s and 1s, one per image")


@dataclass(frozen=True)
class ImageCorrectness(Record):
    """correctness.json: per image of each split, in the split's fixed order, 1 where the final model is right.

    The paired evidence of ``verdicts.winner`` and ``verdicts.compare_paired_images``
    (exact McNemar): two runs scored on the same images.
    """

    KIND = "transfer-correctness"
    FILE = "correctness.json"

    selection: str = field(metadata=BITS)
    validation: str = field(metadata=BITS)

    def correct(self, split: str):
        """``split``'s correctness as a boolean NumPy array."""
        import numpy as np

        return np.frombuffer(getattr(self, split).encode(), np.uint8) == ord("1")

    @classmethod
    def of(cls, selection, validation) -> "ImageCorrectness":
        """The record of two boolean arrays."""
        return cls(*("".join("1" if right else "0" for right in values) for values in (selection, validation)))


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
    selection: SplitDescription | None = None


SOURCES = ("decathlon", "folder", "standin")


@dataclass(frozen=True)
class DatasetDescription(Record):
    """dataset.json: a target data set's classes, images per split and per class, and the sample images' classes.

    ``source`` is where the data come from, which every output names:
    "decathlon" (a Visual Decathlon target through TFDS), "folder" (a user's
    folder of class subfolders) or "standin" (scikit-learn's digits, the
    offline stand-in); None in a description written before it was recorded
    (``provenance`` reads it from ``origin`` then). ``note`` is the stand-in's
    sentence (``pretrain.standin_note``), None for the real path.
    ``selection_split`` says how the selection images were held out.
    """

    KIND = "transfer-dataset"
    FILE = "dataset.json"

    name: str
    origin: str
    evaluation_split: str = field(metadata=one_of("validation"))
    num_classes: int = field(metadata=POSITIVE_COUNT)
    class_names: list[str]
    splits: Splits
    samples: list[str]
    source: str | None = field(default=None, metadata=one_of(*SOURCES))
    note: str | None = None
    selection_split: str | None = None

    @property
    def provenance(self) -> str:
        """"decathlon", "folder" or "standin": ``source``, or for an older description its ``origin``'s first word."""
        if self.source is not None:
            return self.source
        return {"tfds": "decathlon", "folder": "folder"}.get(self.origin.split(" ", 1)[0], "folder")

    def check(self) -> str | None:
        if self.num_classes < 2:
            return f"has num_classes = {self.num_classes}, but a classifier needs at least 2 classes"
        if len(self.class_names) != self.num_classes:
            return f"has {len(self.class_names)} class_names for num_classes = {self.num_classes}"
        for split in ("train", "validation", "selection"):
            if getattr(self.splits, split) is None:
                continue
            counts = getattr(self.splits, split).counts
            if len(counts) != self.num_classes:
                return f"has {len(counts)} {split} counts for num_classes = {self.num_classes}"
        unknown = [name for name in self.samples if name not in self.class_names]
        if unknown:
            return f"has sample class {unknown[0]!r}, which is not among its class_names"
        return None
