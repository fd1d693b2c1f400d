"""Yalniz et al.'s teacher/student semi-supervised learning, at small scale on Fashion-MNIST.

1. Split the training split into a class-balanced labelled set L and the
   unlabelled rest U (labels hidden from training).
2. Train the teacher on L; score U with it (softmax).
3. For each (K, P): select the top K images per class, each image considered
   for its P best classes (``selection.py``), labelled by the class whose
   list they come from.
4. Pre-train a fresh student on that set, then fine-tune it on L.
5. The ceiling: a model trained on L + U with the true labels.

Every pre-training epoch shows |U| pairs (the selection repeated, the last
copy a seeded sample), so every K and P gets the same number of optimizer
steps: K changes what the student sees, not how long it trains. Fine-tuning
runs at a tenth of the LR. Since U's labels are known here, the precision of
the pseudo-labels is measured too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.lenet.data import CLASS_NAMES
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.semisupervised.resampling import resampled_indices
from pyimagesearch.records.semisupervised import SelectionRow, TeacherStudentResults, TeacherStudentRow
from pyimagesearch.semisupervised.runs import (ExperimentError, ModelRun, PointStore, finite_or_none, save_array,
                                              scores_of, with_train)
from pyimagesearch.semisupervised.selection import (balanced_quota, labelled_split, per_class_precision,
                                                    select_top_k, selection_summary)
from pyimagesearch.stats import paired_test

# Budgets. Epochs are passes over each run's training set (pre-training: |U| pairs) at --batch, and at --lr
# except fine-tuning, at finetune_lr_factor x --lr (a tenth did better than the full LR for K = 1000 and 4000 here).
# K defaults to the values below |U| / C and |U| / C itself, the most U allows.
FULL = {"labelled": 5000, "k": (100, 300, 1000, 2000, 3000), "p": (1, 2, 3), "teacher_epochs": 30,
        "pretrain_epochs": 5, "finetune_epochs": 10, "finetune_lr_factor": 0.1, "ceiling_epochs": 10}
QUICK = {"limit": 10_000, "labelled": 1000, "k": (100, 300), "p": (1, 2), "teacher_epochs": 15,
         "pretrain_epochs": 3, "finetune_epochs": 5, "finetune_lr_factor": 0.1, "ceiling_epochs": 3}

COLUMNS = [("K", "k", "d"), ("P", "p", "d"), ("pairs", "pairs", ","), ("images", "images", ","),
           ("in >1 class", "multi_class_images", ","), ("precision %", "precision", report.percent),
           ("added pairs' precision %", "added_precision", report.percent),
           ("student pre-trained %", "pretrained_test_accuracy", report.percent),
           ("student fine-tuned %", "test_accuracy", report.percent),
           ("vs teacher", "gain_vs_teacher", report.points), ("McNemar p", "mcnemar_p", report.p_value),
           ("steps", "steps", ","), ("time s", "train_time_s", ".0f")]
CSV_FIELDS = ["model", "k", "p", "pairs", "images", "multi_class_images", "correct", "precision", "added_precision",
              "short_classes",
              "pretrain_images_per_epoch", "pretrained_test_accuracy", "test_accuracy", "gain_vs_teacher",
              "mcnemar_b", "mcnemar_c", "mcnemar_p", "val_accuracy", "train_images", "steps", "train_time_s"]


def check_inputs(data, labelled: int, ks, ps) -> None:
    """Refuse a labelled set, K or P the data cannot give (one sentence each)."""
    n_train, classes = len(data.y_train), data.num_classes
    if not 0 < labelled < n_train:
        raise ExperimentError(f"--labelled {labelled} must be between 1 and {n_train - 1:,}: the training split holds "
                        f"{n_train:,} images and U must keep some")
    quota, available = balanced_quota(labelled, classes), np.bincount(data.y_train, minlength=classes)
    if np.any(available < quota):
        c = int(np.flatnonzero(available < quota)[0])
        raise ExperimentError(f"--labelled {labelled} needs {quota[c]} images of class {CLASS_NAMES[c]} but the training split "
                        f"holds {available[c]}; lower --labelled or raise --limit")
    most = (n_train - labelled) // classes
    bad_k = [k for k in ks if not 1 <= k <= most]
    if bad_k:
        raise ExperimentError(f"--k {bad_k[0]} is out of range: U holds {n_train - labelled:,} images for {classes} classes, "
                        f"so K must be between 1 and {most:,}")
    bad_p = [p for p in ps if not 1 <= p <= classes]
    if bad_p:
        raise ExperimentError(f"--p {bad_p[0]} is out of range: an image has {classes} classes, so P must be between 1 and {classes}")


def plan(args, data) -> tuple[dict, dict]:
    """``(settings, config)``: what determines the results, and what config.json adds (the K and P asked for)."""
    budget = QUICK if args.quick else FULL
    labelled_size = budget["labelled"] if args.labelled is None else args.labelled
    most = (len(data.y_train) - labelled_size) // data.num_classes
    ks = args.k or [k for k in budget["k"] if k < most] + [most]
    ps = args.p or list(budget["p"])
    check_inputs(data, labelled_size, ks, ps)
    finetune_lr = args.lr * budget["finetune_lr_factor"]
    if finetune_lr < np.finfo(np.float32).tiny:
        raise ExperimentError(f"--lr {args.lr:g} makes the fine-tuning LR {finetune_lr:.3g}, below what a float32 "
                              "holds; raise --lr")
    settings = {"experiment": "teacher-student", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "labelled": labelled_size,
                **{key: value for key, value in budget.items() if key not in ("k", "p", "labelled", "limit")}}
    return settings, {"points": {"k": ks, "p": ps}}


@dataclass
class Sweep:
    """What every model of a sweep shares."""

    data: object  # the FashionMNIST splits
    unlabelled: np.ndarray  # U: indices into data.x_train
    teacher_data: object  # the splits with L as the training set
    settings: dict
    store: PointStore
    folder: Path
    log: Callable

    def model_run(self, name: str, epochs: int, lr: float | None = None, **extra) -> ModelRun:
        settings = {**self.settings, "model": name, "epochs": epochs, "lr": lr or self.settings["lr"], **extra}
        return ModelRun(self.folder / "runs" / name, name, settings, self.log)


def run(args, data, folder_run, log) -> list[TeacherStudentRow]:
    """Train the teacher, the ceiling and every student not finished before in ``folder_run``."""
    settings, config = plan(args, data)
    ks, ps, folder = config["points"]["k"], config["points"]["p"], folder_run.folder
    names = ["teacher", "ceiling", *(f"student_k{k}_p{p}" for k in ks for p in ps)]
    store = PointStore(folder_run, TeacherStudentResults, names)
    labelled, unlabelled = labelled_split(data.y_train, settings["labelled"], data.num_classes, args.seed)
    hidden = data.y_train[unlabelled]  # U's true labels: never trained on, only used to measure the selection
    teacher_data = with_train(data, data.x_train[labelled], data.y_train[labelled])
    sweep = Sweep(data, unlabelled, teacher_data, settings, store, folder, log)
    log(f"L: {len(labelled):,} labelled images, class-balanced; U: {len(unlabelled):,} unlabelled; "
        f"K {', '.join(map(str, ks))}; P {', '.join(map(str, ps))}; {len(data.y_test):,} test images")
    total = 2 + len(ks) * len(ps)

    # 1-2. The teacher, trained on L, and its scores for U.
    scores_path, predictions_path = folder / "teacher_scores.npy", folder / "runs" / "teacher" / "test_predictions.npy"
    teacher = store.get("teacher") if scores_path.exists() and predictions_path.exists() else None
    if teacher:
        log(f"[1/{total}] teacher: kept from an earlier run (test {report.percent(teacher.test_accuracy)}%)")
    else:
        log(f"[1/{total}] teacher: {settings['teacher_epochs']} epochs on L ({len(labelled):,} images)")
        with sweep.model_run("teacher", settings["teacher_epochs"]) as model_run:
            result = model_run.train(teacher_data)
            metrics, _ = model_run.finish(result, teacher_data)
            save_array(scores_path, scores_of(result["model"], data.x_train[unlabelled]))
            teacher = store.put(row_of("teacher", metrics))
            model_run.complete(args.quick)
    scores = np.load(scores_path)
    teacher_correct = np.load(predictions_path) == data.y_test

    # The ceiling: L + U with their true labels, the whole training split.
    ceiling = store.get("ceiling")
    if ceiling:
        log(f"[2/{total}] ceiling: kept from an earlier run (test {report.percent(ceiling.test_accuracy)}%)")
    else:
        log(f"[2/{total}] ceiling: {settings['ceiling_epochs']} epochs on L + U with true labels ({len(data.y_train):,} images)")
        with sweep.model_run("ceiling", settings["ceiling_epochs"]) as model_run:
            result = model_run.train(data)
            metrics, predictions = model_run.finish(result, data)
            ceiling = store.put(row_of("ceiling", metrics, compare(teacher, teacher_correct, metrics.test_accuracy,
                                                                   predictions == data.y_test)))
            model_run.complete(args.quick)

    # 3. What every selection holds, measured with the hidden labels (no training needed).
    selections = {(k, p): select_top_k(scores, k, p) for k in ks for p in ps}
    rows = [SelectionRow(k=k, p=p, class_index=row["class"], class_name=CLASS_NAMES[row["class"]],
                         candidates=row["candidates"], selected=row["selected"], correct=row["correct"],
                         precision=finite_or_none(row["precision"]))
            for (k, p), selection in selections.items() for row in per_class_precision(selection, hidden)]
    if not store.finished:
        store.put_selection(rows)
        write_csv(folder / "selection.csv", [row.csv_row() for row in rows],
                  ["k", "p", "class", "class_name", "candidates", "selected", "correct", "precision"])

    # 4. One student per (K, P): pre-trained on the selection, fine-tuned on L.
    students = []
    for index, ((k, p), selection) in enumerate(selections.items(), start=3):
        name = f"student_k{k}_p{p}"
        row = store.get(name)
        if row:
            log(f"[{index}/{total}] {name}: kept from an earlier run (test {report.percent(row.test_accuracy)}%)")
        else:
            row = train_student(sweep, name, k, p, selection, selection_summary(selection, hidden, k),
                                (teacher, teacher_correct), f"[{index}/{total}]")
        students.append(row)
        if not store.finished:
            write_outputs(folder, teacher, ceiling, students, len(labelled), len(unlabelled), len(data.y_test))
    best = max(students, key=lambda r: r.test_accuracy)
    store.complete(args.quick, {"teacher": teacher.test_accuracy, "best_student": best.name,
                                "best_student_accuracy": best.test_accuracy, "ceiling": ceiling.test_accuracy})
    log(f"teacher {report.percent(teacher.test_accuracy)}%, best student {report.percent(best.test_accuracy)}% "
        f"(K {best.k}, P {best.p}), ceiling {report.percent(ceiling.test_accuracy)}%; results in {folder}")
    return students


def train_student(sweep: Sweep, name: str, k: int, p: int, selection, summary: dict, baseline, prefix: str):
    """Pre-train a fresh student on the selected pairs, fine-tune it on L; its row, stored.

    The pre-training run keeps its last checkpoint until the student's row is
    stored, so a student killed while fine-tuning starts again from the same
    pre-trained weights.
    """
    data, unlabelled, settings, log = sweep.data, sweep.unlabelled, sweep.settings, sweep.log
    size = len(unlabelled)  # >= the pairs, since K <= |U| / C
    rng = np.random.default_rng([settings["seed"], k, p])
    # Whole copies of the selection plus a seeded sample of the rest: each pair appears size // pairs or one more times.
    pair_order = resampled_indices(np.zeros(selection.pairs, dtype=np.int64), np.array([size]), rng)
    x_pretrain = data.x_train[unlabelled[selection.images[pair_order]]]
    y_pretrain = selection.labels[pair_order]
    log(f"{prefix} {name}: {summary['pairs']:,} pairs ({summary['images']:,} images, {summary['multi_class_images']:,} "
        f"in more than one class), pseudo-label precision {report.percent(summary['precision'])}%; pre-training "
        f"{settings['pretrain_epochs']} epochs of {size:,} pairs")
    pretrain_data = with_train(data, data.x_train[unlabelled[selection.images]], selection.labels)
    finetune_lr = settings["lr"] * settings["finetune_lr_factor"]
    with sweep.model_run(f"{name}/pretrain", settings["pretrain_epochs"], k=k, p=p) as pretrain:
        result = pretrain.train(with_train(data, x_pretrain, y_pretrain))
        pretrained, _ = pretrain.finish(result, pretrain_data)
        log(f"{prefix} {name}: pre-trained student test {report.percent(pretrained.test_accuracy)}%; fine-tuning "
            f"{settings['finetune_epochs']} epochs on L at lr {finetune_lr:g}")
        with sweep.model_run(f"{name}/finetune", settings["finetune_epochs"], finetune_lr, k=k, p=p) as finetune:
            result = finetune.train(sweep.teacher_data, initial_weights=result["model"].get_weights())
            metrics, predictions = finetune.finish(result, sweep.teacher_data)
            teacher, teacher_correct = baseline
            comparison = compare(teacher, teacher_correct, metrics.test_accuracy, predictions == data.y_test)
            row = sweep.store.put(row_of(
                "student", metrics, comparison, name=name, k=k, p=p,
                **{key: finite_or_none(value) if key == "precision" else value for key, value in summary.items()},
                pretrain_images_per_epoch=size, pretrained_test_accuracy=pretrained.test_accuracy,
                steps=pretrained.optimizer_steps + metrics.optimizer_steps,
                train_time_s=pretrained.train_time_s + metrics.train_time_s))
            finetune.complete(settings["quick"])
        pretrain.complete(settings["quick"])
    log(f"{prefix} {name}: fine-tuned student test {report.percent(row.test_accuracy)}% "
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


def compare(teacher: TeacherStudentRow, teacher_correct: np.ndarray, accuracy: float, correct: np.ndarray) -> dict:
    """The gain over the teacher in test accuracy, with the exact McNemar test on the same test images."""
    test = paired_test(correct, teacher_correct)
    return {"gain_vs_teacher": accuracy - teacher.test_accuracy, "mcnemar_b": test.a_right_b_wrong,
            "mcnemar_c": test.b_right_a_wrong, "mcnemar_p": test.p_value}


def with_added_precision(students: list[dict]) -> list[dict]:
    """Each row with ``added_precision``: the precision of the pairs its K adds to the next smaller K of the same P.

    The first K of a P adds all its pairs. This is the quality of what a larger K brings in, which decides
    whether growing K still helps.
    """
    previous: dict[int, dict] = {}
    extended = {}
    for row in sorted(students, key=lambda r: (r["p"], r["k"])):
        before = previous.get(row["p"], {"pairs": 0, "correct": 0})
        added = row["pairs"] - before["pairs"]
        extended[(row["k"], row["p"])] = {**row, "added_precision": (row["correct"] - before["correct"]) / added
                                          if added else None}
        previous[row["p"]] = row
    return [extended[(row["k"], row["p"])] for row in students]


def write_outputs(folder: Path, teacher: dict, ceiling: dict, students: list[dict], n_labelled: int, n_unlabelled: int,
                  n_test: int):
    """results.csv/.md with every model, and the two figures, from the rows so far."""
    teacher, ceiling = teacher.to_json(), ceiling.to_json()
    students = with_added_precision([row.to_json() for row in students])
    title = (f"Teacher/student on Fashion-MNIST: |L| = {n_labelled:,}, |U| = {n_unlabelled:,}; teacher "
             f"{report.percent(teacher['test_accuracy'])}%, ceiling (L + U, true labels) {report.percent(ceiling['test_accuracy'])}%")
    notes = [f"Test accuracy on {n_test:,} test images. \"vs teacher\": fine-tuned student minus teacher, in points; "
             "McNemar p: exact test of the two on the same test images. Precision: share of selected pairs whose "
             "class is the image's hidden true class; added pairs' precision: the same for the pairs this K adds to "
             "the previous K of the same P (ranked K_prev + 1 to K in their class)."]
    write_csv(folder / "results.csv", [teacher, ceiling, *students], CSV_FIELDS)
    report.write_markdown(folder / "results.md", title, COLUMNS, students, notes)
    plots.save(plots.accuracy_vs_k(students, teacher, ceiling), folder / "accuracy_vs_k.png")
    plots.save(plots.precision_vs_k(students), folder / "precision_vs_k.png")
