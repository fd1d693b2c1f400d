"""Problem 4's records: one LeNet-5 run's metrics and the results of the three experiments.

- ``ModelMetrics``: ``runs/<name>/metrics.json``, one trained model scored
  (``lenet.training.evaluate``'s numbers and what the experiment adds);
- ``LabelNoiseResults``, ``ResamplingResults``, ``TeacherStudentResults``:
  the experiment's ``results.json``, one row per finished point (a noise
  level, a sampling, the teacher, the ceiling or a student), kept across
  runs of the same settings; teacher-student also keeps what every (K, P)
  selection holds per class.

``results.csv``, ``results.md`` and ``selection.csv`` are written from these
records, and every reader (the report included) reads ``results.json``
through them. A comparison with the sweep's baseline (the clean run, natural
sampling, the teacher) is null when the baseline is not among the points.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

from pyimagesearch.records.base import (ACCURACY, COUNT, POSITIVE, POSITIVE_COUNT, PROBABILITY,
                                        SECONDS, Record, _rule, each, one_of)
from pyimagesearch.records.lenet import TrainingScores

PERCENT_REPLACED = _rule(lambda v: 0 <= v < 100, "is not a percentage of labels replaced (it must be in [0, 100))")
DIFFERENCE = _rule(lambda v: -1 <= v <= 1, "is not a difference of accuracies (it must be in [-1, 1])")
SAMPLINGS = ("natural", "sqrt", "uniform")


@dataclass(frozen=True, kw_only=True)
class ModelMetrics(TrainingScores):
    """One trained LeNet-5 of an experiment, scored on its training, validation and test images."""

    KIND = "semisupervised-model-metrics"
    FILE = "metrics.json"

    noise_percent: float | None = field(metadata=PERCENT_REPLACED)
    changed: int | None = field(metadata=COUNT)
    sampling: str | None = field(metadata=one_of(*SAMPLINGS))


@dataclass(frozen=True, kw_only=True)
class Paired(Record):
    """The fields every row shares: its name, test accuracy, and the paired test against the baseline."""

    name: str
    test_accuracy: float = field(metadata=ACCURACY)
    val_accuracy: float = field(metadata=ACCURACY)
    train_images: int = field(metadata=POSITIVE_COUNT)
    steps: int = field(metadata=POSITIVE_COUNT)
    train_time_s: float = field(metadata=SECONDS)
    mcnemar_b: int | None = field(metadata=COUNT)
    mcnemar_c: int | None = field(metadata=COUNT)
    mcnemar_p: float | None = field(metadata=PROBABILITY)

    def check(self) -> str | None:
        present = [value is not None for value in (self.mcnemar_b, self.mcnemar_c, self.mcnemar_p)]
        if any(present) and not all(present):
            return f"row {self.name!r} has only part of its McNemar test (mcnemar_b, mcnemar_c, mcnemar_p)"
        return None


@dataclass(frozen=True, kw_only=True)
class LabelNoiseRow(Paired):
    """One noise level p: the model trained with p% of its labels replaced."""

    KIND = "label-noise-row"

    noise_percent: float = field(metadata=PERCENT_REPLACED)
    changed: int = field(metadata=COUNT)
    train_accuracy: float = field(metadata=ACCURACY)  # against the noisy labels
    train_accuracy_true: float = field(metadata=ACCURACY)
    changed_fit_noisy: float | None = field(metadata=ACCURACY)
    changed_predict_true: float | None = field(metadata=ACCURACY)
    drop_vs_clean: float | None = field(metadata=DIFFERENCE)

    def check(self) -> str | None:
        if self.changed > self.train_images:
            return f"row {self.name!r} changed {self.changed} labels of {self.train_images} training images"
        return super().check()


@dataclass(frozen=True, kw_only=True)
class ResamplingRow(Paired):
    """One sampling of the long-tailed set: the model's overall, head, tail and per-class test accuracy."""

    KIND = "resampling-row"

    sampling: str = field(metadata=one_of(*SAMPLINGS))
    label: str
    head_accuracy: float = field(metadata=ACCURACY)
    tail_accuracy: float = field(metadata=ACCURACY)
    per_class: list[float] = field(metadata=each(ACCURACY))
    draws: list[int] = field(metadata=each(COUNT))
    train_accuracy: float = field(metadata=ACCURACY)
    wall_s: float = field(metadata=SECONDS)
    gain_vs_natural: float | None = field(metadata=DIFFERENCE)

    def check(self) -> str | None:
        if len(self.per_class) != len(self.draws) or len(self.per_class) < 2:
            return f"row {self.name!r} has {len(self.per_class)} per-class accuracies and {len(self.draws)} draws"
        return super().check()


