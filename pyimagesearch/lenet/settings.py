"""What a LeNet-5 training run does: its LR policy's options, resolved from the flags.

Policies (SGD with momentum throughout, the optimizer of the LR range test):

- ``clr``: cyclical learning rate between lr_min and lr_max (Smith 2017,
  arXiv 1506.01186) through the ``CyclicalLearningRate`` schedule, step size
  given in epochs;
- ``batch-growth``: a fixed LR while the batch size doubles every K epochs
  from ``batch_start`` to ``batch_end`` (Smith, Kindermans, Ying & Le 2018,
  "Don't Decay the Learning Rate, Increase the Batch Size", arXiv 1711.00489);
- ``fixed``: a fixed LR and batch size, the baseline.

``OPTIONS`` is the one table of the policies' options: it makes the
command-line flags (``add_policy_options``), holds their defaults and says
which policies each applies to, so an option of another policy is refused.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from pyimagesearch.core.cli import UserError, learning_rate, positive_float, unit_interval
from pyimagesearch.lenet.arguments import MAX_BATCH, MAX_EPOCHS, count_up_to
from pyimagesearch.core.outputs import read_json
from pyimagesearch.core.pipeline import steps_per_epoch
from pyimagesearch.lr_policies import CLR_MODES, batch_growth, batch_sizes
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.lenet import POLICIES
from pyimagesearch.records.lr_finder import LRRangeSuggestion

OUTPUT_DIRS = {"clr": "output/clr", "batch-growth": "output/batch_growth", "fixed": "output/fixed"}


@dataclass(frozen=True)
class Option:
    """A policy option: the policies it applies to, its default (None: no default) and its flag's type and help."""

    policies: tuple[str, ...]
    default: Any
    type: Callable[[str], Any]
    help: str
    choices: tuple[str, ...] | None = None


OPTIONS = {
    "lr_min": Option(("clr",), None, learning_rate, "lower LR of the cycle (default: lr_min of --from-finder)"),
    "lr_max": Option(("clr",), None, learning_rate, "upper LR of the cycle (default: lr_max of --from-finder)"),
    "mode": Option(("clr",), "exp_range", str, "amplitude scaling of the cycle", CLR_MODES),
    # Epochs per half cycle (Smith: 2-10 epochs' worth of iterations), chosen on validation accuracy by
    # `benchmarks/lr_rule_study.py --step-sizes 2.5,5,10` (2026-12-02, seeds 42, 1, 2, the minimum/3 range):
    # 10 (one cycle in the default 20 epochs) 91.12%, 2.5 91.08%, 5 91.05%, tied within noise (10 minus 2.5:
    # -0.91 to +0.99 points), so the choice is the best mean, not a settled ranking. Each ends at lr_min.
    "step_size": Option(("clr",), 10.0, positive_float, "half a cycle, in epochs (may be fractional; Smith: 2-10)"),
    "gamma": Option(("clr",), 0.99994, unit_interval,  # bckenstler's example value
                    "exp_range decay per iteration, in (0, 1]; the amplitude is scaled by gamma**iteration"),
    "batch": Option(("clr", "fixed"), 64, count_up_to(MAX_BATCH, "the batch size"), "batch size"),
    "lr": Option(("batch-growth", "fixed"), None, learning_rate, "the fixed learning rate (default: lr_max of --from-finder)"),
    "batch_start": Option(("batch-growth",), 32, count_up_to(MAX_BATCH, "the batch size"), "first batch size"),
    "batch_end": Option(("batch-growth",), 4096, count_up_to(MAX_BATCH, "the batch size"),
                        "last batch size, batch-start x 2**k"),
    "epochs_per_stage": Option(("batch-growth",), 2, count_up_to(MAX_EPOCHS, "epochs per stage"),
                               "epochs at each batch size"),
    "epochs": Option(POLICIES, 20, count_up_to(MAX_EPOCHS, "the number of epochs"),
                     "number of epochs (default: 20; batch-growth: stages x epochs-per-stage)"),
}
DEFAULTS = {name: option.default for name, option in OPTIONS.items() if option.default is not None}


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def add_policy_options(parser) -> None:
    """One flag per ``OPTIONS`` entry, left out of the namespace unless given (its default lives in the table)."""
    group = parser.add_argument_group("policy options (refused by the policies they do not apply to)")
    for name, option in OPTIONS.items():
        applies = "" if option.policies == POLICIES else "/".join(option.policies) + ": "
        shown = f"{option.default:g}" if isinstance(option.default, float) else option.default
        default = "" if option.default is None or "default" in option.help else f" (default: {shown})"
        group.add_argument(flag(name), type=option.type, choices=option.choices, default=argparse.SUPPRESS,
                           help=f"{applies}{option.help}{default}")


def given_options(namespace) -> dict[str, Any]:
    """The policy options a parsed namespace holds: those the user passed."""
    return {key: value for key, value in vars(namespace).items() if key in OPTIONS}


