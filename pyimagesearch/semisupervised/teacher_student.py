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
runs at a tenth of the LR, or, with several factors given, at each, keeping
the one of the highest validation accuracy. Since U's labels are known here,
the precision of the pseudo-labels is measured too. The models are trained by
``teacher_student_runs``, each as a trial of its own.

Every choice is made on the validation split (``conclusions``): the fine-tuning
LR factor of each student, and the best student of the sweep; the test images
give the reported figures once the choices are made, and every "student against
teacher" sentence is the exact McNemar verdict on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.core.run import RunFolderError
from pyimagesearch.lenet.data import CLASS_NAMES
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.records.semisupervised import SelectionRow, TeacherStudentResults, TeacherStudentRow
from pyimagesearch.semisupervised.runs import (VAL_PREDICTIONS, ExperimentError, PointStore, finite_or_none, point_row,
                                              point_trial, run_points)
from pyimagesearch.semisupervised.selection import balanced_quota, labelled_split, per_class_precision, select_top_k
from pyimagesearch.semisupervised.conclusions import SPLIT_DISCIPLINE, Choice, against, choose_on_validation, k_sweep_caveat
from pyimagesearch.semisupervised.teacher_student_runs import SCORES_FILE, finetune_factors, finetune_folder, student_point

# Budgets. Epochs are passes over each run's training set (pre-training: |U| pairs) at --batch, and at --lr
# except fine-tuning, at a factor x --lr chosen per student on validation among finetune_lr_factors: a tenth, the
# usual reduction for fine-tuning a pre-trained network, and the full LR (an early comparison of the two recorded
# no split, so it decides nothing; every run now makes that choice on its validation images);
# --finetune-lr-factors LIST sets the candidates (one: no choice). K defaults to the values below |U| / C and
# |U| / C itself, the most U allows.
FULL = {"labelled": 5000, "k": (100, 300, 1000, 2000, 3000), "p": (1, 2, 3), "teacher_epochs": 30,
        "pretrain_epochs": 5, "finetune_epochs": 10, "finetune_lr_factors": (0.1, 1.0), "ceiling_epochs": 10}
QUICK = {"limit": 10_000, "labelled": 1000, "k": (100, 300), "p": (1, 2), "teacher_epochs": 15,
         "pretrain_epochs": 3, "finetune_epochs": 5, "finetune_lr_factors": (0.1, 1.0), "ceiling_epochs": 3}

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
    factors = list(args.finetune_lr_factors or budget["finetune_lr_factors"])
    finetune_lr = args.lr * min(factors)
    if finetune_lr < np.finfo(np.float32).tiny:
        raise ExperimentError(f"--lr {args.lr:g} makes the fine-tuning LR {finetune_lr:.3g}, below what a float32 "
                              "holds; raise --lr")
    settings = {"experiment": "teacher-student", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "labelled": labelled_size,
                **{key: value for key, value in budget.items()
                   if key not in ("k", "p", "labelled", "limit", "finetune_lr_factors")}}
    if len(factors) == 1:
        settings["finetune_lr_factor"] = factors[0]
    else:  # several factors are a choice, made per student on validation
        settings["finetune_lr_factors"] = factors
    return settings, {"points": {"k": ks, "p": ps}}


