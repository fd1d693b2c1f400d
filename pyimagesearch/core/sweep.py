"""A sweep's runs, one after another or side by side on Ray Tune: ``--executor serial|ray``.

A sweep (the LR grid, ``--seeds``, the transfer sweep ...) is a list of
``Trial``: a name, the run's own results folder and its settings, all plain
and picklable. One top-level function ``run_one(trial)`` runs a trial into
its folder through ``core.run.RunFolder`` (lock, settings, seeds, exact
resume, ``complete.json``); the executor only decides where and when::

    parser = argparse.ArgumentParser(...)
    add_executor_arguments(parser)
    ...
    trials = [Trial(f"lr-{lr:.3g}", folder / f"lr-{lr:.3g}", {**settings, "lr": lr}) for lr in lrs]
    results = run_trials(trials, run_point, args, name="lr_grid")   # run_point(trial) is the serial code

- ``serial`` (default): a plain loop in this process; nothing of Ray is imported;
- ``ray``: each trial is a Ray Tune trial with its share of CPUs and GPUs
  (``core.sweep_ray``, where the use on one machine and on a cluster is written out).

Either way a trial whose folder is finished (``completion(folder)`` is not
None) is kept as it is and not run again, so a sweep started again, after
any interruption, runs only what is missing; ``run_one`` resumes an
unfinished folder by itself. The results are the same numbers either way,
since each run's random streams depend only on its own settings and seed.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from pyimagesearch.core.cli import UserError, bounded_float
from pyimagesearch.core.run import check_output_path, completion

EXECUTORS = ("serial", "ray")
INSTALL_RAY = 'pip install -e ".[ray]"'
MAX_TRIAL_CPUS = 1024.0
MAX_TRIAL_GPUS = 64.0
RAY_FLAGS = {"ray_address": "--ray-address", "trial_cpus": "--trial-cpus", "trial_gpus": "--trial-gpus"}
ADDRESS = re.compile(r"auto|(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: ``name`` (unique in the sweep), its results ``folder`` and its ``settings``.

    The folder is made absolute here, because a Ray trial may run in another
    working directory (or on another machine, where the folder must be the same path).
    """

    name: str
    folder: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Argument `name` must be a non-empty string. Received: name={self.name!r}")
        folder = check_output_path(self.folder)
        object.__setattr__(self, "folder", os.path.abspath(folder))
        object.__setattr__(self, "settings", dict(self.settings))


@dataclass(frozen=True)
class TrialResult:
    """How a trial ended: ``status`` "ran" or "kept" (finished before), its ``seconds`` and completion ``summary``."""

    name: str
    folder: str
    status: str
    seconds: float
    summary: dict


