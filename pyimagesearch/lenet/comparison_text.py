"""The paragraph of ``comparison.md``: it claims only what the verdicts of ``pyimagesearch.verdicts`` say.

``lenet.compare.compare_sides`` computes the verdicts (budget, McNemar per
seed, paired t over seeds) and keeps each one's sentence; the paragraph
here strings them together with the figures they rest on, and says what is
not measured (the spread between seeds of one run each).
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from pyimagesearch.verdicts import ratio_sentence

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


def budget_sentences(verdict: dict[str, Any], name_a: str, name_b: str) -> list[str]:
    """What the runs trained for, and whether that confounds the comparison (``verdicts.budgets_equal``)."""
    budget, steps = verdict["budget"], verdict["verdicts"]["budget"]
    a, b = budget["A"], budget["B"]
    if verdict["budget_differs"]:
        sentences = [f"The runs differ in {' and '.join(verdict['budget_differs'])} ({name_a}: {_budget_text(a)}; "
                     f"{name_b}: {_budget_text(b)}), so the comparison is confounded: a difference may come from the "
                     "budget as much as from the policy."]
    elif a == b:
        return [f"Both ran {_budget_text(a)}."]
    else:
        sentences = [f"Both ran {a['epochs']} epochs and {a['images_seen']:,} training images"
                     + (f" ({b['images_seen']:,} for {name_b})." if a["images_seen"] != b["images_seen"] else ".")]
    if a["optimizer_steps"] != b["optimizer_steps"] and "epochs" not in verdict["budget_differs"]:
        sentences.append(f"In optimizer steps, {steps['sentence']}.")  # why steps do or do not confound
    return sentences


def comparison_paragraph(a: dict[str, Any], b: dict[str, Any], verdict: dict[str, Any]) -> str:
    """The paragraph of ``comparison.md``: it claims only what the verdicts support."""
    name_a, name_b = side_names(a, b)
    n = len(verdict["per_seed"])
    verdicts, sides = verdict["verdicts"], verdict["sides"]
    sentences = budget_sentences(verdict, name_a, name_b)

    if n >= 2:
        sentences.append(
            f"Test accuracy is {sides['A']['test_accuracy']['mean']:.4f} +- {sides['A']['test_accuracy']['sd']:.4f} for "
            f"{name_a} and {sides['B']['test_accuracy']['mean']:.4f} +- {sides['B']['test_accuracy']['sd']:.4f} for {name_b} "
            f"(mean +- standard deviation over {n} seeds): {verdicts['test_accuracy']['sentence']}.")
    else:
        row = verdict["per_seed"][0]
        sentences.append(
            f"Test accuracy is {row['test_accuracy_a']:.4f} for {name_a} and {row['test_accuracy_b']:.4f} for {name_b} "
            f"({_points(row['test_difference'])} points) from one run each: the spread between seeds, often larger than "
            "such a difference, is not measured (train both with --seeds 3).")

    if verdicts["per_seed"]:
        images = verdicts["per_seed"][0]["n"]
        if n == 1:
            test, paired = verdict["per_seed"][0]["mcnemar"], verdicts["per_seed"][0]
            holds = (", for this seed: it does not say the difference holds for other seeds" if paired["outcome"] in
                     ("A ahead", "B ahead") else "")
            sentences.append(
                f"Image by image on the same {images:,} test images ({test['a_right_b_wrong']} images right only with "
                f"{name_a}, {test['b_right_a_wrong']} only with {name_b}): {paired['sentence']}{holds}.")
        else:
            per_seed = "; ".join(f"seed {row['seed_a']}: {paired['sentence']}"
                                 for row, paired in zip(verdict["per_seed"], verdicts["per_seed"]))
            sentences.append(f"Image by image on the same {images:,} test images, seed by seed: {per_seed}.")
    else:
        sentences.append("The exact McNemar test needs each run's test_predictions.npz, which some of these runs lack; "
                         "train them again to get it.")

    if n >= 2:
        gap = verdicts["gap"]
        smaller = {f"{name_a}'s gap": name_b, f"{name_b}'s gap": name_a}.get(_leader(gap))
        sentences.append(
            f"The generalization gap (training minus test accuracy; the larger gap is \"ahead\") over {n} seeds: "
            f"{gap['sentence']}" + (f", so {smaller} has the smaller gap over these {n} seeds." if smaller else "."))
    else:
        row = verdict["per_seed"][0]
        sentences.append(
            f"The generalization gap (training minus test accuracy) is {_points(row['gap_a'])} points for {name_a} and "
            f"{_points(row['gap_b'])} for {name_b}; with one seed there is no interval for the difference, so no claim "
            "about generalization is made.")

    if verdict["smith"] and verdict["smith"]["runs"]:
        sentences.append(smith_sentence(verdict["smith"], name_a, name_b))
    return " ".join(sentences)


def _leader(verdict: dict) -> str | None:
    return {"A ahead": verdict["names"][0], "B ahead": verdict["names"][-1]}.get(verdict["outcome"])


def smith_sentence(smith: dict[str, Any], name_a: str, name_b: str) -> str:
    """Iterations the non-baseline run needs to reach the fixed-LR baseline's final validation accuracy."""
    baseline, other = (name_a, name_b) if smith["baseline"] == "A" else (name_b, name_a)
    parts = []
    for run in smith["runs"]:
        where = f"in seed {run['seed']} " if len(smith["runs"]) > 1 else ""
        if run["iterations"]:
            parts.append(f"{where}at epoch {run['epoch']}, against the baseline's final {run['target_val_accuracy']:.4f}: "
                         + ratio_sentence(run["iterations"], run["baseline_iterations"], "iterations"))
        else:
            parts.append(f"{where}not within its run (the baseline's final {run['target_val_accuracy']:.4f} after "
                         f"{run['baseline_iterations']:,} iterations)")
    reached = [run for run in smith["runs"] if run["iterations"]]
    average = ""
    if len(reached) > 1:
        average = (f"; on average over the {len(reached)} seeds that reach it, "
                   + ratio_sentence(mean(run["iterations"] for run in reached),
                                    mean(run["baseline_iterations"] for run in reached), "iterations"))
    return (f"Against the fixed-LR baseline ({baseline}), {other} first reaches the baseline's final validation accuracy "
            + "; ".join(parts) + average + " (validation accuracy is measured at the end of each epoch, so the count is "
            f"rounded up to an epoch; {SMITH_TABLE_1}).")
