"""summary.md of a transfer-learning sweep: every run, the best LR per mode, the winner, the comparison.

Only runs that trained to the end are ranked: a diverged run (stopped on a
NaN/inf or exploding loss) is listed with its reason but is never a mode's
best, the winner or tied with it. When no run beats chance (1 / classes) by
more than its standard error, the summary says so before anything else.

The runs are read through their records (``records.transfer.TransferRun``,
and ``DatasetDescription`` for the number of classes): a file that fails
validation raises ``RecordError``, one sentence naming the file and the
field, and no summary is written from it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.outputs import prepare_dir, write_text
from pyimagesearch.records.transfer import DatasetDescription, TransferRun
from pyimagesearch.stats import binomial_standard_error
from pyimagesearch.transfer.settings import MODE_NAMES, MODES

LEVEL = 0.0005  # accuracies (and spreads) closer than 0.05 points are called equal: they print alike at 0.1%


def load_finished_runs(folder: Path) -> list[TransferRun]:
    """The ``TransferRun`` of every run folder in ``folder`` with a metrics.json, ordered by mode and LR."""
    runs = [TransferRun.read(path) for path in sorted(Path(folder).glob(f"*/{TransferRun.FILE}"))]
    return sorted(runs, key=lambda m: (m.mode, m.lr))


def chance_level(folder: Path) -> float | None:
    """1 / classes from the sweep's dataset.json, or None without it."""
    path = Path(folder) / DatasetDescription.FILE
    if not path.exists():
        return None
    return 1 / DatasetDescription.read(path).num_classes


def ranked(runs: Sequence[TransferRun]) -> list[TransferRun]:
    """The runs that did not diverge: the only ones a ranking may name."""
    return [m for m in runs if not m.diverged]


def _score(metrics: TransferRun) -> tuple[float, float]:
    final, best = metrics.final_val_accuracy, metrics.best_val_accuracy
    return (-math.inf if final is None else final, -math.inf if best is None else best)


def best_runs(runs: Sequence[TransferRun]) -> dict[str, TransferRun]:
    """Per mode, the run with the highest final validation accuracy among those that did not diverge.

    Ties go to the highest best accuracy, then to the first run in ``runs``.
    """
    best = {}
    for metrics in ranked(runs):
        mode = metrics.mode
        if mode not in best or _score(metrics) > _score(best[mode]):
            best[mode] = metrics
    return best


def beats_chance(metrics: TransferRun, chance: float) -> bool:
    """Final validation accuracy above chance by more than its standard error, sqrt(p (1 - p) / validation images)."""
    final = metrics.final_val_accuracy
    images = metrics.val_images
    if final is None or not images:
        return False
    return final - chance > binomial_standard_error(final, images)


def percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _seconds(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} s"


def comparison(runs: Sequence[TransferRun]) -> str:
    """A paragraph comparing fine-tuning with feature extraction, computed from the runs' numbers."""
    best = best_runs(runs)
    if set(best) != set(MODES):
        if not best:
            return "Every run diverged, so the two modes cannot be compared; lower the learning rates."
        present, missing = next(iter(best)), next(m for m in MODES if m not in best)
        if any(m.mode == missing for m in runs):
            return (f"Every {MODE_NAMES[missing]} run diverged, so only {MODE_NAMES[present]} has a result; train "
                    f"{MODE_NAMES[missing]} with lower learning rates to compare the two.")
        return f"Only {MODE_NAMES[present]} runs are finished; train with --mode {missing} as well to compare the two."
    ft, fe = best["finetune"], best["feature"]
    gap = _score(ft)[0] - _score(fe)[0]
    if abs(gap) < LEVEL:
        verdict = "the two end level"
    else:
        verdict = f"{'fine-tuning' if gap > 0 else 'feature extraction'} is ahead by {100 * abs(gap):.1f} points"
    ratio = ft.wall_seconds / fe.wall_seconds if fe.wall_seconds else math.inf
    text = (
        f"Fine-tuning's best run (lr {ft.lr:g}) ends at {percent(ft.final_val_accuracy)} validation accuracy and "
        f"feature extraction's best (lr {fe.lr:g}) at {percent(fe.final_val_accuracy)}: {verdict}. "
        f"A fine-tuning run took {ft.wall_seconds:.1f} s against {fe.wall_seconds:.1f} s "
        f"({ratio:.1f} times as long), {_seconds(ft.seconds_per_epoch, 2)} against {_seconds(fe.seconds_per_epoch, 3)} per epoch."
    )
    spans = {}
    for mode in MODES:
        finals = [m.final_val_accuracy for m in ranked(runs) if m.mode == mode and m.final_val_accuracy is not None]
        if len(finals) >= 2:
            spans[mode] = (min(finals), max(finals), len(finals))
    if len(spans) == 2:
        width = {mode: hi - lo for mode, (lo, hi, _) in spans.items()}
        described = [f"{MODE_NAMES[m]}'s from {percent(lo)} to {percent(hi)} over {n} LRs" for m, (lo, hi, n) in spans.items()]
        if abs(width["finetune"] - width["feature"]) < LEVEL:
            judgement = ("neither mode's final accuracy changes with the learning rate" if max(width.values()) < LEVEL
                         else "both depend equally on the learning rate")
        else:
            judgement = f"{MODE_NAMES[max(width, key=width.get)]} depends more on the learning rate"
        text += f" Across the learning rates that did not diverge, final accuracy ranges {described[0]} and {described[1]}, so {judgement}."
    return text