def read_finder_suggestion(path: str | os.PathLike) -> tuple[float, float]:
    """``(lr_min, lr_max)`` from an LR range test's ``suggestion.json``."""
    if not Path(path).exists():
        raise UserError(f"LR finder suggestion {path} does not exist; run find_lr.py first or pass the LRs as flags")
    suggestion = read_json(path, what="LR finder suggestion")
    values = suggestion if isinstance(suggestion, dict) else {}
    lr_min, lr_max = values.get("lr_min"), values.get("lr_max")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                  for v in (lr_min, lr_max))
    if not numbers or not lr_min < lr_max:
        raise UserError(
            f"LR finder suggestion {path} does not hold positive numbers lr_min < lr_max "
            f"(found lr_min={lr_min!r}, lr_max={lr_max!r}); rerun find_lr.py or pass the LRs as flags"
        )
    try:  # the rest of the record must hold too: a file that fails it is not a suggestion to train with
        LRRangeSuggestion.from_json(values, str(path))
    except RecordError as error:
        raise UserError(f"LR finder suggestion {error}; rerun find_lr.py or pass the LRs as flags") from None
    return float(lr_min), float(lr_max)


@dataclass
class Stage:
    """Epochs ``first_epoch`` (0-based) up to, not including, ``end_epoch`` at one batch size."""

    batch_size: int
    first_epoch: int
    end_epoch: int


def batch_growth_stages(batch_start: int, batch_end: int, epochs_per_stage: int, epochs: int) -> list[Stage]:
    """Stages of the batch-growth policy: ``lr_policies.batch_growth`` per epoch, grouped.

    With 32 -> 4096 and K epochs per stage: 32 for epochs 0..K-1, 64 for K..2K-1,
    ..., 4096 from epoch 7K on (8 stages); epochs beyond 8K stay at 4096.
    """
    stages: list[Stage] = []
    for epoch in range(epochs):
        size = batch_growth(epoch, batch_start, batch_end, epochs_per_stage)
        if stages and stages[-1].batch_size == size:
            stages[-1].end_epoch = epoch + 1
        else:
            stages.append(Stage(size, epoch, epoch + 1))
    return stages


@dataclass
class PolicySettings:
    """What a training run does, resolved from the flags (and the LR finder's suggestion)."""

    policy: str
    epochs: int
    stages: list[Stage]
    lr_source: str
    lr: float | None = None
    lr_min: float | None = None
    lr_max: float | None = None
    mode: str | None = None
    step_size: float | None = None  # in epochs
    gamma: float | None = None
    batch_start: int | None = None
    batch_end: int | None = None
    epochs_per_stage: int | None = None
    step_size_iterations: float | None = None  # clr, once the training set size is known

    def set_train_size(self, num_images: int, drop_remainder: bool = False) -> None:
        """Turn the clr step size from epochs into iterations for ``num_images`` training images.

        ``drop_remainder``: the training loop drops a partial last batch (multi-worker).
        """
        if self.policy == "clr":
            self.step_size_iterations = clr_step_size_iterations(self.step_size, num_images, self.stages[0].batch_size,
                                                                 drop_remainder)

    def scale_batches(self, replicas: int) -> None:
        """Turn per-replica batch sizes into global ones: ``batch * replicas``."""
        for stage in self.stages:
            stage.batch_size *= replicas
        if self.batch_start is not None:
            self.batch_start *= replicas
            self.batch_end *= replicas

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def resolve_settings(policy: str, given: dict[str, Any], from_finder: str | None = None) -> PolicySettings:
    """Check the policy's options and fill in defaults; a ``UserError`` for impossible combinations.

    ``given`` holds only the options the user passed (keys of ``OPTIONS``). Explicit LRs win over the finder's suggestion.
    """
    if policy not in POLICIES:
        raise ValueError(f"Argument `policy` must be one of {POLICIES}. Received: policy={policy!r}")
    for option in given:
        if policy not in OPTIONS[option].policies:
            users = " or ".join(f"--policy {p}" for p in OPTIONS[option].policies)
            raise UserError(f"{flag(option)} applies only to {users}, not to --policy {policy}; drop it")
    options = {**DEFAULTS, **given}
    suggestion = read_finder_suggestion(from_finder) if from_finder else None
    if policy == "clr":
        return _resolve_clr(options, given, suggestion, from_finder)
    if "lr" in given:
        lr, source = given["lr"], "--lr"
    elif suggestion:
        lr, source = suggestion[1], f"lr_max of {from_finder}"
    else:
        raise UserError(f"--policy {policy} needs a learning rate: pass --lr or --from-finder with an LR range test's suggestion.json")
    if policy == "fixed":
        epochs = options["epochs"]
        return PolicySettings(policy, epochs, [Stage(options["batch"], 0, epochs)], source, lr=lr)
    try:
        stages_count = len(batch_sizes(options["batch_start"], options["batch_end"]))
    except ValueError:
        raise UserError(
            f"--batch-end {options['batch_end']} cannot be reached by doubling --batch-start {options['batch_start']}; "
            "choose --batch-end = batch-start x 2**k"
        ) from None
    epochs = given.get("epochs", stages_count * options["epochs_per_stage"])
    if epochs > MAX_EPOCHS:
        raise UserError(f"{stages_count} stages of --epochs-per-stage {options['epochs_per_stage']} are {epochs:,} epochs, "
                        f"more than the {MAX_EPOCHS:,} a run may have; lower --epochs-per-stage or pass --epochs")
    stages = batch_growth_stages(options["batch_start"], options["batch_end"], options["epochs_per_stage"], epochs)
    return PolicySettings(policy, epochs, stages, source, lr=lr, batch_start=options["batch_start"],
                    batch_end=options["batch_end"], epochs_per_stage=options["epochs_per_stage"])


