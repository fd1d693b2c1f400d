"""Where every "A is ahead", "the winner is", "tied within noise" and "depends more" sentence comes from.

Same images: exact McNemar on the images where two runs disagree. Same seeds: the paired t interval of
the per-seed differences (one seed: no verdict). A winner: diverged runs, and runs not above chance
(1 / classes) by more than their binomial standard error, are out first; the best of the rest wins only
when its lead over the next is significant. Learning-rate sensitivity: over the LRs both modes share only.
Each returns a frozen ``Verdict`` (one of ``OUTCOMES``, the figures, the evidence) whose ``sentence()`` is
the one English sentence a summary prints; budgets and ratios in words (``pyimagesearch.budgets``) are
exported here too. Pure Python and NumPy, on ``pyimagesearch.stats``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np

from pyimagesearch.budgets import Budget, budgets_equal, ratio_sentence
from pyimagesearch.stats import binomial_standard_error, paired_test, t_interval

__all__ = ["OUTCOMES", "Verdict", "compare_paired_images", "compare_seeds", "winner", "sensitivity",
           "Budget", "budgets_equal", "ratio_sentence"]

A_AHEAD, B_AHEAD, NO_DIFFERENCE, NOT_COMPARABLE = "A ahead", "B ahead", "no difference detected", "not comparable"
OUTCOMES = (A_AHEAD, B_AHEAD, NO_DIFFERENCE, NOT_COMPARABLE)


@dataclass(frozen=True)
class Verdict:
    """What the evidence says about A against B (``kind="winner"``: the leader against the next run).

    ``values``: A's and B's accuracy (mean over seeds; ``kind="sensitivity"``: accuracy range);
    ``difference``: A minus B, with its ``interval`` at ``confidence``, or its ``p_value`` tested
    at 1 - ``confidence``; ``n``: the paired images, seeds or shared LRs the evidence rests on;
    ``reason``: why, exactly when the outcome is "not comparable".
    """

    outcome: str
    names: tuple[str, ...]
    kind: str = "compare"  # "compare", "winner" or "sensitivity": only the wording differs
    values: tuple[float, ...] = ()
    difference: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    confidence: float | None = None
    n: int | None = None
    evidence: str = ""
    reason: str | None = None

    def __post_init__(self):
        if self.outcome not in OUTCOMES or (self.outcome == NOT_COMPARABLE) != (self.reason is not None):
            raise ValueError(f"Argument `outcome` must be one of {OUTCOMES}, with a `reason` exactly when it is "
                             f"{NOT_COMPARABLE!r}. Received: outcome={self.outcome!r}, reason={self.reason!r}")

    @property
    def leader(self) -> str | None:
        """The name that is ahead (``kind="winner"``: the winner), or None."""
        return {A_AHEAD: self.names[0], B_AHEAD: self.names[-1]}.get(self.outcome)

    def to_dict(self) -> dict:
        return {**asdict(self), "sentence": self.sentence()}

    def sentence(self) -> str:
        """The one English sentence of this verdict."""
        names, values, figures = self.names, self.values, self._figures()
        if self.outcome == NOT_COMPARABLE:
            if self.kind == "winner":
                return f"no winner: {self.reason}"
            what = " on learning-rate sensitivity" if self.kind == "sensitivity" else ""
            shown = f" ({names[0]} {_percent(values[0])}, {names[1]} {_percent(values[1])})" if values else ""
            return f"{names[0]} and {names[1]} not comparable{what}{shown}: {self.reason}"
        if self.outcome == NO_DIFFERENCE:
            if self.kind == "sensitivity":
                return (f"{names[0]} and {names[1]} depend alike on the learning rate within noise: accuracy ranges "
                        f"of {_points(values[0])} and {_points(values[1])} points {figures}")
            return f"tied within noise: {names[0]} {_percent(values[0])}, {names[1]} {_percent(values[1])} {figures}"
        if len(names) == 1:
            return f"winner: {names[0]} with {_percent(values[0])}, {self.evidence}"
        first = 0 if self.outcome == A_AHEAD else 1
        lead, other, lead_value, other_value = names[first], names[1 - first], values[first], values[1 - first]
        if self.kind == "sensitivity":
            return (f"{lead} depends more on the learning rate: its accuracy ranges over {_points(lead_value)} "
                    f"points, {other}'s over {_points(other_value)} {figures}")
        if self.kind == "winner":
            return (f"winner: {lead} with {_percent(lead_value)}, {_points(self.difference)} points ahead of "
                    f"{other} with {_percent(other_value)} {figures}")
        return (f"{lead} ahead by {_points(abs(self.difference))} points, {_percent(lead_value)} against "
                f"{_percent(other_value)} for {other} {figures}")

    def _figures(self) -> str:
        if self.interval is not None:
            digits = 1 if min(abs(end) for end in self.interval) >= 0.01 else 2  # both ends alike
            low, high = (f"{100 * end:+.{digits}f}" for end in self.interval)
            stat = (f"{self.names[0]} minus {self.names[1]}: {100 * self.confidence:.0f}% interval {low} to {high} "
                    "points")
        elif self.p_value is not None:
            alpha, p = round(1 - self.confidence, 12), f"{self.p_value:.2g}"
            if (float(p) < alpha) != (self.p_value < alpha):  # never round across the significance level
                p = f"{self.p_value:.4g}"
            stat = "p < 0.001" if self.p_value < 0.001 else f"p = {p}"
        else:
            return f"({self.evidence})"
        return f"({stat}, {self.evidence})"


def compare_paired_images(correct_a, correct_b, names=("A", "B"), alpha: float = 0.05) -> Verdict:
    """A against B scored on the same images: exact McNemar on their per-image correctness (booleans, same
    image order); a difference is detected when p < ``alpha``."""
    names = _arguments(names, alpha=alpha)
    return _paired(names, _correctness(correct_a, "correct_a"), _correctness(correct_b, "correct_b"), alpha, "compare")


def compare_seeds(values_a, values_b, names=("A", "B"), confidence: float = 0.95) -> Verdict:
    """A against B over seeds: the paired t interval of the per-seed differences::

        mean(d) +- t_{(1 + confidence) / 2, n - 1} * sd(d) / sqrt(n),   d = a_seed - b_seed

    ``values_a``, ``values_b``: accuracies, two sequences paired by position or two
    ``{seed: accuracy}`` mappings paired on the seeds both have. No difference is detected
    when the interval covers 0; fewer than 2 paired seeds give no interval: "not comparable".
    """
    names = _arguments(names, confidence=confidence)
    if isinstance(values_a, Mapping) != isinstance(values_b, Mapping):
        raise TypeError("Arguments `values_a` and `values_b` must both be sequences or both {seed: value} mappings.")
    if not isinstance(values_a, Mapping):
        if len(values_a) == 0 or len(values_a) != len(values_b):
            raise ValueError("Arguments `values_a` and `values_b` must hold one value per seed (at least one), paired "
                             f"by position. Received: {len(values_a)} and {len(values_b)} values")
        values_a, values_b = dict(enumerate(values_a)), dict(enumerate(values_b))
    seeds = [seed for seed in values_a if seed in values_b]
    a, b = (np.array([values[s] for s in seeds], dtype=float) for values in (values_a, values_b))
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(f"Arguments `values_a` and `values_b` must be finite. Received: {values_a!r}, {values_b!r}")
    n, unmatched = len(seeds), len(seeds) < max(len(values_a), len(values_b))
    means = (float(np.mean(a)), float(np.mean(b))) if n else ()
    listing = f"{names[0]}: {', '.join(map(str, values_a))}; {names[1]}: {', '.join(map(str, values_b))}"
    if n < 2:
        reason = ("they have no seed in common" if n == 0 else f"they have only seed {seeds[0]} in common"
                  if unmatched else "one seed each")
        return Verdict(NOT_COMPARABLE, names, values=means, n=n, evidence=f"{n} paired seeds", reason=(
            f"{reason}{f' ({listing})' if unmatched else ''}, so the spread between seeds is not measured; "
            "run both with 2 or more matching seeds"))
    interval = t_interval(a - b, confidence)
    outcome = A_AHEAD if interval.low > 0 else B_AHEAD if interval.high < 0 else NO_DIFFERENCE
    evidence = (f"paired t over seeds {', '.join(map(str, seeds))}, the ones both have ({listing})" if unmatched
                else f"paired t over {n} seeds")
    return Verdict(outcome, names, values=means, difference=interval.mean, interval=(interval.low, interval.high),
                   confidence=confidence, n=n, evidence=evidence)


def winner(runs: Sequence[tuple], chance: float | None = None, alpha: float = 0.05,
           images: int | None = None) -> Verdict:
    """The winner among runs scored on the same images, or why there is none.

    ``runs``: ``(name, score, diverged)``, ``score`` the per-image correctness (booleans) or the accuracy
    on ``images`` images, ``diverged`` the reason a run diverged (its score may be None) or None. Out
    first: diverged runs, and with ``chance`` (1 / classes) runs whose accuracy p is not above chance by
    more than sqrt(p (1 - p) / images). The most accurate run left (the first on equal accuracy) wins
    ("A ahead", ``leader``) only when its lead over the next is significant at ``alpha`` (exact McNemar
    with per-image correctness, else an unpaired two-proportion z test, which overstates the noise of
    runs on the same images); else "no difference detected" ("tied within noise"); no run left: "not
    comparable" (no winner, with the ``reason``).
    """
    _arguments(None, alpha=alpha, chance=chance)
    if not runs:
        raise ValueError("Argument `runs` must hold at least one run.")
    names = tuple(str(name) for name, _, _ in runs)
    finished, images = _scores([run for run in runs if not run[2]], images)
    if not finished:
        return Verdict(NOT_COMPARABLE, names, "winner", n=len(runs), reason="every run diverged")
    above = [run for run in finished if chance is None or run[1] - chance > binomial_standard_error(run[1], images)]
    if not above:
        return Verdict(NOT_COMPARABLE, names, "winner", n=images, reason=(
            f"no run beats chance ({_percent(chance)}) by more than its standard error on {images:,} images"))
    (lead, lead_accuracy, lead_correct), *rest = sorted(above, key=lambda run: -run[1])
    if not rest:
        beats = f"beats chance ({_percent(chance)})" if chance is not None else ""
        only = (f"the only run that {beats}" if len(above) < len(finished) else
                "the only run that did not diverge" if len(finished) < len(runs) else "the only run")
        only += f", and it {beats}" if beats and len(above) == len(finished) else ""
        return Verdict(A_AHEAD, (lead,), "winner", values=(lead_accuracy,), n=images, evidence=only)
    runner, runner_accuracy, runner_correct = rest[0]
    if lead_correct is not None and runner_correct is not None:
        return _paired((lead, runner), lead_correct, runner_correct, alpha, "winner")
    difference = lead_accuracy - runner_accuracy
    noise = math.hypot(binomial_standard_error(lead_accuracy, images), binomial_standard_error(runner_accuracy, images))
    p = 2 * NormalDist().cdf(-difference / noise) if noise else float(difference == 0)
    return Verdict(A_AHEAD if p < alpha else NO_DIFFERENCE, (lead, runner), "winner",
                   values=(lead_accuracy, runner_accuracy), difference=difference, p_value=p, confidence=1 - alpha,
                   n=images, evidence=f"unpaired two-proportion z test on {images:,} images, no per-image correctness")


def sensitivity(lrs_a, accs_a, lrs_b, accs_b, names=("A", "B"), *, images: int, alpha: float = 0.05) -> Verdict:
    """Which of A and B depends more on the learning rate ("A ahead": A), over the LRs both have a result at.

    A mode's sensitivity is the range (max - min) of its accuracies at the shared LRs; an LR
    only one mode ran, or where it diverged (accuracy None), is left out. The difference of the
    ranges is detected when its interval, a normal approximation, excludes 0::

        range_a - range_b +- z_{1 - alpha / 2} * sqrt(sum of p (1 - p) / images over the four extremes)

    With fewer than 2 shared LRs there is no range: "not comparable", with the LRs each has.
    """
    names = _arguments(names, alpha=alpha)
    if not isinstance(images, (int, np.integer)) or images < 1:
        raise ValueError(f"Argument `images` must be an integer >= 1. Received: images={images!r}")
    results_a, results_b = _results(lrs_a, accs_a, "a"), _results(lrs_b, accs_b, "b")
    match = {lr: next((acc for lr_b, acc in results_b.items() if math.isclose(lr, lr_b, rel_tol=1e-6)), None)
             for lr in results_a}
    shared = sorted(((lr, results_a[lr], acc) for lr, acc in match.items() if acc is not None), reverse=True)
    if len(shared) < 2:
        common = f"only lr {shared[0][0]:g}" if shared else "no learning rate"
        return Verdict(NOT_COMPARABLE, names, "sensitivity", n=len(shared), reason=(
            f"they have {common} in common with a result ({names[0]}: {_lrs(results_a)}; {names[1]}: "
            f"{_lrs(results_b)}), and a range needs 2"))
    columns = [[row[1] for row in shared], [row[2] for row in shared]]
    ranges = tuple(max(column) - min(column) for column in columns)
    errors = [binomial_standard_error(f(column), images) for column in columns for f in (max, min)]
    difference = ranges[0] - ranges[1]
    half = NormalDist().inv_cdf(1 - alpha / 2) * math.sqrt(sum(e ** 2 for e in errors))
    low, high = difference - half, difference + half
    evidence = (f"normal approximation from the binomial standard errors on {images:,} images; ranges over the "
                f"{len(shared)} learning rates both have: {_lrs(row[0] for row in shared)}")
    return Verdict(A_AHEAD if low > 0 else B_AHEAD if high < 0 else NO_DIFFERENCE, names, "sensitivity",
                   values=ranges, difference=difference, interval=(low, high), confidence=1 - alpha, n=len(shared),
                   evidence=evidence)


def _paired(names: tuple[str, str], a: np.ndarray, b: np.ndarray, alpha: float, kind: str) -> Verdict:
    if a.size == 0:
        raise ValueError("Arguments `correct_a` and `correct_b` must hold at least one image.")
    test = paired_test(a, b)
    difference = test.accuracy_difference
    evidence = f"exact McNemar on {test.images:,} paired images"
    if test.a_right_b_wrong + test.b_right_a_wrong == 0:
        evidence += ", with no image on which they disagree"
    return Verdict(NO_DIFFERENCE if test.p_value >= alpha else A_AHEAD if difference > 0 else B_AHEAD, names, kind,
                   values=(float(a.mean()), float(b.mean())), difference=difference, p_value=test.p_value,
                   confidence=1 - alpha, n=test.images, evidence=evidence)


def _scores(runs, images: int | None) -> tuple[list[tuple[str, float, np.ndarray | None]], int | None]:
    """``(name, accuracy, correctness or None)`` of each run that did not diverge, and the images they share."""
    scores = []
    for name, score, _ in runs:
        correct = None if score is None or np.ndim(score) == 0 else _correctness(score, f"score of {name!r}")
        images = correct.size if correct is not None and images is None else images
        accuracy = float(correct.mean()) if correct is not None and correct.size else score
        if (not isinstance(accuracy, (int, float, np.number)) or not 0 <= accuracy <= 1 or not images
                or correct is not None and correct.size != images):
            raise ValueError(f"Run {name!r} must be scored on the same `images` as the others, by per-image "
                             f"correctness or an accuracy in [0, 1]. Received: score={score!r}, images={images!r}")
        scores.append((str(name), float(accuracy), correct))
    return scores, images


def _points(fraction: float) -> str:
    return f"{100 * fraction:.{1 if abs(fraction) >= 0.01 else 2}f}"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def _lrs(lrs) -> str:
    return ", ".join(f"{lr:g}" for lr in sorted(lrs, reverse=True)) or "none"


def _arguments(names, **fractions) -> tuple[str, str] | None:
    """``names`` as two different non-empty strings (None: no names), each fraction in (0, 1) unless None."""
    for key, value in fractions.items():
        if value is not None and not 0 < value < 1:
            raise ValueError(f"Argument `{key}` must be in (0, 1). Received: {key}={value}")
    if names is not None:
        names = tuple(names)
        if len(names) != 2 or not all(isinstance(n, str) and n for n in names) or names[0] == names[1]:
            raise ValueError(f"Argument `names` must be two different non-empty strings. Received: names={names!r}")
    return names


def _correctness(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or not (array.dtype == bool or np.isin(array, (0, 1)).all()):
        raise ValueError(f"Argument `{what}` must be per-image correctness, one boolean per image. "
                         f"Received: an array of shape {array.shape} and dtype {array.dtype}")
    return array.astype(bool)


def _results(lrs, accs, side: str) -> dict[float, float]:
    """``{lr: accuracy}`` of one mode, leaving out the LRs whose accuracy is None (diverged)."""
    lrs, accs = [float(lr) for lr in lrs], list(accs)
    results = {lr: acc for lr, acc in zip(lrs, accs) if acc is not None}
    if len(lrs) != len(accs) or len(set(lrs)) != len(lrs) or not np.isfinite(list(results.values())).all():
        raise ValueError(f"Arguments `lrs_{side}` and `accs_{side}` must give one finite accuracy (None: diverged) per "
                         f"distinct learning rate. Received: lrs_{side}={lrs}, accs_{side}={accs}")
    return results
