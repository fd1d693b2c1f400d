"""The LR range test's math: smoothing, the stop rule and the lr_min/lr_max suggestion.

Pure NumPy, shared by ``LearningRateFinder`` (one loss per batch) and the LR
grid of ``find_lr.py --grid`` (one final loss per learning rate).

Two smoothings with two jobs: the bias-corrected EMA (``SmoothedLoss``) is
causal, so the sweep can stop on it as it runs, but it lags the batch losses
by about ``beta / (1 - beta)`` batches (49 at beta 0.98), which moves every
feature of the curve to higher LRs. The suggestion is therefore read from
``lag_free_losses``, a centred mean over the same number of batches on
either side, which has no lag.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from pyimagesearch.core.wording import plural

DROP_START = 0.10
DROP_END = 0.90
# The curve must fall this share of its first value below it; a network at chance
# fluctuates around its first loss by far less, a network that learns falls by half or more.
MIN_RELATIVE_DROP = 0.05
STEEPEST_FACTOR = 10
MINIMUM_DIVISOR = 3
# lr_max rules compared by benchmarks/lr_rule_study.py (README: "How lr_min and lr_max are chosen").
LR_MAX_RULES = {
    "drop90": "first LR where the loss has fallen by 90% of its drop",
    "steepest*10": f"{STEEPEST_FACTOR} x the LR of the steepest fall before the minimum, at most the LR at the minimum",
    "minimum/3": f"the LR at the minimum loss / {MINIMUM_DIVISOR}",
    "minimum": "the LR at the minimum loss",
}
# The default rule is the one benchmarks/lr_rule_study.py chooses on validation accuracy
# (lenet.choices.SPLIT_DISCIPLINE): its run of 2026-12-02 (seeds 42, 1, 2; the four rules) chose
# minimum/3, 91.08% mean validation accuracy, tied within noise with steepest*10 (91.05%; paired
# difference -0.77 to +0.83 points), so the choice is the best mean, not a settled ranking.
DEFAULT_LR_MAX_RULE = "minimum/3"


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


def lag_free_half_width(beta: float) -> int:
    """Batches on each side of the centred mean that smooths like an EMA of factor ``beta``: its lag, beta/(1-beta)."""
    if not 0 <= beta < 1:
        raise ValueError(f"Argument `beta` must be in [0, 1). Received: beta={beta}")
    return round(beta / (1 - beta))


def centred_mean(values, half_width: int) -> np.ndarray:
    """Mean of a window centred on each point, narrowed symmetrically near the ends::

        k = min(half_width, i, n - 1 - i)
        smooth[i] = mean(values[i - k : i + k + 1])

    A symmetric window does not shift a curve along its axis (a linear trend
    comes out unchanged), and ``smooth[0] = values[0]``.
    """
    if half_width < 0:
        raise ValueError(f"Argument `half_width` must be >= 0. Received: half_width={half_width}")
    values = np.asarray(values, dtype=float)
    n = len(values)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(n)
    k = np.minimum(half_width, np.minimum(index, n - 1 - index))
    return (sums[index + k + 1] - sums[index - k]) / (2 * k + 1)


def lag_free_losses(losses, beta: float = 0.98) -> np.ndarray:
    """``centred_mean`` of the losses up to the first NaN/inf (NaN from there on), over ``lag_free_half_width(beta)``."""
    losses = np.asarray(losses, dtype=float)
    finite = np.isfinite(losses)
    end = len(losses) if finite.all() else int(np.argmin(finite))
    smooth = np.full(len(losses), np.nan)
    smooth[:end] = centred_mean(losses[:end], lag_free_half_width(beta))
    return smooth


@dataclass
class LRSuggestion:
    """A suggested cyclical range, or the reason there is none (``lr_min is None``)."""

    lr_min: float | None
    lr_max: float | None
    lr_at_minimum: float | None = None
    lr_steepest: float | None = None
    still_decreasing: bool = False
    reason: str = ""
    lr_max_rule: str = DEFAULT_LR_MAX_RULE

    def __bool__(self) -> bool:
        return self.lr_min is not None

    def to_dict(self) -> dict:
        return asdict(self)


def suggest_lr_range(lrs, losses, skip_begin: int = 0, skip_end: int = 0,
                     lr_max_rule: str = DEFAULT_LR_MAX_RULE) -> LRSuggestion:
    """Suggest lr_min and lr_max from a loss-versus-LR curve (LRs increasing).

    ``losses`` is the curve the rule reads: ``lag_free_losses`` of a range
    test's batch losses, or the grid's final losses. The rule, after Smith
    (arXiv 1506.01186, section 3.3: base_lr where the loss starts to fall,
    max_lr where the fall stops):

    1. Keep the curve up to its first NaN/inf, then drop ``skip_begin``
       points at the start and ``skip_end`` at the end (if that leaves fewer
       than 3 points, the finite curve is used whole).
    2. ``drop`` = first loss - minimum loss, the first loss being that of the
       first point, before any skipped. If ``drop`` < 5% of the first loss
       (``MIN_RELATIVE_DROP``), the loss never fell: no suggestion.
    3. lr_min = first LR where the loss has fallen by 10% of ``drop``;
       lr_max by ``lr_max_rule`` (``LR_MAX_RULES``): ``drop90`` the first LR
       where it has fallen by 90% of ``drop``, ``minimum`` the LR at the
       minimum, ``minimum/3`` a third of it, ``steepest*10`` ten times the LR
       of the steepest fall (of loss against log LR) before the minimum, at
       most the LR at the minimum. If lr_min >= lr_max, lr_min = lr_max / 4,
       Smith's rule of thumb.
    4. If the minimum is the last point considered and the curve was not cut
       by a NaN, the loss was still falling at the end of the range:
       ``still_decreasing`` is set, as lr_max may be too low.

    ``lr_at_minimum`` and ``lr_steepest`` are reported whatever the rule.
    """
    if lr_max_rule not in LR_MAX_RULES:
        raise ValueError(f"Argument `lr_max_rule` must be one of {tuple(LR_MAX_RULES)}. Received: lr_max_rule={lr_max_rule!r}")
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
        return LRSuggestion(None, None, reason=f"only {plural(hi - lo, 'finite point')} before the loss diverged; "
                                               "start the range lower",
                            lr_max_rule=lr_max_rule)
    start = losses[0]
    x, y = lrs[lo:hi], losses[lo:hi]
    best = int(np.argmin(y))
    drop = start - y[best]
    lr_at_minimum = float(x[best])
    falling = np.gradient(y[:best + 1], np.log(x[:best + 1])) if best >= 1 else np.zeros(1)
    steepest = float(x[int(np.argmin(falling))])
    if drop < MIN_RELATIVE_DROP * abs(start):
        return LRSuggestion(None, None, lr_at_minimum, steepest, lr_max_rule=lr_max_rule,
                            reason=f"the loss never fell {100 * MIN_RELATIVE_DROP:g}% below its first value "
                                   f"({start:.3g}; lowest {y[best]:.3g}); start lower or use more batches")
    i_min = int(np.argmax(y <= start - DROP_START * drop))
    if lr_max_rule == "drop90":
        lr_max = float(x[int(np.argmax(y <= start - DROP_END * drop))])
    elif lr_max_rule == "minimum":
        lr_max = lr_at_minimum
    elif lr_max_rule == "minimum/3":
        lr_max = lr_at_minimum / MINIMUM_DIVISOR
    else:
        lr_max = min(STEEPEST_FACTOR * steepest, lr_at_minimum)
    lr_min = float(x[i_min]) if x[i_min] < lr_max else lr_max / 4
    still = best == len(y) - 1 and end == len(losses)
    reason = "the loss was still falling at the end of the range; extend the end LR" if still else ""
    return LRSuggestion(lr_min, lr_max, lr_at_minimum, steepest, still, reason, lr_max_rule)
