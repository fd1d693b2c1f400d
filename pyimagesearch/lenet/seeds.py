"""One LeNet-5 run repeated over several seeds: the seed list and the aggregate of the finished runs.

``train_lenet.py --seeds 42,1,2`` trains one run per seed into
``<output>/seed-<s>/`` (each a complete run folder) and then writes, in
``<output>/``, ``metrics.json`` (for every number of the runs' metrics: mean,
sample standard deviation and the per-seed values) and ``curves.png`` (the
seeds' mean curves with a band from the lowest to the highest seed).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json, save_figure, write_json
from pyimagesearch.stats import mean_and_sd

SEED_DIR = "seed-{}"


def seeds_argument(text: str) -> list[int] | int:
    """argparse type of ``--seeds``: a comma-separated list of seeds, or one number N (that many seeds)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        values = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number of seeds nor a comma-separated list of seeds") from None
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} holds no seed")
    if len(parts) == 1 and "," not in text:
        if values[0] < 1:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= 1 seeds")
        return values[0]
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


def is_seed_aggregate(metrics: Any) -> bool:
    """Whether a ``metrics.json`` is the aggregate of several seeds (it lists them)."""
    return isinstance(metrics, dict) and isinstance(metrics.get("seeds"), list)


def aggregate_metrics(per_seed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """``{"seeds": [...], <metric>: {"mean", "sd", "values"}, ...}`` over the numbers the runs' metrics share.

    Text entries (the policy) are kept when every seed has the same value.
    """
    seeds = list(per_seed)
    runs = list(per_seed.values())
    aggregate: dict[str, Any] = {"seeds": seeds}
    for key in runs[0]:
        values = [run.get(key) for run in runs]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            mean, sd = mean_and_sd(values)
            aggregate[key] = {"mean": mean, "sd": sd, "values": values}
        elif all(v == values[0] for v in values):
            aggregate[key] = values[0]
    return aggregate


def write_seed_summary(folder: str | os.PathLike, seeds: list[int], title: str = "") -> dict[str, Any]:
    """Write ``metrics.json`` and ``curves.png`` of the finished seed runs in ``folder``; return the aggregate."""
    from pyimagesearch.lenet.plots import plot_seed_curves

    folder = Path(folder)
    per_seed = {}
    for seed in seeds:
        path = seed_folder(folder, seed) / "metrics.json"
        if not path.exists():
            raise UserError(f"seed {seed} has no finished run in {path.parent}; run it again with the same command")
        per_seed[seed] = read_json(path, "metrics file")
    aggregate = aggregate_metrics(per_seed)
    write_json(folder / "metrics.json", aggregate)
    from pyimagesearch.core.history import read_history  # imports Keras: only when plotting

    histories = {seed: read_history(seed_folder(folder, seed) / "history.csv") for seed in seeds}
    save_figure(plot_seed_curves(histories, title=title)[0].figure, folder / "curves.png")
    return aggregate