def run(args, data, folder_run, log, run_point) -> list[TeacherStudentRow]:
    """Train the teacher, then the ceiling and every student not finished before in ``folder_run``.

    Each model is a ``core.sweep`` trial run by ``run_point``
    (``teacher_student_runs.train_point`` with the command's errors): the
    teacher first, alone; its scores for U, on disk, give every student its
    selection; the ceiling and the students then run side by side where the executor allows.
    """
    settings, config = plan(args, data)
    ks, ps, folder = config["points"]["k"], config["points"]["p"], folder_run.folder
    names = ["teacher", "ceiling", *(f"student_k{k}_p{p}" for k in ks for p in ps)]
    store = PointStore(folder_run, TeacherStudentResults, names)
    labelled, unlabelled = labelled_split(data.y_train, settings["labelled"], data.num_classes, args.seed)
    hidden = data.y_train[unlabelled]  # U's true labels: never trained on, only used to measure the selection
    log(f"L: {len(labelled):,} labelled images, class-balanced; U: {len(unlabelled):,} unlabelled; "
        f"K {', '.join(map(str, ks))}; P {', '.join(map(str, ps))}; {len(data.y_test):,} test images")
    runs_dir, where = folder / "runs", {"folder": os.path.abspath(folder)}

    # 1-2. The teacher, trained on L, and its scores for U.
    teacher_trial = point_trial("teacher", runs_dir / "teacher", args, settings, model="teacher", **where)
    run_points([teacher_trial], run_point, args, folder, log, "teacher")
    teacher = store.put(point_row(store, teacher_trial, TeacherStudentRow))
    scores_path = folder / SCORES_FILE
    if not scores_path.is_file():
        raise RunFolderError(f"{scores_path} is missing though the teacher's run finished; pass --overwrite to train "
                             "the experiment again")
    scores = np.load(scores_path)

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

    # The ceiling (L + U with their true labels) and one student per (K, P), pre-trained on the selection, fine-tuned on L.
    point = student_point(finetune_factors(settings))
    trials = [point_trial("ceiling", runs_dir / "ceiling", args, settings, model="ceiling", **where)]
    trials += [point_trial(f"student_k{k}_p{p}", runs_dir / f"student_k{k}_p{p}" / point, args, settings,
                           runs_dir / f"student_k{k}_p{p}", model="student", k=k, p=p, **where) for k, p in selections]
    try:
        run_points(trials, run_point, args, folder, log, "students")
    finally:  # the models finished so far, also when one failed
        finished = [row for trial in trials if (row := point_row(store, trial, TeacherStudentRow)) is not None]
        ceiling, students = next((row for row in finished if row.model == "ceiling"), None), []
        for row in finished:
            store.put(row)
            if row.model == "student":
                students.append(row)
        most = len(unlabelled) // data.num_classes
        found = Findings.of(folder, data, settings, ceiling, students, most) if ceiling and students else None
        if found and not store.finished:
            write_outputs(folder, teacher, ceiling, students, len(labelled), len(unlabelled), len(data.y_test), found)
    best, choice = found.best, found.choice
    store.complete(args.quick, {"teacher": teacher.test_accuracy, "best_student": best.name,
                                "best_student_chosen_on": "validation", "best_student_val_accuracy": choice.accuracy,
                                "best_student_accuracy": best.test_accuracy, "ceiling": ceiling.test_accuracy})
    log(f"teacher {report.percent(teacher.test_accuracy)}%; {choice.sentence('best student')}; its test accuracy "
        f"{report.percent(best.test_accuracy)}%; ceiling {report.percent(ceiling.test_accuracy)}% (test); "
        f"results in {folder}")
    return students


def label(row) -> str:
    """A student's name in sentences: "student K 300, P 2"."""
    return f"student K {row.k}, P {row.p}"


def best_student(students: list[TeacherStudentRow], val_scores: dict, images: int, classes: int):
    """``(row, Choice)``: the student of the highest validation accuracy, chosen from ``val_scores`` alone.

    ``val_scores``: each student's name -> its validation correctness (or accuracy) on the ``images``
    validation images. Only the names and these scores reach the choice; the rows' test figures are
    looked up for the one chosen, after it is chosen.
    """
    names = {label(row): row.name for row in students}
    choice = choose_on_validation([(name, val_scores[key]) for name, key in names.items()], images, 1 / classes)
    return next(row for row in students if row.name == names[choice.name]), choice


