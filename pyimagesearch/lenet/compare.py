"""Two finished LeNet-5 runs, or two ``--seeds`` folders, compared: ``comparison.md``, ``.json`` and ``.png``.

What the comparison may conclude follows from what was measured:

- per seed, the two models are scored on the same 10,000 test images, so
  they are compared image by image with the exact McNemar test
  (``stats.mcnemar_exact``), not as two independent samples;
- across seeds, the mean difference in test accuracy and in the
  generalization gap gets a 95% t interval (runs paired by seed); with one
  seed the spread between seeds is not measured and the text says so;
- runs that differ in epochs, optimizer steps or training images seen are
  called confounded;
- against a ``--policy fixed`` baseline, the iterations the other run needs
  to reach the baseline's final validation accuracy (Smith 2017, Table 1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json, save_figure, write_json, write_text
from pyimagesearch.stats import mean_and_sd, paired_test, t_interval

COMPARISON_DIR = "output/comparison"
CONFIDENCE = 0.95
ALPHA = 0.05  # significance level of the per-seed McNemar test
SMITH_TABLE_1 = "Smith 2017, Table 1: 25,000 against 70,000 iterations on CIFAR-10, 2.8x"

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
    """One finished run: its ``metrics.json``, seed, history and per-image test correctness, or a ``UserError``."""
    from pyimagesearch.core.history import read_history
    from pyimagesearch.lenet.training import read_test_correct

    folder = Path(folder)
    metrics = read_json(folder / "metrics.json", what="metrics file")
    config = read_json(folder / "config.json", what="config file")
    missing = [key for _, key, _ in COMPARISON_ROWS if not isinstance(metrics, dict) or metrics.get(key) is None]
    if missing:
        raise UserError(f"{folder / 'metrics.json'} lacks {', '.join(missing)}; rerun train_lenet.py into {folder}")
    name = config.get("description") or config.get("policy") or folder.name
    history = read_history(folder / "history.csv") if (folder / "history.csv").exists() else []
    metrics = {**metrics, "images_seen": metrics["epochs"] * metrics.get("train_images", 0)}
    return {"folder": str(folder), "name": name, "policy": config.get("policy", folder.name), "seed": config.get("seed"),
            "metrics": metrics, "history": history, "correct": read_test_correct(folder)}


def read_side(folder: str | os.PathLike) -> dict[str, Any]:
    """A single run folder, or a ``--seeds`` folder (its ``metrics.json`` lists the seeds): ``{"folder", "name", "policy", "runs"}``."""
    from pyimagesearch.lenet.seeds import is_seed_aggregate, seed_folder

    folder = Path(folder)
    metrics = read_json(folder / "metrics.json", what="metrics file")
    folders = [seed_folder(folder, seed) for seed in metrics["seeds"]] if is_seed_aggregate(metrics) else [folder]
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


def compare_sides(a: dict[str, Any], b: dict[str, Any], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Every number the comparison's paragraph rests on (the content of ``comparison.json``'s verdict)."""
    pairs = pair_runs(a, b)
    per_seed = []
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
    side_stats = {}
    for label, index in (("A", 0), ("B", 1)):
        runs = [pair[index] for pair in pairs]
        side_stats[label] = {key: dict(zip(("mean", "sd"), mean_and_sd([run["metrics"][key] for run in runs])))
                             for key in ("test_accuracy", "generalization_gap")}
    budget_a, budget_b = per_seed[0]["budget_a"], per_seed[0]["budget_b"]
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
        "test_difference": t_interval([row["test_difference"] for row in per_seed], confidence).to_dict(),
        "gap_difference": t_interval([row["gap_difference"] for row in per_seed], confidence).to_dict(),
        "budget": {"A": budget_a, "B": budget_b},
        "budget_differs": [label for label, key in BUDGET if budget_a[key] != budget_b[key]],
        "smith": smith,
        "alpha": ALPHA,
    }


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def _names(a: dict, b: dict) -> tuple[str, str]:
    if a["policy"] != b["policy"]:
        return a["policy"], b["policy"]
    return f"A ({a['policy']})", f"B ({b['policy']})"


def _budget_text(budget: dict[str, int]) -> str:
    return f"{budget['epochs']} epochs, {budget['optimizer_steps']:,} optimizer steps and {budget['images_seen']:,} training images"


