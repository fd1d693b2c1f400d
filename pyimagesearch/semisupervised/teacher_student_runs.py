"""The models of the teacher/student sweep (``teacher_student``), each a ``core.sweep`` trial of its own.

- the teacher, on L; it writes its scores for U (``teacher_scores.npy`` of
  the experiment's folder), which every student's trial reads from there;
- the ceiling, on L + U with the true labels;
- one student per (K, P): the selection made again from the teacher's scores,
  pre-trained on it, fine-tuned on L.

Each trial loads the data and makes the labelled split again (both seeded),
and leaves its row in the folder of its last run (``runs.ROW_FILE``); the
ceiling and the students compare themselves with the teacher's saved test
predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.records.semisupervised import ModelMetrics, TeacherStudentRow
from pyimagesearch.semisupervised import report
from pyimagesearch.semisupervised.resampling import resampled_indices
from pyimagesearch.semisupervised.runs import (ModelRun, finite_or_none, save_array, scores_of, trial_inputs,
                                              with_train)
from pyimagesearch.semisupervised.selection import labelled_split, select_top_k, selection_summary
from pyimagesearch.stats import paired_test

SCORES_FILE = "teacher_scores.npy"  # the teacher's softmax for U, (|U|, C), in the experiment's folder


@dataclass
class Sweep:
    """What every model of a sweep shares."""

    data: object  # the FashionMNIST splits
    unlabelled: np.ndarray  # U: indices into data.x_train
    teacher_data: object  # the splits with L as the training set
    settings: dict
    folder: Path  # the experiment's folder
    log: Callable

    def model_run(self, name: str, epochs: int, lr: float | None = None, **extra) -> ModelRun:
        settings = {**self.settings, "model": name, "epochs": epochs, "lr": lr or self.settings["lr"], **extra}
        return ModelRun(self.folder / "runs" / name, name, settings, self.log)

    def teacher(self) -> tuple[ModelMetrics, np.ndarray]:
        """The teacher's scores and which test images it got right, read from its folder."""
        teacher_dir = self.folder / "runs" / "teacher"
        return ModelMetrics.read(teacher_dir), np.load(teacher_dir / "test_predictions.npy") == self.data.y_test


def train_point(trial) -> None:
    """The trial of the teacher, the ceiling or a student (``trial.settings["point"]["model"]``)."""
    settings, point, data, log = trial_inputs(trial)
    labelled, unlabelled = labelled_split(data.y_train, settings["labelled"], data.num_classes, settings["seed"])
    teacher_data = with_train(data, data.x_train[labelled], data.y_train[labelled])
    sweep = Sweep(data, unlabelled, teacher_data, settings, Path(point["folder"]), log)
    if point["model"] == "teacher":
        train_teacher(sweep)
    elif point["model"] == "ceiling":
        train_ceiling(sweep)
    else:
        k, p = point["k"], point["p"]
        selection = select_top_k(np.load(sweep.folder / SCORES_FILE), k, p)
        train_student(sweep, trial.name, k, p, selection, selection_summary(selection, data.y_train[unlabelled], k))


def train_teacher(sweep: Sweep) -> TeacherStudentRow:
    """The teacher on L; its scores for U saved in the experiment's folder before its run is finished."""
    log, settings = sweep.log, sweep.settings
    log(f"teacher: {settings['teacher_epochs']} epochs on L ({len(sweep.teacher_data.y_train):,} images)")
    with sweep.model_run("teacher", settings["teacher_epochs"]) as model_run:
        result = model_run.train(sweep.teacher_data)
        metrics, _ = model_run.finish(result, sweep.teacher_data)
        save_array(sweep.folder / SCORES_FILE, scores_of(result["model"], sweep.data.x_train[sweep.unlabelled]))
        row = model_run.save_row(row_of("teacher", metrics))
        model_run.complete(settings["quick"])
    log(f"teacher: test {report.percent(row.test_accuracy)}%")
    return row


def train_ceiling(sweep: Sweep) -> TeacherStudentRow:
    """The ceiling: L + U with their true labels, the whole training split; compared with the teacher."""
    data, log, settings = sweep.data, sweep.log, sweep.settings
    log(f"ceiling: {settings['ceiling_epochs']} epochs on L + U with true labels ({len(data.y_train):,} images)")
    with sweep.model_run("ceiling", settings["ceiling_epochs"]) as model_run:
        result = model_run.train(data)
        metrics, predictions = model_run.finish(result, data)
        row = model_run.save_row(row_of("ceiling", metrics, compare(*sweep.teacher(), metrics.test_accuracy,
                                                                    predictions == data.y_test)))
        model_run.complete(settings["quick"])
    log(f"ceiling: test {report.percent(row.test_accuracy)}%")
    return row


