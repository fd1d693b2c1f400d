"""The models of the teacher/student sweep (``teacher_student``), each a ``core.sweep`` trial of its own.

- the teacher, on L; it writes its scores for U (``teacher_scores.npy`` of
  the experiment's folder), which every student's trial reads from there;
- the ceiling, on L + U with the true labels;
- one student per (K, P): the selection made again from the teacher's scores,
  pre-trained on it, fine-tuned on L (with several fine-tuning LR factors,
  once at each, the one of the highest validation accuracy kept).

Each trial loads the data and makes the labelled split again (both seeded),
and leaves its row in the folder of its last run (``runs.ROW_FILE``); the
ceiling and the students compare themselves with the teacher's saved test
predictions, after every choice has been made on validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.core.run import completion
from pyimagesearch.records.semisupervised import ModelMetrics, TeacherStudentRow
from pyimagesearch.semisupervised import report
from pyimagesearch.semisupervised.conclusions import against, choose_on_validation
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
        return ModelMetrics.read(teacher_dir), self.correct("teacher", "test")

    def correct(self, run: str, split: str) -> np.ndarray:
        """Which images of ``split`` ("val" or "test") the model of ``runs/<run>/`` gets right, from its predictions."""
        labels = self.data.y_val if split == "val" else self.data.y_test
        return np.load(self.folder / "runs" / run / f"{split}_predictions.npy") == labels


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
    log(f"ceiling: test {report.percent(row.test_accuracy)}%; "
        f"{against(sweep.correct('ceiling', 'test'), sweep.teacher()[1], ('ceiling', 'teacher'))}")
    return row


def train_student(sweep: Sweep, name: str, k: int, p: int, selection, summary: dict) -> TeacherStudentRow:
    """Pre-train a fresh student on the selected pairs, fine-tune it on L; its row, saved with the point's run.

    One fine-tuning LR factor: the fine-tuning run is the point's and holds
    its row. Several (``--finetune-lr-factors``): each fine-tunes the same
    pre-trained weights in ``finetune_x<factor>/``, the student is the one of
    the highest validation accuracy (``conclusions.choose_on_validation``, given
    the validation predictions only), and the pre-training run holds the row.
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
    factors = finetune_factors(settings)

    def student_row(factor: float, metrics, correct: np.ndarray, choice: str | None = None) -> TeacherStudentRow:
        return row_of("student", metrics, compare(*sweep.teacher(), metrics.test_accuracy, correct), name=name, k=k,
                      p=p, **{key: finite_or_none(value) if key == "precision" else value for key, value in summary.items()},
                      pretrain_images_per_epoch=size, pretrained_test_accuracy=pretrained.test_accuracy,
                      steps=pretrained.optimizer_steps + metrics.optimizer_steps,
                      train_time_s=pretrained.train_time_s + metrics.train_time_s, finetune_lr_factor=factor,
                      finetune_choice=choice)

    with sweep.model_run(f"{name}/pretrain", settings["pretrain_epochs"], k=k, p=p) as pretrain:
        result = pretrain.train(with_train(data, x_pretrain, y_pretrain))
        pretrained, _ = pretrain.finish(result, pretrain_data)
        weights = result["model"].get_weights()
        log(f"{name}: pre-trained student test {report.percent(pretrained.test_accuracy)}%; fine-tuning "
            f"{settings['finetune_epochs']} epochs on L at lr {', '.join(format(settings['lr'] * f, 'g') for f in factors)}")
        if len(factors) == 1:
            with sweep.model_run(f"{name}/finetune", settings["finetune_epochs"], settings["lr"] * factors[0], k=k,
                                 p=p) as finetune:
                metrics = fine_tune(finetune, sweep, weights)
                row = finetune.save_row(student_row(factors[0], metrics, sweep.correct(f"{name}/finetune", "test")))
                finetune.complete(settings["quick"])
        else:
            runs = [f"{name}/{finetune_folder(factors, factor)}" for factor in factors]
            tuned = [fine_tuned(sweep, run, factor, weights, k, p) for run, factor in zip(runs, factors)]
            labels = [f"factor {factor:g}" for factor in factors]
            choice = choose_on_validation([(label, sweep.correct(run, "val")) for label, run in zip(labels, runs)],
                                          images=len(data.y_val), chance=1 / data.num_classes)
            chosen = labels.index(choice.name)
            row = pretrain.save_row(student_row(factors[chosen], tuned[chosen], sweep.correct(runs[chosen], "test"),
                                                choice.sentence("fine-tuning LR factor")))
            log(f"{name}: {row.finetune_choice}")
        pretrain.complete(settings["quick"])
    correct = sweep.correct(f"{name}/{finetune_folder(factors, row.finetune_lr_factor)}", "test")
    versus = against(correct, sweep.teacher()[1], (f"student K {k}, P {p}", "teacher"))
    log(f"{name}: fine-tuned student test {report.percent(row.test_accuracy)}% (fine-tuning LR factor "
        f"{row.finetune_lr_factor:g}); {versus}")
    return row


def finetune_factors(settings: dict) -> list[float]:
    """A sweep's fine-tuning LR factors: ``finetune_lr_factor`` alone, or the ``finetune_lr_factors`` to choose from."""
    return list(settings.get("finetune_lr_factors") or [settings["finetune_lr_factor"]])


def student_point(factors: list[float]) -> str:
    """The run, in a student's folder, that finishes its point and holds its row: the last one to complete."""
    return "finetune" if len(factors) == 1 else "pretrain"


def finetune_folder(factors: list[float], factor: float) -> str:
    """The folder, in the student's, of its fine-tuning at ``factor``: ``finetune`` when it is the only one."""
    return "finetune" if len(factors) == 1 else f"finetune_x{factor:g}"


def fine_tune(model_run: ModelRun, sweep: Sweep, weights) -> ModelMetrics:
    """Fine-tune the pre-trained ``weights`` on L in ``model_run``; its metrics (predictions saved beside them)."""
    result = model_run.train(sweep.teacher_data, initial_weights=weights)
    metrics, _ = model_run.finish(result, sweep.teacher_data)
    return metrics


def fine_tuned(sweep: Sweep, run: str, factor: float, weights, k: int, p: int) -> ModelMetrics:
    """The metrics of the fine-tuning in ``runs/<run>/`` at ``factor`` x lr, one of several: trained unless finished."""
    settings = sweep.settings
    if completion(sweep.folder / "runs" / run) is None:
        with sweep.model_run(run, settings["finetune_epochs"], settings["lr"] * factor, k=k, p=p) as model_run:
            fine_tune(model_run, sweep, weights)
            model_run.complete(settings["quick"])
    return ModelMetrics.read(sweep.folder / "runs" / run)


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
