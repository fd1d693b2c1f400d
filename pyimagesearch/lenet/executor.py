"""Problem 1's sweeps on ``core.sweep``: the flags a command without a sweep refuses, and trials that are commands.

- ``executor_flags(args)``: the executor flags given (``--executor ray``,
  ``--ray-address`` ...), which find_lr.py without ``--grid`` and
  train_lenet.py without ``--seeds`` refuse, having no sweep to spread;
- ``ray_strategy_conflict(args)``: ``--executor ray`` with a ``--strategy``
  that spreads one run over several devices or workers, which it cannot share;
- ``process_strategy(name, executor)``: the ``tf.distribute`` strategy, made
  once per process, so the driver and the trials it runs itself share it
  (with Ray each trial has one device);
- ``run_command(trial)``: a trial that is one of this project's commands in a
  child process (the LR rule study's runs), as the user would type it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError

EXECUTOR_FLAGS = {"executor": "--executor", "ray_address": "--ray-address", "trial_cpus": "--trial-cpus",
                  "trial_gpus": "--trial-gpus"}
EXECUTOR_KEYS = tuple(EXECUTOR_FLAGS)
PROJECT_ROOT = Path(__file__).resolve().parents[2]

_strategies: dict[str, tuple[Any, Any]] = {}


def executor_flags(args: argparse.Namespace) -> list[str]:
    """The executor flags set away from their defaults (``--executor serial`` is the default, not a flag given)."""
    given = [flag for key, flag in EXECUTOR_FLAGS.items() if key != "executor" and getattr(args, key, None) is not None]
    if getattr(args, "executor", "serial") != "serial":
        given.insert(0, f"--executor {args.executor}")
    return given


def ray_strategy_conflict(args: argparse.Namespace) -> str | None:
    """Why ``--executor ray`` cannot go with ``--strategy`` here, or None."""
    if getattr(args, "executor", "serial") == "ray" and getattr(args, "strategy", "auto") not in ("auto", "default"):
        return (f"--executor ray gives each trial its own share of the machine, while --strategy {args.strategy} spreads "
                f"one run over several devices or workers; use one of them")
    return None


def check_sweep_flags(parser: argparse.ArgumentParser, args: argparse.Namespace, sweep: bool, one_run: str) -> None:
    """``parser.error`` (exit 2, one sentence) for executor flags without a sweep, or Ray with a spreading strategy.

    ``one_run`` says what the command is without its sweep flag ("the range test
    is one run; add --grid N").
    """
    if not sweep and executor_flags(args):
        parser.error(f"{' and '.join(executor_flags(args))} spread a sweep's runs, but {one_run} or leave them out")
    if ray_strategy_conflict(args):
        parser.error(ray_strategy_conflict(args))


def without_executor(settings: dict) -> dict:
    """``settings`` without the executor's keys: how a sweep ran is no part of a trial's own run."""
    return {key: value for key, value in settings.items() if key not in EXECUTOR_KEYS}


def process_strategy(name: str, executor: str = "serial"):
    """``core.distribute.make_strategy(name)``, made once per process: ``(strategy, worker or None)``.

    With ``executor`` "ray" a trial runs on the devices Ray gave it, one device
    (``--strategy default``), and the driver, which trains nothing, touches no device.
    """
    if executor == "ray":
        import tensorflow as tf

        return tf.distribute.get_strategy(), None  # make_strategy would list (and so take) the GPUs here
    if name not in _strategies:
        from pyimagesearch.core.distribute import make_strategy

        _strategies[name] = make_strategy(name)
    return _strategies[name]


def command_trial(name: str, folder, script: str, argv: list[str]):
    """A ``core.sweep.Trial`` that runs ``python <script> <argv> --output <folder>`` (``run_command``).

    The command runs in the project's folder, so the paths in ``argv`` must
    be absolute; ``--output`` is the trial's folder, which is.
    """
    from pyimagesearch.core.sweep import Trial

    trial = Trial(name, folder, {"script": script, "argv": [*map(str, argv)]})
    return Trial(trial.name, trial.folder, {**trial.settings, "argv": [*trial.settings["argv"], "--output", trial.folder]})


def run_command(trial) -> None:
    """Run the trial's command in a child process (dying with this one); it must leave its ``--output`` finished.

    A command that ends without finishing its folder (a diverged run, exit 2)
    raises ``UserError`` with the command's own last sentence: the one-sentence
    error of a trial, which ``core.sweep`` reports and does not retry. The
    command resumes an unfinished folder by itself, so a trial started again
    after its worker died goes on from the run's last checkpoint.
    """
    from pyimagesearch.core.processes import start_child
    from pyimagesearch.core.run import completion

    settings = trial.settings
    command = [sys.executable, str(PROJECT_ROOT / settings["script"]), *settings["argv"]]
    child = start_child(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, errors = child.communicate()
    if completion(trial.folder) is None:
        lines = [line for line in errors.strip().splitlines() if line.strip()]
        said = next((line.removeprefix("error: ") for line in reversed(lines) if line.startswith("error: ")),
                    lines[-1] if lines else "no message")
        raise UserError(f"python {settings['script']} {' '.join(settings['argv'])} ended with status "
                        f"{child.returncode} and left {trial.folder} unfinished: {said}")