def _resolve_clr(options, given, suggestion, from_finder) -> PolicySettings:
    sources = {}
    bounds = {}
    for index, name in enumerate(("lr_min", "lr_max")):
        if name in given:
            bounds[name], sources[name] = given[name], flag(name)
        elif suggestion:
            bounds[name], sources[name] = suggestion[index], str(from_finder)
        else:
            raise UserError("--policy clr needs --lr-min and --lr-max, or --from-finder with an LR range test's suggestion.json")
    if not bounds["lr_min"] < bounds["lr_max"]:
        raise UserError(f"lr_min ({bounds['lr_min']:g}) must be below lr_max ({bounds['lr_max']:g}); swap or change them")
    if options["mode"] not in CLR_MODES:
        raise ValueError(f"Argument `mode` must be one of {CLR_MODES}. Received: mode={options['mode']!r}")
    if "gamma" in given and options["mode"] != "exp_range":
        raise UserError(f"--gamma applies only to --mode exp_range, not to --mode {options['mode']}; drop it")
    epochs = options["epochs"]
    source = (f"lr_min and lr_max from {sources['lr_min']}" if sources["lr_min"] == sources["lr_max"]
              else f"lr_min from {sources['lr_min']}, lr_max from {sources['lr_max']}")
    return PolicySettings("clr", epochs, [Stage(options["batch"], 0, epochs)], source, lr_min=bounds["lr_min"],
                    lr_max=bounds["lr_max"], mode=options["mode"], step_size=options["step_size"],
                    gamma=options["gamma"])


def cycle_note(settings: PolicySettings) -> str:
    """A note when a clr run stops mid-cycle, "" otherwise.

    Smith (section 3.2) stops training at the end of a cycle, when the LR is
    back at lr_min; that needs ``epochs`` to be a multiple of ``2 * step_size``.
    """
    if settings.policy != "clr":
        return ""
    cycles = settings.epochs / (2 * settings.step_size)
    if cycles >= 1 and math.isclose(cycles, round(cycles), rel_tol=1e-9):
        return ""
    return (f"note: {settings.epochs} epochs are {cycles:.3g} cycles of {2 * settings.step_size:g} epochs, so training "
            "stops mid-cycle above lr_min; Smith stops at the end of a cycle (--epochs a multiple of 2 x --step-size)")


def check_step_size(settings: PolicySettings) -> None:
    """Refuse a clr step size under one iteration: the LR could not follow any cycle."""
    if settings.policy == "clr" and settings.step_size_iterations < 1:
        per_epoch = settings.step_size_iterations / settings.step_size
        raise UserError(f"--step-size {settings.step_size:g} epochs is {settings.step_size_iterations:.3g} iterations, "
                        f"less than one (an epoch has {per_epoch:g}); pass --step-size {1 / per_epoch:.3g} or more")


def clr_step_size_iterations(step_size_epochs: float, num_images: int, batch_size: int,
                             drop_remainder: bool = False) -> float:
    """Smith's step size in iterations: ``step_size_epochs * steps_per_epoch(num_images, batch_size)``."""
    return step_size_epochs * steps_per_epoch(num_images, batch_size, drop_remainder)


def describe(settings: PolicySettings) -> str:
    """One line saying what the run does."""
    if settings.policy == "clr":
        gamma = f", gamma {settings.gamma:g}" if settings.mode == "exp_range" else ""
        steps = f" ({settings.step_size_iterations:g} iterations)" if settings.step_size_iterations else ""
        return (f"clr {settings.mode}: lr {settings.lr_min:.3g} to {settings.lr_max:.3g}, step size {settings.step_size:g} "
                f"epochs{steps}{gamma}, batch {settings.stages[0].batch_size}, {settings.epochs} epochs")
    if settings.policy == "batch-growth":
        every = "every epoch" if settings.epochs_per_stage == 1 else f"every {settings.epochs_per_stage} epochs"
        return (f"batch-growth: lr {settings.lr:.3g}, batch {settings.batch_start} to {settings.batch_end} doubling {every}, "
                f"{settings.epochs} epochs")
    return f"fixed: lr {settings.lr:.3g}, batch {settings.stages[0].batch_size}, {settings.epochs} epochs"
