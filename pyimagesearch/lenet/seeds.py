"""One LeNet-5 run repeated over several seeds: the seed list and the aggregate of the finished runs.

``train_lenet.py --seeds 42,1,2`` trains one run per seed into
``<output>/seed-<s>/`` (each a complete run folder) and then writes, in
``<output>/``, ``metrics.json`` (for every number of the runs' metrics: mean,
sample standard deviation and the per-seed values) and ``curves.png`` (the
seeds' mean curves with a band from the lowest to the highest seed).
Each seed's run is a trial of ``core.sweep`` (``seed_trials``, ``run_seed``): one
after another in the command's process, or side by side on Ray Tune
(``--executor ray``); the aggregate is written by the command after them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import save_figure

SEED_DIR = "seed-{}"
MAX_SEEDS = 1000  # runs of one --seeds: each is a whole training run
MAX_SEED = 2**32 - 1  # NumPy's generators take seeds in [0, 2**32)


def seeds_argument(text: str) -> list[int] | int:
    """argparse type of ``--seeds``: a comma-separated list of seeds, or one number N (that many seeds).

    At most ``MAX_SEEDS`` seeds, each in [0, ``MAX_SEED``]; a value is checked
    by its digits before it is turned into a number, so no request builds a
    list larger than that.
    """
    parts = [part.strip() for part in text.split(",", MAX_SEEDS + 1) if part.strip()]
    if len(parts) > MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"{text[:24]!r}... lists more than {MAX_SEEDS:,} seeds, the most one --seeds runs")
    if not all(part.lstrip("+-").isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is neither a number of seeds nor a comma-separated list of seeds")
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} holds no seed")
    if len(parts) == 1 and "," not in text:
        count = int(parts[0]) if len(parts[0]) <= 18 else MAX_SEEDS + 1
        if count < 1:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= 1 seeds")
        if count > MAX_SEEDS:
            raise argparse.ArgumentTypeError(f"{text[:24]!r} is out of range: the number of seeds must be between 1 and "
                                             f"{MAX_SEEDS:,}")
        return count
    values = [int(part) if len(part) <= 18 else MAX_SEED + 1 for part in parts]
    bad = next((value for value in values if not 0 <= value <= MAX_SEED), None)
    if bad is not None:
        shown = parts[values.index(bad)]
        raise argparse.ArgumentTypeError(f"seed {shown[:24]} is out of range: a seed must be between 0 and {MAX_SEED:,}")
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a seed")
    return values


def resolve_seeds(seeds: list[int] | int, first: int) -> list[int]:
    """The seeds to run: the list as given, or for a count N, ``first`` (``--seed``) then 1, 2, 3, ... (N in all).

    ``resolve_seeds(3, 42) == [42, 1, 2]``.
    """
    if isinstance(seeds, list):
        return list(seeds)
    others = (seed for seed in range(1, seeds + 1) if seed != first)
    return [first, *list(others)[:seeds - 1]]


def seed_folder(folder: str | os.PathLike, seed: int) -> Path:
    return Path(folder) / SEED_DIR.format(seed)


def aggregate_metrics(per_seed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The aggregate (``SeedsAggregate``) of runs' ``metrics.json`` data by seed, as ``metrics.json`` holds it."""
    from pyimagesearch.records.lenet import RunMetrics, SeedsAggregate

    return SeedsAggregate.of({seed: RunMetrics.from_json(metrics) for seed, metrics in per_seed.items()}).to_json()


def write_seed_summary(folder: str | os.PathLike, seeds: list[int], title: str = ""):
    """Write ``metrics.json`` and ``curves.png`` of the finished seed runs in ``folder``; return the ``SeedsAggregate``."""
    from pyimagesearch.lenet.plots import plot_seed_curves
    from pyimagesearch.records.lenet import RunMetrics, SeedsAggregate, read_history

    folder = Path(folder)
    runs = {}
    for seed in seeds:
        path = seed_folder(folder, seed) / "metrics.json"
        if not path.exists():
            raise UserError(f"seed {seed} has no finished run in {path.parent}; run it again with the same command")
        runs[seed] = RunMetrics.read(path)
    aggregate = SeedsAggregate.of(runs)
    aggregate.write(folder)
    histories = {seed: read_history(seed_folder(folder, seed) / "history.csv") for seed in seeds}
    save_figure(plot_seed_curves(histories, title=title)[0].figure, folder / "curves.png")
    return aggregate


def seeds_title(folder: str | os.PathLike, seeds: list[int], policy: str) -> str:
    """The aggregate curves' title: the seeds and the first seed's run as its config.json describes it."""
    from pyimagesearch.core.outputs import read_json

    description = read_json(seed_folder(folder, seeds[0]) / "config.json").get("description", policy)
    return f"LeNet-5 on Fashion-MNIST, {len(seeds)} seeds\n{description}"


def describe_aggregate(aggregate) -> str:
    """"test accuracy over seeds 42, 1: mean 0.9012, standard deviation 0.0011 (0.9004, 0.9020)"."""
    test = aggregate.test_accuracy
    sd = "undefined for one seed" if test.sd is None else f"{test.sd:.4f}"
    return (f"test accuracy over seeds {', '.join(map(str, aggregate.seeds))}: mean {test.mean:.4f}, standard deviation "
            f"{sd} ({', '.join(f'{v:.4f}' for v in test.values)})")


# -- the seeds as core.sweep trials -------------------------------------------------------------------------
def seed_trials(folder: str | os.PathLike, seeds: list[int], args: argparse.Namespace) -> list:
    """One ``core.sweep.Trial`` per seed, in ``folder/seed-<s>``: the command's flags with that seed and folder.

    The executor's flags stay out: how the sweep ran is no part of a seed's run
    (its config.json is the one a single run writes); the executor itself
    travels beside the flags, to choose the run's strategy.
    """
    from pyimagesearch.core.sweep import Trial
    from pyimagesearch.lenet.executor import without_executor

    flags = without_executor(vars(args))
    return [Trial(SEED_DIR.format(seed), seed_folder(folder, seed),
                  {"flags": {**flags, "seed": seed, "output": seed_folder(folder, seed)},
                   "executor": getattr(args, "executor", "serial")}) for seed in seeds]


def run_seed(trial) -> None:
    """One seed of ``train_lenet.py --seeds`` into its folder: ``train_lenet.train``, the single run's own code.

    The run function of the seeds' trials (serial or Ray); train_lenet.py is
    imported from the project's folder, which every Ray worker has on its path.
    """
    import train_lenet
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.lenet.executor import process_strategy

    args = argparse.Namespace(**trial.settings["flags"])
    strategy, worker = process_strategy(args.strategy, trial.settings["executor"])
    train_lenet.train(args, Distribution(strategy, worker), Path(trial.folder))