def ray_address(text: str) -> str:
    """argparse type: ``auto``, ``HOST:PORT`` (a cluster's GCS address) or ``ray://HOST:PORT`` (Ray Client)."""
    if not ADDRESS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Ray address; give auto, HOST:PORT or ray://HOST:PORT")
    return text


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--executor``, ``--ray-address``, ``--trial-cpus``, ``--trial-gpus`` (the last three only with ``ray``)."""
    group = parser.add_argument_group("executor (where the sweep's runs go; the results are the same numbers)")
    group.add_argument("--executor", choices=EXECUTORS, default="serial",
                       help="serial: one run after another in this process; ray: the runs side by side as Ray "
                            f"Tune trials, on this machine's cores and GPUs or a cluster (needs {INSTALL_RAY})")
    group.add_argument("--ray-address", type=ray_address, default=None,
                       help="with --executor ray: the cluster to join, auto (the one `ray start --head` runs on "
                            "this machine), HOST:PORT or ray://HOST:PORT (default: start a local Ray on this "
                            "machine's cores, stopped at the end)")
    group.add_argument("--trial-cpus", type=bounded_float(0, MAX_TRIAL_CPUS, "--trial-cpus", low_open=True),
                       default=None,
                       help="with --executor ray: CPUs per trial, fractions allowed; TensorFlow's thread pools "
                            "get the whole part, at least 1 (default: the cores per GPU where there are GPUs, "
                            "else an equal share of the cores among the trials)")
    group.add_argument("--trial-gpus", type=bounded_float(0, MAX_TRIAL_GPUS, "--trial-gpus"), default=None,
                       help="with --executor ray: GPUs per trial, fractions allowed (0.5: two trials share one "
                            "GPU) (default: 1 where there are GPUs, else 0)")


def check_executor_arguments(args: argparse.Namespace) -> None:
    """Refuse the Ray flags without ``--executor ray``, and ``--executor ray`` without Ray; ``UserError``.

    Cheap: a command may call it right after parsing, before loading any data.
    """
    executor = getattr(args, "executor", "serial")
    if executor not in EXECUTORS:
        raise ValueError(f"Argument `executor` must be one of {EXECUTORS}. Received: executor={executor!r}")
    given = [flag for key, flag in RAY_FLAGS.items() if getattr(args, key, None) is not None]
    if executor == "serial" and given:
        raise UserError(f"{' and '.join(given)} only apply to --executor ray; add --executor ray or leave "
                        f"{'them' if len(given) > 1 else 'it'} out")
    if executor == "ray":
        try:
            import ray  # noqa: F401
            import ray.tune  # noqa: F401
        except ImportError:
            raise UserError(f"--executor ray needs Ray Tune, which is not installed; install it with "
                            f"{INSTALL_RAY} (or pip install \"ray[tune]\"), or use --executor serial") from None


def run_trials(trials: Sequence[Trial], run_one: Callable[[Trial], Any], args: argparse.Namespace, *,
               name: str = "sweep", storage: str | os.PathLike | None = None, max_failures: int = 2,
               log: Callable[[str], None] | None = None) -> list[TrialResult]:
    """Run every unfinished trial with ``run_one`` on ``args.executor``; one result per trial, in order.

    Args:
        trials: the sweep's trials (names and folders unique).
        run_one: a top-level (picklable) function that runs one trial into its
            folder and finishes it with ``RunFolder.complete``; what it returns is not used.
        args: the parsed command line (``add_executor_arguments``).
        name: the sweep's name in Ray's records.
        storage: where Ray Tune keeps its own records (default: ``ray_tune``
            beside the trials' folders); on a cluster, a folder every node can write.
        max_failures: with Ray, how often a trial whose worker died is started again.
        log: where the progress lines go (default: print).

    Raises:
        UserError: a Ray flag without ``--executor ray``, Ray missing, a trial
            whose worker kept dying, or a trial's own one-sentence error.
    """
    log = log or (lambda line: print(line, flush=True))
    check_executor_arguments(args)
    check_trials(trials)
    started = time.perf_counter()
    position = {trial.name: f"[{index}/{len(trials)}] {trial.name}" for index, trial in enumerate(trials, start=1)}
    results: dict[str, TrialResult] = {}
    for trial in trials:
        record = completion(trial.folder)
        if record is not None:
            results[trial.name] = TrialResult(trial.name, trial.folder, "kept", 0.0, record.get("summary") or {})
            log(f"{position[trial.name]}: finished earlier, kept ({describe(results[trial.name].summary)})")
    pending = [trial for trial in trials if trial.name not in results]
    how = "one after another"
    if pending and args.executor == "ray":
        from pyimagesearch.core import sweep_ray

        storage = Path(storage) if storage is not None else default_storage(pending)
        seconds, how = sweep_ray.run(pending, run_one, args, name=name, storage=storage,
                                     max_failures=max_failures, position=position, log=log)
        for trial in pending:
            results[trial.name] = finished(trial, seconds[trial.name])
    else:
        for trial in pending:
            log(f"{position[trial.name]}: started")
            begun = time.perf_counter()
            run_one(trial)
            results[trial.name] = finished(trial, time.perf_counter() - begun)
            log(f"{position[trial.name]}: finished in {results[trial.name].seconds:.1f} s "
                f"({describe(results[trial.name].summary)})")
    ran = sum(result.status == "ran" for result in results.values())
    log(f"{len(trials)} trials in {time.perf_counter() - started:.1f} s: {f'{ran} ran ({how})' if ran else '0 ran'}, "
        f"{len(trials) - ran} kept from before")
    return [results[trial.name] for trial in trials]


def check_trials(trials: Sequence[Trial]) -> None:
    """Names and folders unique: two trials in one folder would refuse each other (or mix results)."""
    for what in ("name", "folder"):
        values = [getattr(trial, what) for trial in trials]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"Argument `trials` must have unique {what}s. Received: {what} {repeated[0]!r} "
                             f"{values.count(repeated[0])} times")


def finished(trial: Trial, seconds: float) -> TrialResult:
    """The result of a trial that just ran; its folder must be finished now."""
    record = completion(trial.folder)
    if record is None:
        raise RuntimeError(f"run_one returned but {trial.folder} has no valid completion record; "
                           f"a trial's run function must end with RunFolder.complete()")
    return TrialResult(trial.name, trial.folder, "ran", seconds, record.get("summary") or {})


def default_storage(trials: Sequence[Trial]) -> Path:
    """``ray_tune`` in the folder that holds all the trials' folders."""
    return Path(os.path.commonpath([os.path.dirname(trial.folder) for trial in trials])) / "ray_tune"


def describe(summary: Mapping[str, Any], most: int = 4) -> str:
    """The first ``most`` plain values of a completion summary, as "key = value, ..." (floats to 4 digits)."""
    parts = []
    for key, value in summary.items():
        if isinstance(value, float) and math.isfinite(value):
            parts.append(f"{key} = {value:.4g}")
        elif isinstance(value, (bool, int, str)) or value is None:
            parts.append(f"{key} = {value}")
        if len(parts) == most:
            break
    return ", ".join(parts) or "no summary"