def train_student(sweep: Sweep, name: str, k: int, p: int, selection, summary: dict) -> TeacherStudentRow:
    """Pre-train a fresh student on the selected pairs, fine-tune it on L; its row, saved with the fine-tuning run.

    The pre-training run keeps its last checkpoint until the student's row is
    saved, so a student killed while fine-tuning starts again from the same
    pre-trained weights.
    """
    data, unlabelled, settings, log = sweep.data, sweep.unlabelled, sweep.settings, sweep.log
    size = len(unlabelled)  # >= the pairs, since K <= |U| / C
    rng = np.random.default_rng([settings["seed"], k, p])
    # Whole copies of the selection plus a seeded sample of the rest: each pair appears size // pairs or one more times.
    pair_order = resampled_indices(np.zeros(selection.pairs, dtype=np.int64), np.array([size]), rng)
    x_pretrain = data.x_train[unlabelled[selection.images[pair_order]]]
    y_pretrain = selection.labels[pair_order]
    log(f"{name}: {summary['pairs']:,} pairs ({summary['images']:,} images, {summary['multi_class_images']:,} "
        f"in more than one class), pseudo-label precision {report.percent(summary['precision'])}%; pre-training "
        f"{settings['pretrain_epochs']} epochs of {size:,} pairs")
    pretrain_data = with_train(data, data.x_train[unlabelled[selection.images]], selection.labels)
    finetune_lr = settings["lr"] * settings["finetune_lr_factor"]
    with sweep.model_run(f"{name}/pretrain", settings["pretrain_epochs"], k=k, p=p) as pretrain:
        result = pretrain.train(with_train(data, x_pretrain, y_pretrain))
        pretrained, _ = pretrain.finish(result, pretrain_data)
        log(f"{name}: pre-trained student test {report.percent(pretrained.test_accuracy)}%; fine-tuning "
            f"{settings['finetune_epochs']} epochs on L at lr {finetune_lr:g}")
        with sweep.model_run(f"{name}/finetune", settings["finetune_epochs"], finetune_lr, k=k, p=p) as finetune:
            result = finetune.train(sweep.teacher_data, initial_weights=result["model"].get_weights())
            metrics, predictions = finetune.finish(result, sweep.teacher_data)
            comparison = compare(*sweep.teacher(), metrics.test_accuracy, predictions == data.y_test)
            row = finetune.save_row(row_of(
                "student", metrics, comparison, name=name, k=k, p=p,
                **{key: finite_or_none(value) if key == "precision" else value for key, value in summary.items()},
                pretrain_images_per_epoch=size, pretrained_test_accuracy=pretrained.test_accuracy,
                steps=pretrained.optimizer_steps + metrics.optimizer_steps,
                train_time_s=pretrained.train_time_s + metrics.train_time_s))
            finetune.complete(settings["quick"])
        pretrain.complete(settings["quick"])
    log(f"{name}: fine-tuned student test {report.percent(row.test_accuracy)}% "
        f"({report.points(row.gain_vs_teacher)} points against the teacher, McNemar p {report.p_value(row.mcnemar_p)})")
    return row


def row_of(model: str, metrics, comparison: dict | None = None, **fields) -> TeacherStudentRow:
    """The row of the teacher, the ceiling or a student (``fields``: its K, P, selection and pre-training)."""
    empty = {key: None for key in ("k", "p", "pairs", "images", "multi_class_images", "correct", "precision",
                                   "short_classes", "pretrain_images_per_epoch", "pretrained_test_accuracy",
                                   "gain_vs_teacher", "mcnemar_b", "mcnemar_c", "mcnemar_p")}
    base = {"name": model, "model": model, "test_accuracy": metrics.test_accuracy,
            "val_accuracy": metrics.val_accuracy, "train_images": metrics.train_images,
            "steps": metrics.optimizer_steps, "train_time_s": metrics.train_time_s}
    return TeacherStudentRow(**{**empty, **base, **(comparison or {}), **fields})


def compare(teacher, teacher_correct: np.ndarray, accuracy: float, correct: np.ndarray) -> dict:
    """The gain over the teacher (its row or metrics) in test accuracy, with the exact McNemar test on the same test images."""
    test = paired_test(correct, teacher_correct)
    return {"gain_vs_teacher": accuracy - teacher.test_accuracy, "mcnemar_b": test.a_right_b_wrong,
            "mcnemar_c": test.b_right_a_wrong, "mcnemar_p": test.p_value}
