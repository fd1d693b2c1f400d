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

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import write_csv
from pyimagesearch.lenet.data import CLASS_NAMES
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.semisupervised.resampling import resampled_indices
from pyimagesearch.semisupervised.runs import finish_run, open_store, save_array, scores_of, train_model, with_train
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
        raise UserError(f"--labelled {labelled} must be between 1 and {n_train - 1:,}: the training split holds "
                        f"{n_train:,} images and U must keep some")
    quota, available = balanced_quota(labelled, classes), np.bincount(data.y_train, minlength=classes)
    if np.any(available < quota):
        c = int(np.flatnonzero(available < quota)[0])
        raise UserError(f"--labelled {labelled} needs {quota[c]} images of class {CLASS_NAMES[c]} but the training split "
                        f"holds {available[c]}; lower --labelled or raise --limit")
    most = (n_train - labelled) // classes
    bad_k = [k for k in ks if not 1 <= k <= most]
    if bad_k:
        raise UserError(f"--k {bad_k[0]} is out of range: U holds {n_train - labelled:,} images for {classes} classes, "
                        f"so K must be between 1 and {most:,}")
    bad_p = [p for p in ps if not 1 <= p <= classes]
    if bad_p:
        raise UserError(f"--p {bad_p[0]} is out of range: an image has {classes} classes, so P must be between 1 and {classes}")


@dataclass
class Sweep:
    """What every student of a sweep shares."""

    data: object  # the FashionMNIST splits
    unlabelled: np.ndarray  # U: indices into data.x_train
    teacher_data: object  # the splits with L as the training set
    teacher: dict
    teacher_correct: np.ndarray  # per test image
    budget: dict
    train: dict  # lr, batch, seed
    folder: Path
    log: Callable


def run(args, data, folder: Path, log) -> list[dict]:
    budget = QUICK if args.quick else FULL
    labelled_size = budget["labelled"] if args.labelled is None else args.labelled
    most = (len(data.y_train) - labelled_size) // data.num_classes
    ks = args.k or [k for k in budget["k"] if k < most] + [most]
    ps = args.p or list(budget["p"])
    check_inputs(data, labelled_size, ks, ps)
    settings = {"experiment": "teacher-student", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "labelled": labelled_size,
                **{key: value for key, value in budget.items() if key not in ("k", "p", "labelled", "limit")}}
    store = open_store(folder, settings, args, data, {"k": ks, "p": ps})
    train = {"lr": args.lr, "batch": args.batch, "seed": args.seed}

    labelled, unlabelled = labelled_split(data.y_train, labelled_size, data.num_classes, args.seed)
    hidden = data.y_train[unlabelled]  # U's true labels: never trained on, only used to measure the selection
    teacher_data = with_train(data, data.x_train[labelled], data.y_train[labelled])
    log(f"L: {len(labelled):,} labelled images, class-balanced; U: {len(unlabelled):,} unlabelled; "
        f"K {', '.join(map(str, ks))}; P {', '.join(map(str, ps))}; {len(data.y_test):,} test images")
    total = 2 + len(ks) * len(ps)

    # 1-2. The teacher, trained on L, and its scores for U.
    scores_path, predictions_path = folder / "teacher_scores.npy", folder / "runs" / "teacher" / "test_predictions.npy"
    teacher = store.get("teacher") if scores_path.exists() and predictions_path.exists() else None
    if teacher:
        log(f"[1/{total}] teacher: kept from an earlier run (test {report.percent(teacher['test_accuracy'])}%)")
        scores = np.load(scores_path)
    else:
        log(f"[1/{total}] teacher: {budget['teacher_epochs']} epochs on L ({len(labelled):,} images)")
        run_dir = folder / "runs" / "teacher"
        result = train_model("the teacher", teacher_data, run_dir, log, epochs=budget["teacher_epochs"], **train)
        metrics, _ = finish_run(result, teacher_data, run_dir)
        scores = scores_of(result["model"], data.x_train[unlabelled])
        save_array(scores_path, scores)
        teacher = store.put("teacher", row_of("teacher", metrics))
    teacher_correct = np.load(predictions_path) == data.y_test

    # The ceiling: L + U with their true labels, the whole training split.
    ceiling = store.get("ceiling")
    if ceiling:
        log(f"[2/{total}] ceiling: kept from an earlier run (test {report.percent(ceiling['test_accuracy'])}%)")
    else:
        log(f"[2/{total}] ceiling: {budget['ceiling_epochs']} epochs on L + U with true labels ({len(data.y_train):,} images)")
        run_dir = folder / "runs" / "ceiling"
        result = train_model("the ceiling", data, run_dir, log, epochs=budget["ceiling_epochs"], **train)
        metrics, predictions = finish_run(result, data, run_dir)
        ceiling = {**row_of("ceiling", metrics), **compare(teacher, teacher_correct, metrics, predictions == data.y_test)}
        ceiling = store.put("ceiling", ceiling)

    # 3. What every selection holds, measured with the hidden labels (no training needed).
    selections = {(k, p): select_top_k(scores, k, p) for k in ks for p in ps}
    write_csv(folder / "selection.csv",
              [{"k": k, "p": p, "class": row["class"], "class_name": CLASS_NAMES[row["class"]],
                **{key: row[key] for key in ("candidates", "selected", "correct", "precision")}}
               for (k, p), selection in selections.items() for row in per_class_precision(selection, hidden)],
              ["k", "p", "class", "class_name", "candidates", "selected", "correct", "precision"])

    # 4. One student per (K, P): pre-trained on the selection, fine-tuned on L.
    sweep = Sweep(data, unlabelled, teacher_data, teacher, teacher_correct, budget, train, folder, log)
    students = []
    for index, ((k, p), selection) in enumerate(selections.items(), start=3):
        name = f"student_k{k}_p{p}"
        row = store.get(name)
        if row:
            log(f"[{index}/{total}] {name}: kept from an earlier run (test {report.percent(row['test_accuracy'])}%)")
        else:
            row = train_student(sweep, name, k, p, selection, selection_summary(selection, hidden, k), f"[{index}/{total}]")
            row = store.put(name, row)
        students.append(row)
        write_outputs(folder, teacher, ceiling, students, len(labelled), len(unlabelled), len(data.y_test))
    best = max(students, key=lambda r: r["test_accuracy"])
    log(f"teacher {report.percent(teacher['test_accuracy'])}%, best student {report.percent(best['test_accuracy'])}% "
        f"(K {best['k']}, P {best['p']}), ceiling {report.percent(ceiling['test_accuracy'])}%; results in {folder}")
    return students