def chance_paragraph(runs: Sequence[TransferRun], chance: float) -> str:
    """The warning that opens summary.md when no run beats chance, or ""."""
    if any(beats_chance(m, chance) for m in ranked(runs)):
        return ""
    return (f"**No run beats chance.** With {round(1 / chance)} classes chance is {percent(chance)}, and no run that "
            "finished has a final validation accuracy above it by more than its standard error "
            "(sqrt(p(1-p)/n) on the validation images), so the ranking below does not separate the learning rates "
            "or the modes.")


def summary_markdown(dataset: str, runs: Sequence[TransferRun], chance: float | None = None) -> str:
    """summary.md: every run, the best LR per mode, the winner and the comparison; diverged runs listed, not ranked."""
    if not runs:
        raise ValueError("Argument `runs` must hold at least one run.")
    lines = [f"# Transfer learning on {dataset}", ""]
    warning = chance_paragraph(runs, chance) if chance else ""
    if warning:
        lines += [warning, ""]
    lines += [
        "Runs are ranked by final validation accuracy, the accuracy of the model a run ends with; the best "
        "accuracy picks its epoch on the same validation images, so it is optimistic. Diverged runs are not ranked.",
        "",
        "| mode | lr | best val accuracy (epoch) | final val accuracy | epochs | wall time (s) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        note = f"diverged: {m.diverged}" if m.diverged else ""
        lines.append(
            f"| {m.mode} | {m.lr:g} | {percent(m.best_val_accuracy)} ({m.best_epoch}) | "
            f"{percent(m.final_val_accuracy)} | {m.epochs} | {m.wall_seconds:.1f} | {note} |"
        )
    best = best_runs(runs)
    lines += ["", "## Best learning rate per mode", ""]
    for mode in MODES:
        if mode in best:
            m = best[mode]
            lines.append(f"- {MODE_NAMES[mode]}: lr {m.lr:g}, final {percent(m.final_val_accuracy)}, "
                         f"best {percent(m.best_val_accuracy)}")
        elif any(m.mode == mode for m in runs):
            lines.append(f"- {MODE_NAMES[mode]}: none, every run diverged")
    if best:
        winner = max(best.values(), key=_score)
        tied = [m for m in ranked(runs) if m is not winner and _score(m) == _score(winner)]
        tie = " (tied with " + ", ".join(f"{m.mode} at lr {m.lr:g}" for m in tied) + ")" if tied else ""
        lines += ["", f"**Winner: {winner.mode} at lr {winner.lr:g}** with {percent(winner.final_val_accuracy)} "
                      f"final validation accuracy{tie}."]
    else:
        lines += ["", "**No winner: every run diverged.**"]
    diverged = [m for m in runs if m.diverged]
    if diverged:
        lines += ["", "## Diverged runs (not ranked)", ""]
        lines += [f"- {m.mode} at lr {m.lr:g}: stopped in epoch {m.epochs}, {m.diverged}" for m in diverged]
    lines += ["", "## Fine-tuning or feature extraction", "", comparison(runs), ""]
    return "\n".join(lines)


def write_summary(folder: Path, dataset: str, runs: Sequence[TransferRun] | None = None) -> str:
    """Write ``folder/summary.md`` from ``runs`` (default: the finished runs in ``folder``) and return its text."""
    runs = load_finished_runs(folder) if runs is None else runs
    text = summary_markdown(dataset, runs, chance_level(folder))
    write_text(prepare_dir(folder) / "summary.md", text)
    return text
