"""The LR range test's math: smoothing, the stop rule and the lr_min/lr_max suggestion.

Pure NumPy, shared by ``LearningRateFinder`` (one loss per batch) and the LR
grid of ``find_lr.py --grid`` (one final loss per learning rate).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

DROP_START = 0.10
DROP_END = 0.90
MIN_RELATIVE_DROP = 0.01


class SmoothedLoss:
    """Bias-corrected exponential moving average of the loss (pyimagesearch finder)::

        avg = beta * avg + (1 - beta) * loss
        smooth = avg / (1 - beta**n)          # n = batches seen so far

    ``best`` is the lowest smoothed value so far. ``update`` returns the new
    smoothed value and whether the sweep must stop: the loss is NaN/inf, or
    ``n > 1 and smooth > stop_factor * best`` (tested before ``best`` is updated).
    """

    def __init__(self, beta: float = 0.98, stop_factor: float = 4.0):
        if not 0 <= beta < 1:
            raise ValueError(f"Argument `beta` must be in [0, 1). Received: beta={beta}")
        if not stop_factor > 1:
            raise ValueError(f"Argument `stop_factor` must be > 1. Received: stop_factor={stop_factor}")
        self.beta = beta
        self.stop_factor = stop_factor
        self.average = 0.0
        self.count = 0
        self.best = math.inf

    def update(self, loss: float) -> tuple[float, bool]:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * loss
        smooth = self.average / (1 - self.beta**self.count)
        if not (math.isfinite(loss) and math.isfinite(smooth)):
            return smooth, True
        if self.count > 1 and smooth > self.stop_factor * self.best:
            return smooth, True
        if self.count == 1 or smooth < self.best:
            self.best = smooth
        return smooth, False


def smooth_losses(losses, beta: float = 0.98) -> np.ndarray:
    """Apply ``SmoothedLoss`` to a whole sequence (no stopping)."""
    smoother = SmoothedLoss(beta, stop_factor=math.inf)
    return np.array([smoother.update(float(loss))[0] for loss in losses])


@dataclass
class LRSuggestion:
    """A suggested cyclical range, or the reason there is none (``lr_min is None``)."""

    lr_min: float | None
    lr_max: float | None
    lr_at_minimum: float | None = None
    lr_steepest: float | None = None
    still_decreasing: bool = False
    reason: str = ""

    def __bool__(self) -> bool:
        return self.lr_min is not None

    def to_dict(self) -> dict:
        return asdict(self)


def suggest_lr_range(lrs, losses, skip_begin: int = 0, skip_end: int = 0) -> LRSuggestion:
    """Suggest lr_min and lr_max from a loss-versus-LR curve (LRs increasing).

    The rule, after Smith (arXiv 1506.01186, section 3.3: base_lr where the
    loss starts to fall, max_lr where the fall stops):

    1. Keep the curve up to its first NaN/inf, then drop ``skip_begin``
       points at the start and ``skip_end`` at the end (if that leaves fewer
       than 3 points, the finite curve is used whole).
    2. ``drop`` = first loss - minimum loss. If the minimum is the first point
       or ``drop`` < 1% of the first loss, the loss never fell: no suggestion.
    3. lr_min = first LR where the loss has fallen by 10% of ``drop``;
       lr_max = first LR where it has fallen by 90% of ``drop``. If they
       coincide (a fall between two points), lr_min = lr_max / 4, Smith's rule
       of thumb.
    4. If the minimum is the last point considered and the curve was not cut
       by a NaN, the loss was still falling at the end of the range:
       ``still_decreasing`` is set, as lr_max may be too low.

    ``lr_at_minimum`` and ``lr_steepest`` (steepest fall of loss against
    log LR, the pytorch-lr-finder rule) are reported for reference.
    """
    lrs = np.asarray(lrs, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if lrs.shape != losses.shape:
        raise ValueError(f"`lrs` and `losses` differ in length: {lrs.shape} vs {losses.shape}")
    finite = np.isfinite(losses)
    end = len(losses) if finite.all() else int(np.argmin(finite))
    lo, hi = skip_begin, end - skip_end
    if hi - lo < 3:
        lo, hi = 0, end
    if hi - lo < 3:
        return LRSuggestion(None, None, reason=f"only {hi - lo} finite points before the loss diverged; start the range lower")
    x, y = lrs[lo:hi], losses[lo:hi]
    best = int(np.argmin(y))
    drop = y[0] - y[best]
    lr_at_minimum = float(x[best])
    steepest = float(x[int(np.argmin(np.gradient(y, np.log(x))))])
    if best == 0 or drop < MIN_RELATIVE_DROP * abs(y[0]):
        return LRSuggestion(None, None, lr_at_minimum, steepest,
                            reason="the loss did not fall over the range; start lower or use more batches")
    i_min = int(np.argmax(y <= y[0] - DROP_START * drop))
    i_max = int(np.argmax(y <= y[0] - DROP_END * drop))
    lr_max = float(x[i_max])
    lr_min = float(x[i_min]) if i_min < i_max else lr_max / 4
    still = best == len(y) - 1 and end == len(losses)
    reason = "the loss was still falling at the end of the range; extend the end LR" if still else ""
    return LRSuggestion(lr_min, lr_max, lr_at_minimum, steepest, still, reason)
