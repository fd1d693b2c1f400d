"""Training budgets and counts compared in words: the same budget or not, and ratios read the right way.

- Two runs whose optimizer steps differ by less than one epoch of steps ran the same budget (284
  against 285 steps is a rounding difference, not a confound); one epoch or more apart, a difference
  between them may come from the budget.
- A ratio is written larger over smaller, with "more" or "fewer": "3,000 against 2,000: 1.5x more
  iterations", never "0.67x fewer".

Pure Python; ``pyimagesearch.verdicts`` exports both beside the other verdicts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """Two training budgets in optimizer steps: ``equal`` when they differ by less than one epoch of steps."""

    steps_a: int
    steps_b: int
    steps_per_epoch: int
    names: tuple[str, str] = ("A", "B")

    @property
    def equal(self) -> bool:
        return abs(self.steps_a - self.steps_b) < self.steps_per_epoch

    def to_dict(self) -> dict:
        return {**asdict(self), "equal": self.equal, "sentence": self.sentence()}

    def sentence(self) -> str:
        (a, b), epoch = self.names, f"one epoch ({self.steps_per_epoch:,} steps)"
        if self.steps_a == self.steps_b:
            return f"{a} and {b} ran the same budget: {self.steps_a:,} optimizer steps each"
        if self.equal:
            return (f"{a} and {b} ran the same budget: {self.steps_a:,} and {self.steps_b:,} optimizer steps, "
                    f"less than {epoch} apart")
        return (f"{a} and {b} ran different budgets: {self.steps_a:,} against {self.steps_b:,} optimizer steps, "
                f"at least {epoch} apart, so a difference between them may come from the budget")


def budgets_equal(steps_a: int, steps_b: int, steps_per_epoch: int, names=("A", "B")) -> Budget:
    """Two budgets in optimizer steps; less than one epoch of steps apart counts as the same (a rounding difference).

    Args:
        steps_a, steps_b: optimizer steps of A and B.
        steps_per_epoch: optimizer steps of one epoch.
        names: what the sentence calls A and B.
    """
    for what, value, low in (("steps_a", steps_a, 0), ("steps_b", steps_b, 0), ("steps_per_epoch", steps_per_epoch, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"Argument `{what}` must be an integer >= {low}. Received: {what}={value!r}")
    names = tuple(names)
    if len(names) != 2 or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"Argument `names` must be two non-empty strings. Received: names={names!r}")
    return Budget(int(steps_a), int(steps_b), int(steps_per_epoch), names)


def ratio_sentence(a: float, b: float, what: str) -> str:
    """``a`` against ``b`` read the right way: "3,000 against 2,000: 1.5x more iterations", never "0.67x fewer".

    The ratio written is the larger over the smaller (>= 1): "more" when ``a`` is the larger,
    "fewer" when it is the smaller; below 1.005 it is written as a percentage ("0.05% more").
    """
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 < value < math.inf:
            raise ValueError(f"Argument `{name}` must be a finite number > 0. Received: {name}={value!r}")
    head = f"{_number(a)} against {_number(b)}"
    if a == b:
        return f"{head}: the same number of {what}"
    ratio = max(a, b) / min(a, b)
    times = f"{ratio:.3g}x" if ratio >= 1.005 else f"{100 * (ratio - 1):.2g}%"
    return f"{head}: {times} {'more' if a > b else 'fewer'} {what}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"
