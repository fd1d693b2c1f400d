"""Learning-rate policies as pure functions of the step (no framework import).

Each function works on Python numbers and NumPy arrays. ``clr`` also takes the
array namespace ``xp`` so that the Keras schedule in ``clr_callback`` evaluates
the very same formula with ``keras.ops`` inside a compiled training step.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

CLR_MODES = ("triangular", "triangular2", "exp_range")


def check_clr_args(base_lr: float, max_lr: float, step_size: float, mode: str = "triangular", gamma: float = 1.0) -> None:
    """Raise ``ValueError`` for arguments that do not describe a cyclical policy."""
    if not base_lr > 0:
        raise ValueError(f"Argument `base_lr` must be > 0. Received: base_lr={base_lr}")
    if not max_lr > base_lr:
        raise ValueError(f"Argument `max_lr` must be > base_lr={base_lr}. Received: max_lr={max_lr}")
    if not step_size > 0:
        raise ValueError(f"Argument `step_size` must be > 0. Received: step_size={step_size}")
    if mode not in CLR_MODES:
        raise ValueError(f"Argument `mode` must be one of {CLR_MODES}. Received: mode={mode!r}")
    if not 0 < gamma <= 1:
        raise ValueError(f"Argument `gamma` must be in (0, 1]. Received: gamma={gamma}")


def clr_scale(mode: str, gamma: float = 1.0) -> tuple[Callable, str]:
    """The amplitude scale of a built-in mode and what it is a function of.

    triangular:  1                      (of the cycle)
    triangular2: 0.5**(cycle - 1)       (of the cycle; halves every cycle)
    exp_range:   gamma**iteration       (of the iteration; "exponential decay")
    """
    if mode == "triangular":
        return (lambda cycle: 1.0), "cycle"
    if mode == "triangular2":
        return (lambda cycle: 0.5 ** (cycle - 1.0)), "cycle"
    if mode == "exp_range":
        return (lambda iteration: gamma**iteration), "iterations"
    raise ValueError(f"Argument `mode` must be one of {CLR_MODES}. Received: mode={mode!r}")


def clr(iteration, base_lr: float, max_lr: float, step_size: float, mode: str = "triangular",
        gamma: float = 1.0, scale_fn: Callable | None = None, scale_mode: str = "cycle", xp=np):
    """Cyclical learning rate at ``iteration`` (Smith 2017, arXiv 1506.01186, section 3.1).

    ``step_size`` is half a cycle, in iterations (need not be an integer)::

        cycle = floor(1 + iteration / (2 * step_size))
        x = abs(iteration / step_size - 2 * cycle + 1)
        lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale

    where ``scale`` is ``scale_fn(cycle)`` or ``scale_fn(iteration)`` (by
    ``scale_mode``) when a custom ``scale_fn`` is given, else the mode's own
    (see ``clr_scale``). Same values as bckenstler/CLR's ``CyclicLR.clr()``.

    Args:
        iteration: step number(s), starting at 0.
        xp: array namespace with ``floor``, ``abs`` and ``maximum``
            (``numpy`` or ``keras.ops``).

    Returns:
        The learning rate(s), same shape as ``iteration``.
    """
    if scale_fn is None:
        scale_fn, scale_mode = clr_scale(mode, gamma)
    elif scale_mode not in ("cycle", "iterations"):
        raise ValueError(f"Argument `scale_mode` must be 'cycle' or 'iterations'. Received: scale_mode={scale_mode!r}")
    cycle = xp.floor(1 + iteration / (2 * step_size))
    x = xp.abs(iteration / step_size - 2 * cycle + 1)
    scale = scale_fn(cycle if scale_mode == "cycle" else iteration)
    return base_lr + (max_lr - base_lr) * xp.maximum(0.0, 1 - x) * scale


def geometric_lrs(start_lr: float, end_lr: float, num: int) -> np.ndarray:
    """LRs of an LR range test: ``start_lr * mult**i`` for ``i < num``.

    ``mult = (end_lr / start_lr) ** (1 / num)``, the per-batch multiplier of
    the pyimagesearch finder, so the last LR is ``end_lr / mult``.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"Arguments must satisfy 0 < start_lr < end_lr. Received: start_lr={start_lr}, end_lr={end_lr}")
    if num < 1:
        raise ValueError(f"Argument `num` must be >= 1. Received: num={num}")
    multiplier = (end_lr / start_lr) ** (1.0 / num)
    return start_lr * multiplier ** np.arange(num)


def grid_lrs(start_lr: float, end_lr: float, num: int) -> np.ndarray:
    """``num`` LRs log-spaced from ``start_lr`` to ``end_lr``, both included."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"Arguments must satisfy 0 < start_lr < end_lr. Received: start_lr={start_lr}, end_lr={end_lr}")
    if num < 2:
        raise ValueError(f"Argument `num` must be >= 2. Received: num={num}")
    return np.geomspace(start_lr, end_lr, num)


def default_milestones(epochs: int, drops: int = 3) -> list[int]:
    """Epochs at which a multi-step schedule drops: ``drops`` evenly spaced ones.

    With 3 drops these are 1/4, 1/2 and 3/4 of ``epochs``, rounded half up:
    ``floor(epochs * k / 4 + 1/2)`` (60 -> 15, 30, 45; 10 -> 3, 5, 8),
    computed in integers so no float rounding moves a half. Drops that would
    fall on the first epoch, after the last, or on the same epoch as another
    are left out, so short runs get fewer (4 -> 1, 2, 3; 2 -> 1).
    """
    parts = drops + 1
    return sorted({m for k in range(1, drops + 1) if 1 <= (m := (2 * epochs * k + parts) // (2 * parts)) < epochs})


def multistep_lr(epoch: int, base_lr: float, milestones: Sequence[int], gamma: float = 0.1) -> float:
    """LR during (0-based) ``epoch``: ``base_lr * gamma**(number of milestones <= epoch)``.

    A milestone m means the drop takes effect when epoch m begins, as in
    PyTorch's ``MultiStepLR``.
    """
    drops = sum(1 for milestone in milestones if milestone <= epoch)
    return base_lr * gamma**drops


def batch_sizes(batch_start: int, batch_end: int) -> list[int]:
    """The doubling stages ``batch_start, 2*batch_start, ..., batch_end``.

    ``batch_end`` must be ``batch_start * 2**k`` for some k >= 0.
    """
    if batch_start < 1:
        raise ValueError(f"Argument `batch_start` must be >= 1. Received: batch_start={batch_start}")
    ratio = batch_end / batch_start
    doublings = round(math.log2(ratio)) if ratio >= 1 else -1
    if doublings < 0 or batch_start * 2**doublings != batch_end:
        raise ValueError(
            f"Argument `batch_end` must be batch_start * 2**k (k >= 0). Received: batch_start={batch_start}, batch_end={batch_end}"
        )
    return [batch_start * 2**k for k in range(doublings + 1)]


def batch_growth(epoch: int, batch_start: int, batch_end: int, epochs_per_stage: int) -> int:
    """Batch size during (0-based) ``epoch`` when it doubles every ``epochs_per_stage`` epochs."""
    if epochs_per_stage < 1:
        raise ValueError(f"Argument `epochs_per_stage` must be >= 1. Received: epochs_per_stage={epochs_per_stage}")
    stages = batch_sizes(batch_start, batch_end)
    return stages[min(epoch // epochs_per_stage, len(stages) - 1)]
