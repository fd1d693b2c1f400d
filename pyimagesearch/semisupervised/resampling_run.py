"""Mahajan et al.'s resampling of a long-tailed label distribution, at small scale on Fashion-MNIST.

The training split is cut to a long tail (``resampling.long_tail_counts``:
geometric, class 0 the most frequent, ``--imbalance`` between the first and
the last class). One fresh LeNet-5 per sampling (natural, square root,
uniform) trains on it; every epoch draws N images anew, N the size of the
long-tailed set, with class shares proportional to n_c, sqrt(n_c) or 1
(``resampling.resampled_indices``, seeded by (seed, sampling, epoch), so a
resumed run draws what an uninterrupted one would). Test images stay class-balanced, so the overall test accuracy
is the mean of the per-class accuracies.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from pyimagesearch.core.outputs import write_csv
from pyimagesearch.lenet.data import CLASS_NAMES
from pyimagesearch.semisupervised import plots, report
from pyimagesearch.semisupervised.conclusions import against
from pyimagesearch.semisupervised.resampling import (LABELS, SAMPLINGS, class_draws, long_tail_counts,
                                                     long_tail_subset, resampled_indices)
from pyimagesearch.records.semisupervised import ResamplingResults, ResamplingRow
from pyimagesearch.semisupervised.runs import (ExperimentError, ModelRun, PointStore, point_row, point_trial,
                                              run_points, trial_inputs, with_train)
from pyimagesearch.stats import paired_test

# Budgets. Epochs are draws of N images (the long-tailed set's size) at --lr and --batch.
FULL = {"epochs": 15}
QUICK = {"limit": 10_000, "epochs": 5}
DEFAULT_IMBALANCE = 100.0
MAX_IMBALANCE = 1e6  # beyond it every tail class keeps its one image at any --limit
EDGE = 3  # classes averaged as "head" and as "tail"

SUMMARY_COLUMNS = [("sampling", "label", "s"), ("test %", "test_accuracy", report.percent),
                   (f"head {EDGE} classes %", "head_accuracy", report.percent),
                   (f"tail {EDGE} classes %", "tail_accuracy", report.percent),
                   ("vs natural", "gain_vs_natural", report.points), ("McNemar p", "mcnemar_p", report.p_value),
                   ("steps", "steps", ","), ("time s", "train_time_s", ".0f")]
CSV_FIELDS = ["sampling", "test_accuracy", "head_accuracy", "tail_accuracy", "gain_vs_natural", "mcnemar_b", "mcnemar_c",
              "mcnemar_p", "val_accuracy", "train_accuracy", "train_images", "steps", "train_time_s", "wall_s",
              *[f"accuracy_{c}" for c in range(len(CLASS_NAMES))], *[f"draws_{c}" for c in range(len(CLASS_NAMES))]]


def plan(args, data) -> tuple[dict, dict]:
    """``(settings, config)``: what determines the results, and what config.json adds (samplings, class counts)."""
    budget = QUICK if args.quick else FULL
    imbalance = DEFAULT_IMBALANCE if args.imbalance is None else args.imbalance
    if not 1 <= imbalance <= MAX_IMBALANCE:
        raise ExperimentError(f"--imbalance {imbalance:g} must be >= 1 and at most {MAX_IMBALANCE:g}: it is the ratio "
                              "of the most to the least frequent class")
    missing = np.flatnonzero(np.bincount(data.y_test, minlength=data.num_classes) == 0)
    if missing.size:
        raise ExperimentError(f"--limit {args.limit} leaves no test image of class {CLASS_NAMES[missing[0]]}, whose "
                              "accuracy this experiment measures; raise --limit")
    samplings = [name for name in SAMPLINGS if name in (args.sampling or SAMPLINGS)]
    settings = {"experiment": "resampling", "quick": args.quick, "seed": args.seed, "limit": args.limit,
                "val_fraction": args.val_fraction, "lr": args.lr, "batch": args.batch, "imbalance": imbalance,
                "epochs": budget["epochs"]}
    return settings, {"points": {"sampling": samplings, "counts": tail_counts(data, imbalance).tolist()}}


def tail_counts(data, imbalance: float) -> np.ndarray:
    n_max = int(np.bincount(data.y_train, minlength=data.num_classes).min())
    return long_tail_counts(n_max, data.num_classes, imbalance)


def run(args, data, folder_run, log, run_point) -> list[ResamplingRow]:
    """Train every sampling not finished before in ``folder_run`` (the experiment's ``RunFolder``).

    The samplings are ``core.sweep`` trials run by ``run_point`` (``train_point`` with the
    command's errors); their rows, compared with natural sampling's, make the results.
    """
    settings, config = plan(args, data)
    samplings, folder, imbalance = config["points"]["sampling"], folder_run.folder, settings["imbalance"]
    counts = tail_counts(data, imbalance)
    total = int(counts.sum())
    store = PointStore(folder_run, ResamplingResults, samplings)
    log(f"long-tailed training set: {total:,} images, {counts[0]:,} of {CLASS_NAMES[0]} down to {counts[-1]:,} of "
        f"{CLASS_NAMES[-1]} (imbalance {imbalance:g}); {settings['epochs']} epochs of {total:,} draws each")
    trials = [point_trial(sampling, folder / "runs" / sampling, args, settings, sampling=sampling)
              for sampling in samplings]
    try:
        run_points(trials, run_point, args, folder, log, "resampling")
    finally:  # the samplings finished so far, also when one failed
        rows, verdicts = collect(store, trials, data)
        if rows and not store.finished:
            write_outputs(folder, rows, verdicts, counts, imbalance)
    store.complete(args.quick, {"test_accuracy": {row.name: row.test_accuracy for row in rows}})
    log("; ".join([*(f"{row.label}: test {report.percent(row.test_accuracy)}%, tail {report.percent(row.tail_accuracy)}%"
                     for row in rows), *verdicts]) + f"; results in {folder}")
    return rows


def collect(store, trials, data) -> tuple[list[ResamplingRow], list[str]]:
    """The rows of the finished samplings, each compared with natural sampling's when it is there (stored), and
    the verdicts of those comparisons on the same test images ("uniform against natural")."""
    rows, verdicts, natural_correct = [], [], None
    for trial in trials:
        row = point_row(store, trial, ResamplingRow)
        if row is None:
            continue
        correct = np.load(Path(trial.folder) / "test_predictions.npy") == data.y_test
        if row.sampling == "natural":
            natural_correct, natural = correct, row
        elif natural_correct is not None:
            test = paired_test(correct, natural_correct)
            row = replace(row, gain_vs_natural=row.test_accuracy - natural.test_accuracy,
                          mcnemar_b=test.a_right_b_wrong, mcnemar_c=test.b_right_a_wrong, mcnemar_p=test.p_value)
            verdicts.append(against(correct, natural_correct, (f"{row.label} sampling", "natural sampling")))
        rows.append(store.put(row))
    return rows, verdicts


def train_point(trial) -> None:
    """A sampling's trial: the long-tailed set drawn again (seeded), its model trained into the trial's folder."""
    settings, point, data, log = trial_inputs(trial)
    sampling, counts = point["sampling"], tail_counts(data, settings["imbalance"])
    subset = long_tail_subset(data.y_train, counts, settings["seed"])
    draws = class_draws(counts, sampling, int(counts.sum()))
    log(f"{LABELS[sampling]} sampling: draws per epoch {', '.join(f'{m:,}' for m in draws)}")
    train_sampling(sampling, draws, data.x_train[subset], data.y_train[subset], data, settings, Path(trial.folder), log)


def train_sampling(sampling, draws, x_tail, y_tail, data, settings, run_dir: Path, log) -> ResamplingRow:
    """Train one model, drawing a new resampled epoch each epoch; its row, saved in ``run_dir``."""
    started = time.perf_counter()

    def draw(epoch: int):
        rng = np.random.default_rng([settings["seed"], SAMPLINGS.index(sampling), epoch])
        order = resampled_indices(y_tail, draws, rng)
        return x_tail[order], y_tail[order]

    tail_data = with_train(data, x_tail, y_tail)
    with ModelRun(run_dir, f"{LABELS[sampling]} sampling", {**settings, "sampling": sampling}, log) as model_run:
        result = model_run.train(tail_data, epoch_data=draw)
        metrics, predictions = model_run.finish(result, tail_data, {"sampling": sampling})
        per_class = [float(np.mean(predictions[data.y_test == c] == c)) for c in range(data.num_classes)]
        row = model_run.save_row(ResamplingRow(
            name=sampling, sampling=sampling, label=LABELS[sampling], test_accuracy=metrics.test_accuracy,
            head_accuracy=float(np.mean(per_class[:EDGE])), tail_accuracy=float(np.mean(per_class[-EDGE:])),
            per_class=per_class, draws=[int(m) for m in draws], val_accuracy=metrics.val_accuracy,
            train_accuracy=metrics.train_accuracy, train_images=len(y_tail), steps=metrics.optimizer_steps,
            train_time_s=metrics.train_time_s, wall_s=time.perf_counter() - started, gain_vs_natural=None,
            mcnemar_b=None, mcnemar_c=None, mcnemar_p=None))
        model_run.complete(settings["quick"])
    log(f"{LABELS[sampling]} sampling: test {report.percent(row.test_accuracy)}%, tail {report.percent(row.tail_accuracy)}%")
    return row


def csv_row(row: ResamplingRow) -> dict:
    """A row of results.csv: the record's fields with one column per class for the accuracy and the draws."""
    return {**row.to_json(), **{f"accuracy_{c}": value for c, value in enumerate(row.per_class)},
            **{f"draws_{c}": m for c, m in enumerate(row.draws)}}


def write_outputs(folder: Path, rows: list[ResamplingRow], verdicts: list[str], counts: np.ndarray,
                  imbalance: float) -> None:
    """results.csv (one row per sampling), per_class.csv, results.md (both tables) and per_class_accuracy.png."""
    rows = [csv_row(row) for row in rows]
    write_csv(folder / "results.csv", rows, CSV_FIELDS)
    per_class = [{"class": c, "class_name": name, "images": int(counts[c]),
                  **{f"{row['sampling']}_draws": row["draws"][c] for row in rows},
                  **{f"{row['sampling']}_accuracy": row["per_class"][c] for row in rows}}
                 for c, name in enumerate(CLASS_NAMES)]
    write_csv(folder / "per_class.csv", per_class, list(per_class[0]))
    columns = [("class", "class_name", "s"), ("training images", "images", ",")]
    for row in rows:
        columns += [(f"{row['label']}: draws/epoch", f"{row['sampling']}_draws", ","),
                    (f"{row['label']}: test %", f"{row['sampling']}_accuracy", report.percent)]
    title = f"Resampling a long-tailed Fashion-MNIST (imbalance {imbalance:g}, {int(counts.sum()):,} training images)"
    notes = ["Per class, test accuracy on its 1,000 test images (fewer with --limit). \"vs natural\": change in "
             "overall test accuracy against natural sampling, in points; McNemar p: exact test on the same test images.",
             "", "**Against natural sampling**, on the same test images (nothing is chosen here: every sampling is "
             "reported):", "", *([f"- {sentence}" for sentence in verdicts] or ["- natural sampling is not among the points"]),
             "", "## Per class", "", report.markdown_table(columns, per_class)]
    report.write_markdown(folder / "results.md", title, SUMMARY_COLUMNS, rows, notes)
    plots.save(plots.per_class_accuracy(rows, CLASS_NAMES, counts), folder / "per_class_accuracy.png")
