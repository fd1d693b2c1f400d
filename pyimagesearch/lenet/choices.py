"""Problem 1's split discipline, and the functions that make its choices by it.

``SPLIT_DISCIPLINE`` is the rule, stated once; every output that makes a
choice prints it. The functions here make the choices and take only
validation figures: ``best_epoch`` reads a history's ``val_accuracy``,
``choose_by_validation`` a ``{candidate: {seed: validation accuracy}}``
table (the lr_max rule of ``benchmarks/lr_rule_study.py``, a step size),
and ``validation_by_seed`` reads that table's entries from a run folder.
Test accuracy never reaches them: it is reported beside the choice, after it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

SPLIT_DISCIPLINE = (
    "training data trains; validation data makes every choice (the lr_max rule, the step size, the best epoch); "
    "test data is read once, after every choice, for the reported figure")
CHOICE_METRIC = "val_accuracy"  # the only column a choice reads


@dataclass(frozen=True)
class Choice:
    """The candidate with the highest mean validation accuracy over every seed.

    ``means``: each candidate's mean over ``seeds``, best first; ``verdict``: the chosen one against
    the next (``verdicts.compare_seeds`` on validation), None when there is no next one;
    ``left_out``: candidates without a result at every seed (not chosen from).
    """

    chosen: str
    means: dict[str, float]
    seeds: tuple[int, ...]
    verdict: object | None
    left_out: tuple[str, ...] = ()

    def sentence(self) -> str:
        """What was chosen, on which split, and whether its lead over the next is larger than the noise."""
        left_out = f"; {', '.join(self.left_out)} left out: no result at every seed" if self.left_out else ""
        head = (f"{self.chosen}, the highest mean validation accuracy ({100 * self.means[self.chosen]:.2f}% over seeds "
                f"{', '.join(map(str, self.seeds))}{left_out})")
        if self.verdict is None:
            return head + ", the only candidate with a result at every seed"
        settled = "" if self.verdict.leader == self.chosen else ", not a settled choice"
        return f"{head}{settled}: against the next, {self.verdict.sentence()}"


def best_epoch(history: Sequence[Mapping[str, float]]) -> tuple[int, float]:
    """``(epoch, val_accuracy)`` of the epoch with the highest validation accuracy (the first of equals).

    Reads only each row's ``epoch`` and ``val_accuracy``; an epoch without a finite one is passed over.
    """
    scored = [(row[CHOICE_METRIC], row["epoch"]) for row in history
              if row.get(CHOICE_METRIC) is not None and math.isfinite(row[CHOICE_METRIC])]
    if not scored:
        raise ValueError("Argument `history` must hold at least one epoch with a finite `val_accuracy`. "
                         f"Received: {len(history)} rows")
    accuracy, epoch = max(scored, key=lambda pair: pair[0])  # max keeps the first of equal values
    return int(epoch), float(accuracy)


def choose_by_validation(validation: Mapping[str, Mapping[int, float]], seeds: Sequence[int] | None = None) -> Choice:
    """The candidate to use: the highest mean validation accuracy over the seeds.

    Args:
        validation: ``{candidate: {seed: validation accuracy}}``. A candidate without a result at
            some seed (a run that did not finish, a rule that suggested no range) is left out, so
            every mean is over the same seeds. Of equal means the first in order is chosen.
        seeds: the seeds of the study (default: every seed some candidate has a result at).

    Returns:
        a ``Choice``, with the paired t verdict of the chosen candidate against the next on validation.
    """
    from pyimagesearch.verdicts import compare_seeds

    candidates = {str(name): dict(values) for name, values in validation.items() if values}
    if not candidates:
        raise ValueError(f"Argument `validation` must give at least one candidate a result. Received: {validation!r}")
    for name, values in candidates.items():
        bad = {seed: value for seed, value in values.items() if not (isinstance(value, (int, float))
                                                                     and math.isfinite(value) and 0 <= value <= 1)}
        if bad:
            raise ValueError(f"Argument `validation` must hold accuracies in [0, 1]. Received for {name!r}: {bad}")
    seeds = tuple(dict.fromkeys(seeds if seeds is not None else (s for values in candidates.values() for s in values)))
    left_out = tuple(name for name, values in candidates.items() if not all(seed in values for seed in seeds))
    candidates = {name: values for name, values in candidates.items() if name not in left_out}
    if not candidates or not seeds:
        raise ValueError("Argument `validation` must give some candidate a result at every seed. Received: "
                         + "; ".join(f"{name}: seeds {sorted(values)}" for name, values in validation.items()))
    means = {name: math.fsum(values[s] for s in seeds) / len(seeds) for name, values in candidates.items()}
    ranked = sorted(means, key=lambda name: -means[name])  # a stable sort: ties keep the given order
    verdict = None
    if len(ranked) > 1:
        first, second = ranked[:2]
        verdict = compare_seeds({s: candidates[first][s] for s in seeds}, {s: candidates[second][s] for s in seeds},
                                (first, second))
        verdict = replace(verdict, evidence=f"{verdict.evidence}, on validation accuracy")
    return Choice(ranked[0], {name: means[name] for name in ranked}, seeds, verdict, left_out)


def validation_by_seed(folder: str | os.PathLike) -> dict[int, float]:
    """``{seed: validation accuracy}`` of a finished ``train_lenet.py`` folder (one run, or a ``--seeds`` folder)."""
    import json
    from pathlib import Path

    from pyimagesearch.records.lenet import SeedsAggregate, read_metrics

    folder = Path(folder)
    metrics = read_metrics(folder)
    if isinstance(metrics, SeedsAggregate):
        return dict(zip(metrics.seeds, getattr(metrics, CHOICE_METRIC).values))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return {int(config["seed"]): getattr(metrics, CHOICE_METRIC)}
