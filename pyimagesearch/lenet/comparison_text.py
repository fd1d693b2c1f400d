"""The paragraph of ``comparison.md``: it claims only what the paired tests and the intervals of the verdict support.

``lenet.compare.compare_sides`` computes the verdict; the sentences here
turn it into text (a confounded budget, the interval over seeds or the lack
of one, the per-seed McNemar tests, Smith's iterations to the baseline).
"""

from __future__ import annotations

from typing import Any

ALPHA = 0.05  # significance level of the per-seed McNemar test
SMITH_TABLE_1 = "Smith 2017, Table 1: 25,000 against 70,000 iterations on CIFAR-10, 2.8x"


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def side_names(a: dict, b: dict) -> tuple[str, str]:
    if a["policy"] != b["policy"]:
        return a["policy"], b["policy"]
    return f"A ({a['policy']})", f"B ({b['policy']})"


def _budget_text(budget: dict[str, int]) -> str:
    return f"{budget['epochs']} epochs, {budget['optimizer_steps']:,} optimizer steps and {budget['images_seen']:,} training images"


def comparison_paragraph(a: dict[str, Any], b: dict[str, Any], verdict: dict[str, Any]) -> str:
    """The paragraph of ``comparison.md``: it claims only what the paired tests and the intervals support."""
    name_a, name_b = side_names(a, b)
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