def train_student(sweep: Sweep, name: str, k: int, p: int, selection, summary: dict, prefix: str) -> dict:
    """Pre-train a fresh student on the selected pairs, fine-tune it on L; its result row."""
    data, unlabelled, budget, train, log = sweep.data, sweep.unlabelled, sweep.budget, sweep.train, sweep.log
    size = len(unlabelled)  # >= the pairs, since K <= |U| / C
    rng = np.random.default_rng([train["seed"], k, p])
    # Whole copies of the selection plus a seeded sample of the rest: each pair appears size // pairs or one more times.
    pair_order = resampled_indices(np.zeros(selection.pairs, dtype=np.int64), np.array([size]), rng)
    x_pretrain = data.x_train[unlabelled[selection.images[pair_order]]]
    y_pretrain = selection.labels[pair_order]
    log(f"{prefix} {name}: {summary['pairs']:,} pairs ({summary['images']:,} images, {summary['multi_class_images']:,} "
        f"in more than one class), pseudo-label precision {report.percent(summary['precision'])}%; pre-training "
        f"{budget['pretrain_epochs']} epochs of {size:,} pairs")
    run_dir = sweep.folder / "runs" / name
    pretrain_data = with_train(data, data.x_train[unlabelled[selection.images]], selection.labels)
    result = train_model(f"{name} (pre-training)", with_train(data, x_pretrain, y_pretrain), run_dir / "pretrain", log,
                         epochs=budget["pretrain_epochs"], **train)
    pretrained, _ = finish_run(result, pretrain_data, run_dir / "pretrain")
    finetune = {**train, "lr": train["lr"] * budget["finetune_lr_factor"]}
    log(f"{prefix} {name}: pre-trained student test {report.percent(pretrained['test_accuracy'])}%; fine-tuning "
        f"{budget['finetune_epochs']} epochs on L at lr {finetune['lr']:g}")
    result = train_model(f"{name} (fine-tuning)", sweep.teacher_data, run_dir / "finetune", log,
                         epochs=budget["finetune_epochs"], initial_weights=result["model"].get_weights(), **finetune)
    metrics, predictions = finish_run(result, sweep.teacher_data, run_dir / "finetune")
    row = {**row_of("student", metrics), "k": k, "p": p, **summary, "pretrain_images_per_epoch": size,
           "pretrained_test_accuracy": pretrained["test_accuracy"],
           "steps": pretrained["optimizer_steps"] + metrics["optimizer_steps"],
           "train_time_s": pretrained["train_time_s"] + metrics["train_time_s"],
           **compare(sweep.teacher, sweep.teacher_correct, metrics, predictions == data.y_test)}
    log(f"{prefix} {name}: fine-tuned student test {report.percent(row['test_accuracy'])}% "
        f"({report.points(row['gain_vs_teacher'])} points against the teacher, McNemar p {report.p_value(row['mcnemar_p'])})")
    return row


def row_of(model: str, metrics: dict) -> dict:
    return {"model": model, "test_accuracy": metrics["test_accuracy"], "val_accuracy": metrics["val_accuracy"],
            "train_images": metrics["train_images"], "steps": metrics["optimizer_steps"],
            "train_time_s": metrics["train_time_s"]}


def compare(teacher: dict, teacher_correct: np.ndarray, metrics: dict, correct: np.ndarray) -> dict:
    """The gain over the teacher in test accuracy, with the exact McNemar test on the same test images."""
    test = paired_test(correct, teacher_correct)
    return {"gain_vs_teacher": metrics["test_accuracy"] - teacher["test_accuracy"], "mcnemar_b": test.a_right_b_wrong,
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
    students = with_added_precision(students)
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
