"""Two finished LeNet-5 runs, or two ``--seeds`` folders, compared: ``comparison.md``, ``.json`` and ``.png``.

Every "A is ahead", "tied", budget and ratio sentence comes from ``pyimagesearch.verdicts``,
on the evidence the runs have:

- one seed each, scored on the same 10,000 test images: the exact McNemar test on
  their per-image correctness (``verdicts.compare_paired_images``), per seed;
- several seeds: the paired t interval of the per-seed differences in test accuracy
  and in the generalization gap (``verdicts.compare_seeds``); with one seed the spread
  between seeds is not measured and the text says so;
- budgets: optimizer steps less than one epoch of steps apart are the same budget
  (``verdicts.budgets_equal``); epochs, or steps or images seen one epoch or more apart,
  confound the comparison;
- against a ``--policy fixed`` baseline, the iterations the other run needs to reach the
  baseline's final validation accuracy (Smith 2017, Table 1), as a ratio read the right
  way (``verdicts.ratio_sentence``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json, save_figure, write_text
from pyimagesearch.lenet.comparison_text import ALPHA, comparison_paragraph, side_names
from pyimagesearch.stats import mean_and_sd, paired_test, t_interval
from pyimagesearch.verdicts import budgets_equal, compare_paired_images, compare_seeds

COMPARISON_DIR = "output/comparison"
CONFIDENCE = 0.95

COMPARISON_ROWS = [
    ("final training loss (last epoch)", "final_train_loss", "{:.4f}"),
    ("final training accuracy (last epoch)", "final_train_accuracy", "{:.4f}"),
    ("training accuracy (after training)", "train_accuracy", "{:.4f}"),
    ("validation accuracy", "val_accuracy", "{:.4f}"),
    ("test accuracy", "test_accuracy", "{:.4f}"),
    ("generalization gap (train - test accuracy)", "generalization_gap", "{:+.4f}"),
    ("epochs", "epochs", "{:d}"),
    ("optimizer steps", "optimizer_steps", "{:,d}"),
    ("wall time of training (s)", "train_time_s", "{:.1f}"),
]
BUDGET = (("epochs", "epochs"), ("optimizer steps", "optimizer_steps"), ("images seen", "images_seen"))


def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """One finished run: its metrics (``RunMetrics``), seed, history and per-image test correctness.

    A file that fails its record's validation is a ``RecordError`` naming it
    (a NaN accuracy, a ``history.csv`` without ``val_accuracy``, a truncated
    ``test_predictions.npz``).
    """
    from pyimagesearch.records.lenet import RunMetrics, read_history, read_test_correct

    folder = Path(folder)
    metrics = RunMetrics.read(folder)
    config = read_json(folder / "config.json", what="config file")
    name = config.get("description") or config.get("policy") or folder.name
    history = read_history(folder / "history.csv") if (folder / "history.csv").exists() else []
    values = {key: value for key, value in metrics.to_json().items() if key not in ("kind", "schema")}
    return {"folder": str(folder), "name": name, "policy": metrics.policy, "seed": config.get("seed"),
            "metrics": {**values, "images_seen": metrics.epochs * metrics.train_images}, "history": history,
            "correct": read_test_correct(folder, metrics.test_images)}


def read_side(folder: str | os.PathLike) -> dict[str, Any]:
    """A single run folder, or a ``--seeds`` folder (its ``metrics.json`` lists the seeds): ``{"folder", "name", "policy", "runs"}``."""
    from pyimagesearch.lenet.seeds import seed_folder
    from pyimagesearch.records.lenet import SeedsAggregate, read_metrics

    folder = Path(folder)
    if not (folder / "metrics.json").exists():
        raise UserError(f"metrics file {folder / 'metrics.json'} does not exist; --compare reads finished runs of "
                        "train_lenet.py")
    metrics = read_metrics(folder)
    folders = [seed_folder(folder, seed) for seed in metrics.seeds] if isinstance(metrics, SeedsAggregate) else [folder]
    runs = [read_run(path) for path in folders]
    return {"folder": str(folder), "name": runs[0]["name"], "policy": runs[0]["policy"], "runs": runs}


def pair_runs(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[dict, dict]]:
    """Runs paired by seed; two single runs are paired whatever their seeds."""
    if len(a["runs"]) == 1 and len(b["runs"]) == 1:
        return [(a["runs"][0], b["runs"][0])]
    by_seed = {run["seed"]: run for run in b["runs"]}
    pairs = [(run, by_seed[run["seed"]]) for run in a["runs"] if run["seed"] in by_seed]
    if not pairs:
        raise UserError(f"{a['folder']} and {b['folder']} share no seed; train both with the same --seeds")
    return pairs


def iterations_to_reach(history: list[dict], target: float) -> tuple[int, int] | None:
    """``(iterations, epoch)`` at the end of the first epoch whose validation accuracy is >= ``target``, or None."""
    for row in history:
        if row["val_accuracy"] >= target:
            return int(row["iterations"]), int(row["epoch"])
    return None


def iterations_to_baseline(baseline: dict, other: dict) -> dict[str, Any]:
    """Smith's measure: when ``other`` first reaches ``baseline``'s final validation accuracy, and the ratio of iterations."""
    target = baseline["history"][-1]["val_accuracy"]
    total = int(baseline["history"][-1]["iterations"])
    reached = iterations_to_reach(other["history"], target)
    return {"seed": other["seed"], "target_val_accuracy": target, "baseline_iterations": total,
            "iterations": reached[0] if reached else None, "epoch": reached[1] if reached else None,
            "ratio": total / reached[0] if reached else None}


def _budget(run: dict) -> dict[str, int]:
    return {key: int(run["metrics"][key]) for _, key in BUDGET}


def steps_per_epoch(run: dict) -> int:
    """A run's optimizer steps per epoch (batch-growth: its average over the epochs), at least 1."""
    return max(1, run["metrics"]["optimizer_steps"] // run["metrics"]["epochs"])


def budget_verdicts(run_a: dict, run_b: dict, names: tuple[str, str]) -> tuple[list[str], dict]:
    """What differs between two runs' budgets (the confounds), and the steps verdict (``verdicts.budgets_equal``).

    Optimizer steps count as the same budget when less than one epoch of steps apart, the
    epoch of the run with fewer steps per epoch; images seen likewise within one epoch of
    images; epochs differ when they differ.
    """
    a, b = _budget(run_a), _budget(run_b)
    budget = budgets_equal(a["optimizer_steps"], b["optimizer_steps"], min(steps_per_epoch(run_a), steps_per_epoch(run_b)),
                           names)
    epoch_of_images = min(run_a["metrics"]["train_images"], run_b["metrics"]["train_images"])
    differs = {"epochs": a["epochs"] != b["epochs"], "optimizer steps": not budget.equal,
               "images seen": abs(a["images_seen"] - b["images_seen"]) >= epoch_of_images}
    return [label for label, _ in BUDGET if differs[label]], budget.to_dict()


def compare_sides(a: dict[str, Any], b: dict[str, Any], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Every number the comparison's paragraph rests on (the content of ``comparison.json``'s verdict).

    ``verdicts`` holds each ``pyimagesearch.verdicts`` verdict the paragraph states, with its sentence:
    ``budget``, ``test_accuracy`` (paired t over seeds; one seed each: McNemar), ``gap`` (paired t;
    absent for one seed) and ``per_seed`` (McNemar on the test images, where both runs saved them).
    """
    from pyimagesearch.lenet.comparison_text import side_names

    names = side_names(a, b)
    pairs = pair_runs(a, b)
    per_seed, paired_images = [], []
    for run_a, run_b in pairs:
        ma, mb = run_a["metrics"], run_b["metrics"]
        same_images = (run_a["correct"] is not None and run_b["correct"] is not None
                       and len(run_a["correct"]) == len(run_b["correct"]) == ma["test_images"] == mb["test_images"])
        per_seed.append({
            "seed_a": run_a["seed"], "seed_b": run_b["seed"],
            "test_accuracy_a": ma["test_accuracy"], "test_accuracy_b": mb["test_accuracy"],
            "test_difference": ma["test_accuracy"] - mb["test_accuracy"],
            "gap_a": ma["generalization_gap"], "gap_b": mb["generalization_gap"],
            "gap_difference": ma["generalization_gap"] - mb["generalization_gap"],
            "mcnemar": paired_test(run_a["correct"], run_b["correct"]).to_dict() if same_images else None,
            "budget_a": _budget(run_a), "budget_b": _budget(run_b),
        })
        if same_images:
            paired_images.append(compare_paired_images(run_a["correct"], run_b["correct"], names, ALPHA).to_dict())
    side_stats = {}
    for label, index in (("A", 0), ("B", 1)):
        runs = [pair[index] for pair in pairs]
        side_stats[label] = {key: dict(zip(("mean", "sd"), mean_and_sd([run["metrics"][key] for run in runs])))
                             for key in ("test_accuracy", "generalization_gap")}
    budget_a, budget_b = per_seed[0]["budget_a"], per_seed[0]["budget_b"]
    differs, budget = budget_verdicts(*pairs[0], names)
    seeds = {row["seed_a"]: row for row in per_seed} if len(pairs) > 1 else None
    verdicts = {"budget": budget, "per_seed": paired_images if len(paired_images) == len(pairs) else []}
    if seeds:
        verdicts["test_accuracy"] = compare_seeds({s: r["test_accuracy_a"] for s, r in seeds.items()},
                                                  {s: r["test_accuracy_b"] for s, r in seeds.items()}, names,
                                                  confidence).to_dict()
        verdicts["gap"] = compare_seeds({s: r["gap_a"] for s, r in seeds.items()}, {s: r["gap_b"] for s, r in seeds.items()},
                                        tuple(f"{name}'s gap" for name in names), confidence).to_dict()
    elif verdicts["per_seed"]:
        verdicts["test_accuracy"] = verdicts["per_seed"][0]
    smith = None
    policies = (a["policy"], b["policy"])
    if policies.count("fixed") == 1:
        baseline_index = policies.index("fixed")
        smith = {"baseline": "AB"[baseline_index], "runs": [
            iterations_to_baseline(pair[baseline_index], pair[1 - baseline_index]) for pair in pairs
            if pair[0]["history"] and pair[1]["history"]]}
    return {
        "seeds": [row["seed_a"] if row["seed_a"] == row["seed_b"] else [row["seed_a"], row["seed_b"]] for row in per_seed],
        "per_seed": per_seed,
        "sides": side_stats,
        "test_difference": _interval([row["test_difference"] for row in per_seed], confidence),
        "gap_difference": _interval([row["gap_difference"] for row in per_seed], confidence),
        "budget": {"A": budget_a, "B": budget_b},
        "budget_differs": differs,
        "smith": smith,
        "alpha": ALPHA,
        "verdicts": verdicts,
    }


def _interval(values: list[float], confidence: float) -> dict[str, Any]:
    """``stats.t_interval`` as the comparison record holds it (``low``/``high`` null for one value)."""
    from pyimagesearch.records.lenet import Interval

    return {key: value for key, value in Interval.of(t_interval(values, confidence)).to_json().items()
            if key not in ("kind", "schema")}


def _cell(runs: list[dict], key: str, fmt: str) -> str:
    values = [run["metrics"][key] for run in runs]
    if len(values) == 1 or all(v == values[0] for v in values):
        return fmt.format(values[0])
    mean, sd = mean_and_sd(values)
    if fmt.endswith("d}"):
        return f"{mean:,.1f} +- {sd:,.1f}"
    return f"{fmt.format(mean)} +- {fmt.replace('+', '').format(sd)}"


def comparison_markdown(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``comparison.md`` text for sides ``a`` and ``b`` (from ``read_side``), and the verdict numbers."""
    verdict = compare_sides(a, b)
    pairs = pair_runs(a, b)
    runs_a, runs_b = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    seeds = (f"{len(pairs)} seeds paired by seed ({', '.join(str(s) for s in verdict['seeds'])})" if len(pairs) > 1
             else f"one run each (seed {runs_a[0]['seed']} and seed {runs_b[0]['seed']})")
    lines = [
        f"# {a['policy']} vs {b['policy']}",
        "",
        f"- A: `{a['folder']}`: {a['name']}",
        f"- B: `{b['folder']}`: {b['name']}",
        f"- {seeds}; several seeds are shown as mean +- standard deviation",
        "",
        f"| | A: {a['policy']} | B: {b['policy']} |",
        "|---|---:|---:|",
    ]
    for label, key, fmt in [*COMPARISON_ROWS, ("training images seen", "images_seen", "{:,d}")]:
        lines.append(f"| {label} | {_cell(runs_a, key, fmt)} | {_cell(runs_b, key, fmt)} |")
    lines += ["", comparison_paragraph(a, b, verdict), ""]
    return "\n".join(lines), verdict


def write_comparison(dir_a, dir_b, folder: Path) -> dict[str, Any]:
    """Write ``comparison.md``, ``comparison.json`` and ``comparison.png`` into ``folder``; return the verdict."""
    from pyimagesearch.lenet.plots import plot_comparison
    from pyimagesearch.records.lenet import Comparison

    a, b = read_side(dir_a), read_side(dir_b)
    text, verdict = comparison_markdown(a, b)
    write_text(folder / "comparison.md", text)
    pairs = pair_runs(a, b)
    table = {label: {"A": [pair[0]["metrics"][key] for pair in pairs], "B": [pair[1]["metrics"][key] for pair in pairs]}
             for label, key, _ in COMPARISON_ROWS}
    Comparison.from_json({"A": a["folder"], "B": b["folder"], "table": table, "verdict": verdict},
                         str(folder / Comparison.FILE)).write(folder)
    name_a, name_b = side_names(a, b)
    sides = {name_a: [pair[0]["history"] for pair in pairs if pair[0]["history"]],
             name_b: [pair[1]["history"] for pair in pairs if pair[1]["history"]]}
    if all(sides.values()):
        axes = plot_comparison(sides, title=f"{a['name']}  vs  {b['name']}")
        save_figure(axes[0][0].figure, folder / "comparison.png")
    return verdict