def comparison_paragraph(a: dict[str, Any], b: dict[str, Any], verdict: dict[str, Any]) -> str:
    """The paragraph of ``comparison.md``: it claims only what the paired tests and the intervals support."""
    name_a, name_b = _names(a, b)
    n = len(verdict["per_seed"])
    sentences = []
    budget = verdict["budget"]
    if verdict["budget_differs"]:
        sentences.append(
            f"The runs differ in {' and '.join(verdict['budget_differs'])} ({name_a}: {_budget_text(budget['A'])}; "
            f"{name_b}: {_budget_text(budget['B'])}), so the comparison is confounded: a difference may come from "
            "the budget as much as from the policy.")
    else:
        sentences.append(f"Both ran {_budget_text(budget['A'])}.")

    test, gap, sides = verdict["test_difference"], verdict["gap_difference"], verdict["sides"]
    if n >= 2:
        level = f"{100 * test['confidence']:.0f}%"
        sentences.append(
            f"Test accuracy is {sides['A']['test_accuracy']['mean']:.4f} +- {sides['A']['test_accuracy']['sd']:.4f} for "
            f"{name_a} and {sides['B']['test_accuracy']['mean']:.4f} +- {sides['B']['test_accuracy']['sd']:.4f} for {name_b} "
            f"(mean +- standard deviation over {n} seeds); {name_a} minus {name_b} is {_points(test['mean'])} points, "
            f"{level} t interval {_points(test['low'])} to {_points(test['high'])}: "
            + (f"no difference in test accuracy detected with {n} seeds." if test["low"] <= 0 <= test["high"]
               else f"{name_a if test['mean'] > 0 else name_b} is more accurate over these {n} seeds."))
    else:
        row = verdict["per_seed"][0]
        sentences.append(
            f"Test accuracy is {row['test_accuracy_a']:.4f} for {name_a} and {row['test_accuracy_b']:.4f} for {name_b} "
            f"({_points(row['test_difference'])} points) from one run each: the spread between seeds, often larger than "
            "such a difference, is not measured (train both with --seeds 3).")

    tests = [row["mcnemar"] for row in verdict["per_seed"]]
    if all(tests):
        images = tests[0]["images"]
        if n == 1:
            t = tests[0]
            sentences.append(
                f"On the same {images:,} test images the exact McNemar test gives p = {t['p_value']:.2g} "
                f"({t['a_right_b_wrong']} images right only with {name_a}, {t['b_right_a_wrong']} only with {name_b}): "
                + ("the test set does not detect a difference." if t["p_value"] >= ALPHA
                   else "the test set detects a difference for this seed, which does not say it holds for other seeds."))
        else:
            below = sum(t["p_value"] < ALPHA for t in tests)
            values = ", ".join(f"{t['p_value']:.2g}" for t in tests)
            sentences.append(f"On the same {images:,} test images the exact McNemar test gives p < {ALPHA:g} in {below} "
                             f"of {n} seeds (p = {values}).")
    else:
        sentences.append("The exact McNemar test needs each run's test_predictions.npz, which some of these runs lack; "
                         "train them again to get it.")

    if n >= 2:
        sentences.append(
            f"The generalization gap (training minus test accuracy) is {_points(sides['A']['generalization_gap']['mean'])} "
            f"points for {name_a} and {_points(sides['B']['generalization_gap']['mean'])} for {name_b}; the difference is "
            f"{_points(gap['mean'])} points, {100 * gap['confidence']:.0f}% t interval {_points(gap['low'])} to "
            f"{_points(gap['high'])}: "
            + (f"no difference in generalization detected with {n} seeds." if gap["low"] <= 0 <= gap["high"]
               else f"{name_a if gap['mean'] < 0 else name_b} has the smaller gap over these {n} seeds."))
    else:
        row = verdict["per_seed"][0]
        sentences.append(
            f"The generalization gap (training minus test accuracy) is {_points(row['gap_a'])} points for {name_a} and "
            f"{_points(row['gap_b'])} for {name_b}; with one seed there is no interval for the difference, so no claim "
            "about generalization is made.")

    if verdict["smith"] and verdict["smith"]["runs"]:
        sentences.append(smith_sentence(verdict["smith"], name_a, name_b))
    return " ".join(sentences)


def smith_sentence(smith: dict[str, Any], name_a: str, name_b: str) -> str:
    """Iterations the non-baseline run needs to reach the fixed-LR baseline's final validation accuracy."""
    baseline, other = (name_a, name_b) if smith["baseline"] == "A" else (name_b, name_a)
    parts = []
    for run in smith["runs"]:
        where = f"in seed {run['seed']} " if len(smith["runs"]) > 1 else ""
        if run["iterations"]:
            parts.append(f"{where}after {run['iterations']:,} iterations (epoch {run['epoch']}) against the baseline's "
                         f"{run['baseline_iterations']:,} and final {run['target_val_accuracy']:.4f}, {run['ratio']:.2f}x fewer")
        else:
            parts.append(f"{where}not within its run (the baseline's final {run['target_val_accuracy']:.4f} after "
                         f"{run['baseline_iterations']:,} iterations)")
    ratios = [run["ratio"] for run in smith["runs"] if run["ratio"]]
    mean = (f"; {sum(ratios) / len(ratios):.2f}x fewer on average over the {len(ratios)} seeds that reach it"
            if len(ratios) > 1 else "")
    return (f"Against the fixed-LR baseline ({baseline}), {other} first reaches the baseline's final validation accuracy "
            + "; ".join(parts) + mean + " (validation accuracy is measured at the end of each epoch, so the count is "
            f"rounded up to an epoch; {SMITH_TABLE_1}).")


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

    a, b = read_side(dir_a), read_side(dir_b)
    text, verdict = comparison_markdown(a, b)
    write_text(folder / "comparison.md", text)
    pairs = pair_runs(a, b)
    table = {label: {"A": [pair[0]["metrics"][key] for pair in pairs], "B": [pair[1]["metrics"][key] for pair in pairs]}
             for label, key, _ in COMPARISON_ROWS}
    write_json(folder / "comparison.json", {"A": a["folder"], "B": b["folder"], "table": table, "verdict": verdict})
    name_a, name_b = _names(a, b)
    sides = {name_a: [pair[0]["history"] for pair in pairs if pair[0]["history"]],
             name_b: [pair[1]["history"] for pair in pairs if pair[1]["history"]]}
    if all(sides.values()):
        axes = plot_comparison(sides, title=f"{a['name']}  vs  {b['name']}")
        save_figure(axes[0][0].figure, folder / "comparison.png")
    return verdict
