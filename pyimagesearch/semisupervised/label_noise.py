"""Mahajan et al.'s label-noise experiment, at small scale: LeNet-5 trained with p% of its labels replaced.

For every p, a fresh LeNet-5 (same seed, same initial weights) trains on the
training split with ``noise.replace_labels``'s labels: exactly round(p n)
labels changed, each to a random other class, nested across p. Validation
and test labels stay clean. Besides the test accuracy, the trained model is
scored on the training images: against the noisy labels (how much noise it
fitted) and, on the changed images, against their true labels (how much it
corrected).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.semisupervised.conclusions import against
from pyimagesearch.semisupervised.noise import replace_labels
from pyimagesearch.records.semisupervised import LabelNoiseResults, LabelNoiseRow
from pyimagesearch.semisupervised.runs import (ExperimentError, ModelRun, PointStore, point_row, point_trial, predict,
                                              run_points, trial_inputs, with_train)
from pyimagesearch.stats import paired_test

# Budgets. Epochs are passes over the training split at --lr and --batch.
FULL = {"noise": (0, 10, 25, 50), "epochs": 10}
QUICK = {"limit": 10_000, "noise": (0, 10, 25, 50), "epochs": 3}

COLUMNS = [("p %", "noise_percent", "g"), ("labels replaced", "changed", ","), ("test %", "test_accuracy", report.percent),
           ("vs p = 0", "drop_vs_clean", report.points), ("McNemar p", "mcnemar_p", report.p_value),
           ("train % (noisy labels)", "train_accuracy", report.percent),
           ("train % (true labels)", "train_accuracy_true", report.percent),
           ("changed: fits noisy %", "changed_fit_noisy", report.percent),
           ("changed: predicts true %", "changed_predict_true", report.percent), ("time s", "train_time_s", ".0f")]
CSV_FIELDS = ["noise_percent", "changed", "train_images", "test_accuracy", "drop_vs_clean", "mcnemar_b", "mcnemar_c",
              "mcnemar_p", "val_accuracy", "train_accuracy", "train_accuracy_true", "changed_fit_noisy",
              "changed_predict_true", "steps", "train_time_s"]


def check_noise(values) -> None:
    bad = [value for value in values if not 0 <= value < 100]
    if bad:
        raise ExperimentError(f"--noise {bad[0]:g} is out of range: p is a percentage of labels replaced, in [0, 100)")


def plan(args, data) -> tuple[dict, dict]:
    """``(settings, config)``: what determines the results, and what config.json adds (the points asked for)."""
    budget = QUICK if args.quick else FULL
    levels = sorted(set(args.noise if args.noise is not None else budget["noise"]))
    check_noise(levels)
    settings = {"experiment": "label-noise", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "epochs": budget["epochs"]}
    return settings, {"points": {"noise_percent": levels}}


def run(args, data, folder_run, log, run_point) -> list[LabelNoiseRow]:
    """Train every noise level not finished before in ``folder_run`` (the experiment's ``RunFolder``).

    The levels are ``core.sweep`` trials run by ``run_point`` (``train_point`` with the
    command's errors); their rows, compared with the clean run's, make the results.
    """
    settings, config = plan(args, data)
    levels, folder = config["points"]["noise_percent"], folder_run.folder
    store = PointStore(folder_run, LabelNoiseResults, [f"noise_{percent:g}" for percent in levels])
    log(f"{len(data.y_train):,} training images, p = {', '.join(f'{p:g}%' for p in levels)}; {settings['epochs']} epochs each")
    trials = [point_trial(f"noise_{percent:g}", folder / "runs" / f"noise_{percent:g}", args, settings,
                          noise_percent=percent) for percent in levels]
    try:
        run_points(trials, run_point, args, folder, log, "label_noise")
    finally:  # the points finished so far, also when one failed
        rows, verdicts = collect(store, trials, data)
        if rows and not store.finished:
            write_outputs(folder, rows, verdicts)
    summary = ", ".join(f"p = {row.noise_percent:g}%: {report.percent(row.test_accuracy)}%" for row in rows)
    store.complete(args.quick, {"test_accuracy": {row.name: row.test_accuracy for row in rows}})
    log(f"test accuracy: {summary}; {'; '.join(verdicts) or 'no clean run (p = 0) to compare with'}; results in {folder}")
    return rows


def collect(store, trials, data) -> tuple[list[LabelNoiseRow], list[str]]:
    """The rows of the finished levels, each compared with the clean run's when there is one (stored), and the
    verdicts of those comparisons on the same test images ("p = 25% against p = 0%")."""
    rows, verdicts, clean_correct = [], [], None
    for trial in trials:
        row = point_row(store, trial, LabelNoiseRow)
        if row is None:
            continue
        percent = row.noise_percent
        correct = np.load(Path(trial.folder) / "test_predictions.npy") == data.y_test
        if percent == 0:
            clean_correct, clean = correct, row
        if clean_correct is not None and percent > 0:
            test = paired_test(correct, clean_correct)
            row = replace(row, drop_vs_clean=row.test_accuracy - clean.test_accuracy, mcnemar_b=test.a_right_b_wrong,
                          mcnemar_c=test.b_right_a_wrong, mcnemar_p=test.p_value)
            verdicts.append(against(correct, clean_correct, (f"p = {percent:g}%", "p = 0%")))
        rows.append(store.put(row))
    return rows, verdicts


def train_point(trial) -> None:
    """A noise level's trial: its model trained into the trial's folder, its row left there."""
    settings, point, data, log = trial_inputs(trial)
    train_level(settings, data, point["noise_percent"], Path(trial.folder), log)


def train_level(settings: dict, data, percent: float, run_dir: Path, log) -> LabelNoiseRow:
    """Train the model of noise level ``percent`` in ``run_dir``; its row, saved there."""
    noisy, changed = replace_labels(data.y_train, percent, data.num_classes, settings["seed"])
    prefix = f"p = {percent:g}%"
    noisy_data = with_train(data, data.x_train, noisy)
    with ModelRun(run_dir, prefix, {**settings, "noise_percent": percent}, log) as model_run:
        log(f"{prefix}: {len(changed):,} of {len(noisy):,} training labels replaced; training {settings['epochs']} epochs")
        result = model_run.train(noisy_data)
        metrics, _ = model_run.finish(result, noisy_data, {"noise_percent": percent, "changed": len(changed)})
        predicted = predict(result["model"], data.x_train)
        fit = float(np.mean(predicted[changed] == noisy[changed])) if len(changed) else None
        corrected = float(np.mean(predicted[changed] == data.y_train[changed])) if len(changed) else None
        row = model_run.save_row(LabelNoiseRow(
            name=run_dir.name, noise_percent=percent, changed=len(changed), train_images=len(noisy),
            test_accuracy=metrics.test_accuracy, val_accuracy=metrics.val_accuracy,
            train_accuracy=metrics.train_accuracy, train_time_s=metrics.train_time_s, steps=metrics.optimizer_steps,
            train_accuracy_true=float(np.mean(predicted == data.y_train)), changed_fit_noisy=fit,
            changed_predict_true=corrected, drop_vs_clean=None, mcnemar_b=None, mcnemar_c=None, mcnemar_p=None))
        model_run.complete(settings["quick"])
    log(f"{prefix}: test {report.percent(row.test_accuracy)}%, training accuracy on the noisy labels "
        f"{report.percent(row.train_accuracy)}%")
    return row


def write_outputs(folder: Path, rows: list[LabelNoiseRow], verdicts: list[str]) -> None:
    rows = [row.to_json() for row in rows]
    write_csv(folder / "results.csv", rows, CSV_FIELDS)
    notes = ["p% of the training labels replaced, each by a random other class (never itself); validation and test "
             "labels clean. \"vs p = 0\": change in test accuracy against the clean run, in points; McNemar p: exact "
             "test of the two on the same test images. \"changed\": the training images whose label was replaced.", "",
             "**Against the clean run**, on the same test images (nothing is chosen here: every p is reported):", "",
             *([f"- {sentence}" for sentence in verdicts] or ["- no clean run (p = 0) among the points"])]
    report.write_markdown(folder / "results.md", "Label noise: LeNet-5 on Fashion-MNIST", COLUMNS, rows, notes)
    plots.save(plots.accuracy_vs_noise(rows), folder / "accuracy_vs_noise.png")
