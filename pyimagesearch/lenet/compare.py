"""Two finished LeNet-5 runs side by side: ``comparison.md`` and ``comparison.json``."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json, write_json, write_text

COMPARISON_DIR = "output/comparison"

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


def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``metrics.json`` and ``config.json`` of a finished run, or a ``UserError``."""
    folder = Path(folder)
    metrics = read_json(folder / "metrics.json", what="metrics file")
    config = read_json(folder / "config.json", what="config file")
    missing = [key for _, key, _ in COMPARISON_ROWS if not isinstance(metrics, dict) or metrics.get(key) is None]
    if missing:
        raise UserError(f"{folder / 'metrics.json'} lacks {', '.join(missing)}; rerun train_lenet.py into {folder}")
    name = config.get("description") or config.get("policy") or folder.name
    return {"folder": str(folder), "name": name, "policy": config.get("policy", folder.name), "metrics": metrics}


def accuracy_standard_error(accuracy: float, images: int) -> float:
    """Binomial standard error of an accuracy measured on ``images`` images: sqrt(p(1-p)/n)."""
    return math.sqrt(accuracy * (1 - accuracy) / images)


def gap_standard_error(metrics: dict[str, Any]) -> float:
    """Standard error of train - test accuracy from the sampling of both sets (taken as independent)."""
    return math.hypot(accuracy_standard_error(metrics["train_accuracy"], metrics["train_images"]),
                      accuracy_standard_error(metrics["test_accuracy"], metrics["test_images"]))


def generalization_verdict(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Compare two runs' generalization gaps against the sampling noise of the accuracies.

    The gaps count as similar when they differ by at most two standard errors
    of the difference, ``2 * sqrt(se_a**2 + se_b**2)`` with ``se`` from
    ``gap_standard_error``. This covers only the finite train and test sets,
    not the spread between seeds, which is usually larger.
    """
    ma, mb = a["metrics"], b["metrics"]
    difference = ma["generalization_gap"] - mb["generalization_gap"]
    threshold = 2 * math.hypot(gap_standard_error(ma), gap_standard_error(mb))
    test_difference = ma["test_accuracy"] - mb["test_accuracy"]
    test_se = math.hypot(accuracy_standard_error(ma["test_accuracy"], ma["test_images"]),
                         accuracy_standard_error(mb["test_accuracy"], mb["test_images"]))
    return {
        "gap_difference": difference,
        "threshold": threshold,
        "similar": abs(difference) <= threshold,
        "test_accuracy_difference": test_difference,
        "test_accuracy_difference_in_se": test_difference / test_se if test_se > 0 else float("inf"),
    }


def _points(value: float) -> str:
    return f"{100 * value:.2f} points"


def comparison_paragraph(a: dict[str, Any], b: dict[str, Any], verdict: dict[str, Any]) -> str:
    """One paragraph computed from the two runs' numbers."""
    ma, mb = a["metrics"], b["metrics"]
    judgement = ("within" if verdict["similar"] else "beyond")
    conclusion = ("so the two policies generalize similarly" if verdict["similar"]
                  else f"so they generalize differently: {a['policy'] if ma['generalization_gap'] < mb['generalization_gap'] else b['policy']} "
                       "has the smaller gap")
    steps_ratio = ma["optimizer_steps"] / mb["optimizer_steps"]
    time_ratio = ma["train_time_s"] / mb["train_time_s"]
    return (
        f"The generalization gap (training minus test accuracy) is {_points(ma['generalization_gap'])} for {a['policy']} "
        f"and {_points(mb['generalization_gap'])} for {b['policy']}: they differ by {_points(abs(verdict['gap_difference']))}, "
        f"{judgement} two standard errors of that difference from the finite training and test sets "
        f"({_points(verdict['threshold'])}), {conclusion}. "
        f"Test accuracy is {ma['test_accuracy']:.4f} against {mb['test_accuracy']:.4f} "
        f"({_points(abs(verdict['test_accuracy_difference']))} apart, "
        f"{abs(verdict['test_accuracy_difference_in_se']):.1f} standard errors). "
        f"{a['policy']} used {ma['optimizer_steps']:,} optimizer steps in {ma['epochs']} epochs against "
        f"{mb['optimizer_steps']:,} in {mb['epochs']} ({steps_ratio:.2f}x) and trained for {ma['train_time_s']:.0f} s "
        f"against {mb['train_time_s']:.0f} s ({time_ratio:.2f}x). "
        "These standard errors cover only the finite training and test sets, not the spread between seeds, "
        "which one pair of runs does not measure."
    )


def comparison_markdown(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``comparison.md`` text for runs ``a`` and ``b`` (from ``read_run``), and the verdict numbers."""
    verdict = generalization_verdict(a, b)
    lines = [
        f"# {a['policy']} vs {b['policy']}",
        "",
        f"- A: `{a['folder']}`: {a['name']}",
        f"- B: `{b['folder']}`: {b['name']}",
        "",
        f"| | A: {a['policy']} | B: {b['policy']} |",
        "|---|---:|---:|",
    ]
    for label, key, fmt in COMPARISON_ROWS:
        lines.append(f"| {label} | {fmt.format(a['metrics'][key])} | {fmt.format(b['metrics'][key])} |")
    lines += ["", comparison_paragraph(a, b, verdict), ""]
    return "\n".join(lines), verdict


def write_comparison(dir_a, dir_b, folder: Path) -> dict[str, Any]:
    """Write ``comparison.md`` and ``comparison.json`` into ``folder``; return the verdict."""
    a, b = read_run(dir_a), read_run(dir_b)
    text, verdict = comparison_markdown(a, b)
    write_text(folder / "comparison.md", text)
    table = {label: {"A": a["metrics"][key], "B": b["metrics"][key]} for label, key, _ in COMPARISON_ROWS}
    write_json(folder / "comparison.json", {"A": a["folder"], "B": b["folder"], "table": table, "verdict": verdict})
    return verdict
