"""summary.md of a transfer-learning sweep: every run, the best LR per mode, the winner, the comparison."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import prepare_dir, read_json, write_text
from pyimagesearch.transfer.settings import MODE_NAMES, MODES


def load_finished_runs(folder: Path) -> list[dict]:
    """metrics.json of every run folder in ``folder``, ordered by mode and LR."""
    runs = [read_json(path, "metrics file") for path in sorted(Path(folder).glob("*/metrics.json"))]
    return sorted(runs, key=lambda m: (m["mode"], m["lr"]))


def _score(metrics: dict) -> tuple[float, float]:
    final = metrics.get("final_val_accuracy")
    best = metrics.get("best_val_accuracy")
    return (-math.inf if final is None else final, -math.inf if best is None else best)


def best_runs(runs: Sequence[dict]) -> dict[str, dict]:
    """Per mode, the run with the highest final validation accuracy.

    Ties go to the highest best accuracy, then to the first run in ``runs``.
    """
    best = {}
    for metrics in runs:
        mode = metrics["mode"]
        if mode not in best or _score(metrics) > _score(best[mode]):
            best[mode] = metrics
    return best


def percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def comparison(runs: Sequence[dict]) -> str:
    """A paragraph comparing fine-tuning with feature extraction, computed from the runs' numbers."""
    best = best_runs(runs)
    if set(best) != set(MODES):
        present, missing = next(iter(best)), next(m for m in MODES if m not in best)
        return f"Only {MODE_NAMES[present]} runs are finished; train with --mode {missing} as well to compare the two."
    ft, fe = best["finetune"], best["feature"]
    gap = 100 * (_score(ft)[0] - _score(fe)[0])
    if abs(gap) < 0.05:
        verdict = "the two end level"
    else:
        verdict = f"{'fine-tuning' if gap > 0 else 'feature extraction'} is ahead by {abs(gap):.1f} points"
    ratio = ft["wall_seconds"] / fe["wall_seconds"] if fe["wall_seconds"] else math.inf
    text = (
        f"Fine-tuning's best run (lr {ft['lr']:g}) ends at {percent(ft['final_val_accuracy'])} validation accuracy and "
        f"feature extraction's best (lr {fe['lr']:g}) at {percent(fe['final_val_accuracy'])}: {verdict}. "
        f"A fine-tuning run took {ft['wall_seconds']:.1f} s against {fe['wall_seconds']:.1f} s "
        f"({ratio:.1f} times as long), {ft['seconds_per_epoch']:.2f} s against {fe['seconds_per_epoch']:.3f} s per epoch."
    )
    spans = {}
    for mode in MODES:
        finals = [m["final_val_accuracy"] for m in runs if m["mode"] == mode and m.get("final_val_accuracy") is not None]
        if len(finals) >= 2:
            spans[mode] = (min(finals), max(finals), len(finals))
    if len(spans) == 2:
        width = {mode: hi - lo for mode, (lo, hi, _) in spans.items()}
        sensitive = max(width, key=width.get)
        described = [f"{MODE_NAMES[m]}'s from {percent(lo)} to {percent(hi)} over {n} LRs" for m, (lo, hi, n) in spans.items()]
        text += (
            f" Across the learning rates tried, final accuracy ranges {described[0]} and {described[1]}, so "
            f"{MODE_NAMES[sensitive]} depends more on the learning rate."
        )
    return text


def summary_markdown(dataset: str, runs: Sequence[dict]) -> str:
    """summary.md: every finished run, the best LR per mode, the winner and the comparison."""
    if not runs:
        raise ValueError("Argument `runs` must hold at least one run.")
    lines = [
        f"# Transfer learning on {dataset}",
        "",
        "Runs are ranked by final validation accuracy, the accuracy of the model a run ends with; the best "
        "accuracy picks its epoch on the same validation images, so it is optimistic.",
        "",
        "| mode | lr | best val accuracy (epoch) | final val accuracy | epochs | wall time (s) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        note = f"diverged: {m['diverged']}" if m.get("diverged") else ""
        lines.append(
            f"| {m['mode']} | {m['lr']:g} | {percent(m['best_val_accuracy'])} ({m['best_epoch']}) | "
            f"{percent(m['final_val_accuracy'])} | {m['epochs']} | {m['wall_seconds']:.1f} | {note} |"
        )
    best = best_runs(runs)
    lines += ["", "## Best learning rate per mode", ""]
    for mode in MODES:
        if mode in best:
            m = best[mode]
            lines.append(f"- {MODE_NAMES[mode]}: lr {m['lr']:g}, final {percent(m['final_val_accuracy'])}, "
                         f"best {percent(m['best_val_accuracy'])}")
    winner = max(best.values(), key=_score)
    tied = [m for m in runs if m is not winner and _score(m) == _score(winner)]
    tie = " (tied with " + ", ".join(f"{m['mode']} at lr {m['lr']:g}" for m in tied) + ")" if tied else ""
    lines += [
        "",
        f"**Winner: {winner['mode']} at lr {winner['lr']:g}** with {percent(winner['final_val_accuracy'])} final "
        f"validation accuracy{tie}.",
        "",
        "## Fine-tuning or feature extraction",
        "",
        comparison(runs),
        "",
    ]
    return "\n".join(lines)


def write_summary(folder: Path, dataset: str) -> str:
    """Write ``folder/summary.md`` from the finished runs in ``folder`` and return its text."""
    runs = load_finished_runs(folder)
    if not runs:
        raise UserError(f"no finished run in {folder}; train first, e.g. python transfer.py --dataset {dataset}")
    text = summary_markdown(dataset, runs)
    write_text(prepare_dir(folder) / "summary.md", text)
    return text
