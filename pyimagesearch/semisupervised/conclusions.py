"""What Problem 4 concludes, and on which data: choices on validation, comparisons as verdicts, the K sweep's reach.

- ``SPLIT_DISCIPLINE``: training data trains; the validation split makes every choice; the test images
  are read once, after every choice, for the reported figures.
- ``choose_on_validation``: the best of several candidates (the students of a K, P sweep, the fine-tuning
  LR factors of one student) by validation accuracy alone, with the verdict on that lead
  (``pyimagesearch.verdicts.winner`` on the same validation images). It is given names and validation
  scores only: no test figure can reach a choice.
- ``against``: "A against B" on the same test images, the sentence of
  ``pyimagesearch.verdicts.compare_paired_images`` (exact McNemar; "tied within noise" when not significant).
- ``k_sweep_caveat``: whether a teacher/student sweep can show Yalniz et al.'s Figure 5 (accuracy rising,
  then falling, with K); when it cannot, the sentence that says so wherever the comparison is invited.

Pure Python and NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pyimagesearch.verdicts import Verdict, compare_paired_images, winner

SPLIT_DISCIPLINE = ("Split discipline: training data trains; the validation split (held out of the training split, "
                    "--val-fraction) makes every choice; the test images are read once, after every choice, for the "
                    "reported figures.")


@dataclass(frozen=True)
class Choice:
    """The candidate chosen on validation (``name``, its validation ``accuracy``) and the verdict on its lead."""

    name: str
    accuracy: float
    images: int
    verdict: Verdict

    def sentence(self, what: str) -> str:
        """``what`` chosen, on which split, and whether its lead there is larger than the noise."""
        return (f"{what} (chosen on validation accuracy, {self.images:,} validation images): {self.name} with "
                f"{100 * self.accuracy:.1f}%; on validation, {self.verdict.sentence()}")


def choose_on_validation(candidates: Sequence[tuple[str, object]], images: int, chance: float | None = None) -> Choice:
    """The candidate with the highest validation accuracy (the first on equal accuracy), and the verdict on its lead.

    Args:
        candidates: ``(name, score)``, ``score`` the per-image correctness on the validation images
            (booleans) or the validation accuracy.
        images: the validation images every candidate was scored on.
        chance: 1 / classes, for the verdict's chance check (the choice is made either way).

    Returns:
        A ``Choice``: the name chosen and ``verdict``, ``pyimagesearch.verdicts.winner`` over the same scores.
    """
    if not candidates:
        raise ValueError("Argument `candidates` must hold at least one (name, validation score).")
    accuracies = [float(np.mean(score)) if np.ndim(score) else float(score) for _, score in candidates]
    best = int(np.argmax(accuracies))  # the first of equal accuracies, as the verdict orders them
    verdict = winner([(name, score, None) for name, score in candidates], chance=chance, images=images)
    return Choice(str(candidates[best][0]), accuracies[best], images, verdict)


def against(correct_a, correct_b, names: tuple[str, str]) -> str:
    """"A against B" on the same test images: the exact McNemar verdict's sentence."""
    return compare_paired_images(correct_a, correct_b, names).sentence()


def k_sweep_caveat(students: Sequence, quick: bool, most_k: int | None = None) -> str | None:
    """Why this K sweep cannot show Figure 5's shape (rise, then fall), or None when it can and the settings are the task's.

    ``students``: rows with ``k``, ``p`` and ``test_accuracy`` (the curve described, nothing chosen). A P's
    curve shows the shape only when its best student is at a K inside the sweep, neither the smallest
    nor the largest. ``most_k``: |U| / C, the largest K the unlabelled set allows. Quick settings
    (``quick``) are named in any case: their sweep is short and their budgets small.
    """
    curves: dict[int, list] = {}
    for row in sorted(students, key=lambda r: (r.p, r.k)):
        curves.setdefault(row.p, []).append(row)
    peaks = {p: max(rows, key=lambda r: r.test_accuracy).k for p, rows in curves.items()}  # the first of equals
    single = [p for p, rows in curves.items() if len(rows) == 1]
    rising = [p for p, rows in curves.items() if p not in single and peaks[p] == rows[-1].k]
    falling = [p for p, rows in curves.items() if p not in single and peaks[p] == rows[0].k]
    shown = [p for p in curves if p not in single + rising + falling]
    if not curves or (shown and not quick):
        return None
    largest = max(row.k for row in students)
    stop = f"the sweep stops at K = {largest:,}" + (", all that U allows at these settings" if most_k == largest else "")
    head = "Quick settings (--quick): " if quick else ""
    if shown:
        return (f"{head}{stop}, on a subset with small budgets; a fall here is not Yalniz et al.'s Figure 5 (rise, "
                "then fall) at the paper's scale: compare with the task's settings.")
    parts = [f"for {_ps(single)} one K alone was swept"] if single else []
    if rising:
        parts.append(f"for {_ps(rising)} the best student is at the largest K swept (accuracy still rising where the "
                     "sweep stops)")
    if falling:
        parts.append(f"for {_ps(falling)} {'it' if rising else 'the best student'} is at the smallest K swept")
    advice = "; compare the rise only" if rising and not falling + single else ""
    return (f"{head}{stop}, and {'; '.join(parts)}: this sweep cannot show the shape of Yalniz et al.'s Figure 5 "
            f"(rise, then fall){advice}.")


def _ps(ps: Sequence[int]) -> str:
    names = [f"{p}" for p in ps]
    return "P = " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])
