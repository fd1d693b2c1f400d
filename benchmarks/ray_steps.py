"""Benchmark steps 6 and 7: a sweep's command serial against Ray Tune, trials side by side on this machine's cores.

6. ``find_lr.py --grid 10 --epochs 5`` (the task's grid), ``--executor serial``
   against ``--executor ray --trial-cpus 1``;
7. ``train_lenet.py --seeds 3`` (the fixed policy, 5 epochs), the same two ways.

Each side is the whole command in a process of its own, as a user runs it,
into a fresh folder (nothing kept from before): the Ray side's wall time
includes starting and stopping its local Ray (on all the machine's cores, 2
here: two trials of one core each at a time). The sides alternate round
after round; the ratio is Ray / serial wall time (below 1: Ray is faster),
the median of the rounds' ratios with their min / median / max. The largest
difference between the two sides' numbers is recorded too: a trial's
TensorFlow runs on its one core's threads, the serial run on all the cores',
and float32 sums in another order differ in the last digits, a difference
that training over several epochs makes larger.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from pyimagesearch.records.benchmark import Spread, SweepExecutor

ROOT = Path(__file__).resolve().parents[1]
RAY_STEPS = ("grid_ray", "seeds_ray")
TRIAL_CPUS = 1


def grid_command(quick: bool) -> list[str]:
    return ["find_lr.py", "--grid", "10", "--epochs", "5", "--batch", "64", "--quiet",
            *(["--limit", "6000"] if quick else [])]


def seeds_command(quick: bool) -> list[str]:
    return ["train_lenet.py", "--policy", "fixed", "--lr", "0.01", "--epochs", "5", "--seeds", "3", "--quiet",
            *(["--limit", "6000"] if quick else [])]


def run_side(command: list[str], folder: Path) -> float:
    """Seconds of ``python <command> --output <folder>``, which must leave the folder finished."""
    from pyimagesearch.core.run import completion

    started = time.perf_counter()
    result = subprocess.run([sys.executable, *command, "--output", str(folder)], cwd=ROOT, capture_output=True,
                            text=True)
    seconds = time.perf_counter() - started
    if completion(folder) is None:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode} without finishing {folder}: "
                           f"{result.stderr[-2000:]}")
    return seconds


def grid_numbers(folder: Path) -> list[float]:
    """The final training loss and accuracy of every LR that did not diverge."""
    from pyimagesearch.records.lr_finder import read_grid

    return [value for row in read_grid(folder, history=False) if not row.diverged
            for value in (row.final_train_loss, row.train_accuracy)]


def seeds_numbers(folder: Path) -> list[float]:
    """Test accuracy and loss and the final training loss of every seed's run."""
    from pyimagesearch.records.lenet import SeedsAggregate

    aggregate = SeedsAggregate.read(folder)
    return [value for name in ("test_accuracy", "test_loss", "final_train_loss")
            for value in getattr(aggregate, name).values]


def bench_sweep(command: list[str], trials: int, rounds: int, numbers: Callable[[Path], list[float]]) -> SweepExecutor:
    base = Path(tempfile.mkdtemp(prefix="sweep-"))
    ray_flags = ["--executor", "ray", "--trial-cpus", str(TRIAL_CPUS)]
    seconds: dict[str, list[float]] = {"serial": [], "ray": []}
    difference = 0.0
    for index in range(rounds):
        for side in (("serial", "ray") if index % 2 == 0 else ("ray", "serial")):
            seconds[side].append(run_side(command + (ray_flags if side == "ray" else []), base / f"{side}-{index}"))
        pairs = zip(numbers(base / f"serial-{index}"), numbers(base / f"ray-{index}"), strict=True)
        difference = max([difference, *(abs(a - b) for a, b in pairs)])
    ratios = [ray / serial for serial, ray in zip(seconds["serial"], seconds["ray"])]
    return SweepExecutor(
        command=" ".join(["python", *command]), trials=trials, trial_cpus=float(TRIAL_CPUS),
        ray_cpus=os.cpu_count() or 1, rounds=rounds, seconds=seconds,
        serial_s=statistics.median(seconds["serial"]), ray_s=statistics.median(seconds["ray"]),
        ray_ratio=statistics.median(ratios),
        ray_ratio_spread=Spread(min=min(ratios), median=statistics.median(ratios), max=max(ratios)),
        max_difference=difference,
    )


def steps(quick: bool, rounds: int) -> dict[str, Callable[[], SweepExecutor]]:
    return {
        "grid_ray": lambda: bench_sweep(grid_command(quick), 10, rounds, grid_numbers),
        "seeds_ray": lambda: bench_sweep(seeds_command(quick), 3, rounds, seeds_numbers),
    }


def markdown_lines(results) -> list[str]:
    """The table of the sweeps run serial and on Ray, for those that ran; no lines when none did."""
    measured = [(name, getattr(results, name)) for name in RAY_STEPS if getattr(results, name) is not None]
    if not measured:
        return []
    lines = ["", "| sweep, whole command | serial, s | Ray, s | Ray / serial | spread of the ratio | "
             "largest difference of the numbers |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, step in measured:
        lines.append(f"| `{step.command}`: {step.trials} runs; Ray {step.trial_cpus:g} CPU per trial on "
                     f"{step.ray_cpus} ({step.rounds} rounds) | {step.serial_s:.1f} | {step.ray_s:.1f} | "
                     f"{step.ray_ratio:.2f} | {' / '.join(f'{v:.2f}' for v in (step.ray_ratio_spread.min, step.ray_ratio_spread.median, step.ray_ratio_spread.max))} | "
                     f"{step.max_difference:.2g} |")
    lines += ["", "Ray / serial below 1: the trials side by side on one core each finish sooner than the runs one "
              "after another on all the cores; the Ray side's time includes starting its local Ray and a "
              "TensorFlow in every worker. The numbers differ because a trial's TensorFlow sums float32 values "
              "over one core's threads, in another order than the serial run over all the cores': the last "
              "digits after one epoch, and more as training goes on. Alike thread pools give alike numbers "
              "(tests/lenet/test_executor.py)."]
    return lines
