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

from pathlib import Path

import numpy as np

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import write_csv
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.semisupervised.noise import replace_labels
from pyimagesearch.semisupervised.runs import finish_run, open_store, predict, train_model, with_train
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
        raise UserError(f"--noise {bad[0]:g} is out of range: p is a percentage of labels replaced, in [0, 100)")


def run(args, data, folder: Path, log) -> list[dict]:
    budget = QUICK if args.quick else FULL
    levels = sorted(set(args.noise if args.noise is not None else budget["noise"]))
    check_noise(levels)
    settings = {"experiment": "label-noise", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "epochs": budget["epochs"]}
    store = open_store(folder, settings, args, data, {"noise_percent": levels})
    log(f"{len(data.y_train):,} training images, p = {', '.join(f'{p:g}%' for p in levels)}; {budget['epochs']} epochs each")
    rows, clean_correct = [], None
    for index, percent in enumerate(levels, start=1):
        name = f"noise_{percent:g}"
        prefix = f"[{index}/{len(levels)}] p = {percent:g}%"
        row = store.get(name)
        if row:
            log(f"{prefix}: kept from an earlier run (test {report.percent(row['test_accuracy'])}%)")
        else:
            noisy, changed = replace_labels(data.y_train, percent, data.num_classes, args.seed)
            log(f"{prefix}: {len(changed):,} of {len(noisy):,} training labels replaced; training {budget['epochs']} epochs")
            noisy_data = with_train(data, data.x_train, noisy)
            run_dir = folder / "runs" / name
            result = train_model(f"p = {percent:g}%", noisy_data, run_dir, log, lr=args.lr, batch=args.batch,
                                 epochs=budget["epochs"], seed=args.seed)
            metrics, _ = finish_run(result, noisy_data, run_dir, {"noise_percent": percent, "changed": len(changed)})
            predicted = predict(result["model"], data.x_train)
            row = {"noise_percent": percent, "changed": len(changed), "train_images": len(noisy),
                   **{key: metrics[key] for key in ("test_accuracy", "val_accuracy", "train_accuracy", "train_time_s")},
                   "steps": metrics["optimizer_steps"],
                   "train_accuracy_true": float(np.mean(predicted == data.y_train)),
                   "changed_fit_noisy": float(np.mean(predicted[changed] == noisy[changed])) if len(changed) else None,
                   "changed_predict_true": float(np.mean(predicted[changed] == data.y_train[changed])) if len(changed) else None}
            row = store.put(name, row)
            log(f"{prefix}: test {report.percent(row['test_accuracy'])}%, training accuracy on the noisy labels "
                f"{report.percent(row['train_accuracy'])}%")
        correct = np.load(folder / "runs" / name / "test_predictions.npy") == data.y_test
        if percent == 0:
            clean_correct, clean = correct, row
        if clean_correct is not None and percent > 0:
            test = paired_test(correct, clean_correct)
            row = {**row, "drop_vs_clean": row["test_accuracy"] - clean["test_accuracy"], "mcnemar_b": test.a_right_b_wrong,
                   "mcnemar_c": test.b_right_a_wrong, "mcnemar_p": test.p_value}
        rows.append(row)
        write_outputs(folder, rows)
    summary = ", ".join(f"p = {row['noise_percent']:g}%: {report.percent(row['test_accuracy'])}%" for row in rows)
    log(f"test accuracy: {summary}; results in {folder}")
    return rows


def write_outputs(folder: Path, rows: list[dict]) -> None:
    write_csv(folder / "results.csv", rows, CSV_FIELDS)
    notes = ["p% of the training labels replaced, each by a random other class (never itself); validation and test "
             "labels clean. \"vs p = 0\": change in test accuracy against the clean run, in points; McNemar p: exact "
             "test of the two on the same test images. \"changed\": the training images whose label was replaced."]
    report.write_markdown(folder / "results.md", "Label noise: LeNet-5 on Fashion-MNIST", COLUMNS, rows, notes)
    plots.save(plots.accuracy_vs_noise(rows), folder / "accuracy_vs_noise.png")