@dataclass(frozen=True, kw_only=True)
class TeacherStudentRow(Paired):
    """The teacher, the ceiling (L + U with true labels) or one student of a (K, P) selection."""

    KIND = "teacher-student-row"

    model: str = field(metadata=one_of("teacher", "ceiling", "student"))
    k: int | None = field(metadata=POSITIVE_COUNT)
    p: int | None = field(metadata=POSITIVE_COUNT)
    pairs: int | None = field(metadata=COUNT)
    images: int | None = field(metadata=COUNT)
    multi_class_images: int | None = field(metadata=COUNT)
    correct: int | None = field(metadata=COUNT)
    precision: float | None = field(metadata=PROBABILITY)
    short_classes: int | None = field(metadata=COUNT)
    pretrain_images_per_epoch: int | None = field(metadata=POSITIVE_COUNT)
    pretrained_test_accuracy: float | None = field(metadata=ACCURACY)
    gain_vs_teacher: float | None = field(metadata=DIFFERENCE)
    # A student's fine-tuning LR factor (x --lr), and, when several were tried, the sentence of the choice among
    # them on validation accuracy. Absent from rows written before the factor was recorded.
    finetune_lr_factor: float | None = field(default=None, metadata=POSITIVE)
    finetune_choice: str | None = None

    def check(self) -> str | None:
        student = (self.k, self.p, self.pairs, self.correct, self.pretrained_test_accuracy)
        if self.model == "student" and None in student:
            return f"row {self.name!r} is a student without its K, P, pairs, correct or pre-trained accuracy"
        if self.correct is not None and self.pairs is not None and self.correct > self.pairs:
            return f"row {self.name!r} has {self.correct} correct of {self.pairs} pairs"
        return super().check()


@dataclass(frozen=True, kw_only=True)
class SelectionRow(Record):
    """What one class's list of a (K, P) selection holds, measured with U's hidden labels."""

    KIND = "selection-row"

    k: int = field(metadata=POSITIVE_COUNT)
    p: int = field(metadata=POSITIVE_COUNT)
    class_index: int = field(metadata=COUNT)
    class_name: str
    candidates: int = field(metadata=COUNT)
    selected: int = field(metadata=COUNT)
    correct: int = field(metadata=COUNT)
    precision: float | None = field(metadata=PROBABILITY)

    def check(self) -> str | None:
        if self.correct > self.selected or self.selected > self.candidates:
            return (f"selection K {self.k}, P {self.p}, class {self.class_index} has {self.correct} correct of "
                    f"{self.selected} selected of {self.candidates} candidates")
        return None

    def csv_row(self) -> dict:
        """The row of selection.csv, whose class column is named ``class``."""
        return {"k": self.k, "p": self.p, "class": self.class_index, "class_name": self.class_name,
                **{key: getattr(self, key) for key in ("candidates", "selected", "correct", "precision")}}


@dataclass(frozen=True, kw_only=True)
class Results(Record):
    """An experiment's ``results.json``: its finished points, in the order they finished."""

    FILE = "results.json"
    ROW: ClassVar[type] = Paired

    points: list[Paired]

    def check(self) -> str | None:
        names = [row.name for row in self.points]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            return f"holds point {repeated[0]!r} more than once"
        wrong = [row for row in self.points if not isinstance(row, self.ROW)]
        if wrong:
            return f"point {wrong[0].name!r} is not a {self.ROW.KIND}"
        return None

    @classmethod
    def empty(cls):
        """Results with no point yet."""
        return cls(**{spec.name: [] for spec in fields(cls)})

    def get(self, name: str):
        """The row of point ``name``, or None when it has not finished."""
        return next((row for row in self.points if row.name == name), None)

    def put(self, row):
        """These results with ``row`` added, or in place of the row of the same name."""
        points = [row if old.name == row.name else old for old in self.points]
        return replace(self, points=points if self.get(row.name) else [*points, row])


@dataclass(frozen=True, kw_only=True)
class LabelNoiseResults(Results):
    KIND = "label-noise-results"
    ROW = LabelNoiseRow

    points: list[LabelNoiseRow]


@dataclass(frozen=True, kw_only=True)
class ResamplingResults(Results):
    KIND = "resampling-results"
    ROW = ResamplingRow

    points: list[ResamplingRow]


@dataclass(frozen=True, kw_only=True)
class TeacherStudentResults(Results):
    KIND = "teacher-student-results"
    ROW = TeacherStudentRow

    points: list[TeacherStudentRow]
    selection: list[SelectionRow]

    def with_selection(self, rows: list[SelectionRow]) -> "TeacherStudentResults":
        """These results with ``rows`` in place of the selection rows of the same (K, P)."""
        replaced = {(row.k, row.p) for row in rows}
        kept = [row for row in self.selection if (row.k, row.p) not in replaced]
        return replace(self, selection=kept + list(rows))


RESULTS = {"label-noise": LabelNoiseResults, "resampling": ResamplingResults, "teacher-student": TeacherStudentResults}