def validation_scores(folder: Path, data, settings: dict, students: list[TeacherStudentRow]) -> dict:
    """Each student's validation correctness from its chosen fine-tuning's predictions (a run written before they
    were saved: its validation accuracy)."""
    factors, scores = finetune_factors(settings), {}
    for row in students:
        path = folder / "runs" / row.name / finetune_folder(factors, row.finetune_lr_factor or factors[0]) / VAL_PREDICTIONS
        scores[row.name] = np.load(path) == data.y_val if path.is_file() else row.val_accuracy
    return scores


@dataclass(frozen=True)
class Findings:
    """What results.md concludes: the best student chosen on validation, the verdicts on test, the K sweep's reach."""

    best: TeacherStudentRow
    choice: Choice
    verdicts: list[str]
    caveat: str | None
    factors: list[float]  # the fine-tuning LR factors: one set, or several chosen from on validation

    @classmethod
    def of(cls, folder: Path, data, settings: dict, ceiling, students, most_k: int) -> "Findings":
        best, choice = best_student(students, validation_scores(folder, data, settings, students), len(data.y_val),
                                    data.num_classes)
        factors = finetune_factors(settings)

        def correct(run: str):
            return np.load(folder / "runs" / run / "test_predictions.npy") == data.y_test

        teacher_correct = correct("teacher")
        verdicts = [against(correct("ceiling"), teacher_correct, ("ceiling", "teacher"))]
        verdicts += [against(correct(f"{row.name}/{finetune_folder(factors, row.finetune_lr_factor or factors[0])}"),
                             teacher_correct, (label(row), "teacher")) for row in students]
        return cls(best, choice, verdicts, k_sweep_caveat(students, settings["quick"], most_k), factors)


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
                  n_test: int, found: Findings):
    """results.csv/.md with every model and what they conclude (``found``), and the two figures, from the rows so far."""
    teacher, ceiling, best, labels = teacher.to_json(), ceiling.to_json(), found.best, list(map(label, students))
    students = with_added_precision([row.to_json() for row in students])
    title = (f"Teacher/student on Fashion-MNIST: |L| = {n_labelled:,}, |U| = {n_unlabelled:,}; teacher "
             f"{report.percent(teacher['test_accuracy'])}%, ceiling (L + U, true labels) {report.percent(ceiling['test_accuracy'])}%")
    notes = [f"Test accuracy on {n_test:,} test images. \"vs teacher\": fine-tuned student minus teacher, in points; "
             "McNemar p: exact test of the two on the same test images. Precision: share of selected pairs whose "
             "class is the image's hidden true class; added pairs' precision: the same for the pairs this K adds to "
             "the previous K of the same P (ranked K_prev + 1 to K in their class).", "", SPLIT_DISCIPLINE, "",
             f"{found.choice.sentence('**Best student**')}. Its test accuracy, read once after the choice: "
             f"{report.percent(best.test_accuracy)}%.", ""]
    if len(found.factors) == 1:
        notes += [f"**Fine-tuning LR factor**: {found.factors[0]:g} x --lr for every student, set before the run and "
                  "not chosen on any split (--finetune-lr-factors LIST tries several and chooses per student on "
                  "validation).", ""]
    else:
        notes += [f"**Fine-tuning LR factor**, per student, among {', '.join(f'{f:g}' for f in found.factors)}:", ""]
        notes += [f"- {name}: {row['finetune_choice']}" for name, row in zip(labels, students)] + [""]
    notes += [f"**Against the teacher**, on the same {n_test:,} test images:", ""]
    notes += [f"- {sentence}" for sentence in found.verdicts]
    if found.caveat:
        notes += ["", f"**Figure 5**: {found.caveat}"]
    write_csv(folder / "results.csv", [teacher, ceiling, *students], CSV_FIELDS)
    report.write_markdown(folder / "results.md", title, COLUMNS, students, notes)
    plots.save(plots.accuracy_vs_k(students, teacher, ceiling, note=found.caveat), folder / "accuracy_vs_k.png")
    plots.save(plots.precision_vs_k(students), folder / "precision_vs_k.png")
