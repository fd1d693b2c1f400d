"""The literal LR sweep: a fresh LeNet-5 trained for a few epochs at each LR of a grid.

Every LR starts from the same initial weights (same seed) and sees the same
batches, so the only difference between runs is the learning rate. One
model serves every LR a process trains, restored to its initial weights and
optimizer state before each (``training.FreshStart``), so its train step is
traced once. A run whose loss becomes NaN/inf or grows past ``stop_factor`` x
ln(10), the loss of a uniform prediction that a fresh network starts near,
is stopped at once and recorded as diverged; the sweep goes on.

``find_lr.py --grid`` runs each LR as a trial of ``core.sweep`` (one after
another, or side by side on Ray): ``grid_trials`` names them, and
``run_grid_point`` trains one into its own folder (``<grid>/lr-<lr>/``, a
``RunFolder`` with ``grid_row.json``, a ``records.lr_finder.GridRow``, and its
completion record). Each LR's run depends only on the settings and the seed,
so a sweep started again keeps the LRs it finished and ends as an
uninterrupted one, in whichever process each LR ran.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import keras
import tensorflow as tf

from pyimagesearch.core.custom_loop import StrategyLoop
from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.core.training import DivergenceGuard, FreshStart, compile_classifier
from pyimagesearch.lenet.data import FashionMNIST
from pyimagesearch.lenet.model import build_lenet5

GRID_ROW_FILE = "grid_row.json"
POINT_KIND = "lr-grid-point"
# What a grid point's results depend on besides its LR (the settings of every trial of find_lr.py --grid).
POINT_SETTINGS = ("data_dir", "val_fraction", "limit", "seed", "epochs", "batch", "replicas", "momentum",
                  "stop_factor", "strategy")


class GridTrainer:
    """One compiled LeNet-5 for the LRs of a grid: ``train(lr)`` restores it and trains it; returns the LR's row.

    ``batch_size`` is the global batch. The model is built in ``strategy``'s
    scope; ``multiworker`` trains through ``custom_loop.StrategyLoop``.
    """

    def __init__(self, data: FashionMNIST, epochs: int, batch_size: int, momentum: float = 0.9, seed: int = 42,
                 stop_factor: float = 4.0, steps_per_execution: int = 32, strategy=None, multiworker: bool = False,
                 first_lr: float = 1e-3):
        self.data, self.epochs, self.batch_size, self.seed, self.stop_factor = data, epochs, batch_size, seed, stop_factor
        keras.utils.set_random_seed(seed)
        with (strategy or tf.distribute.get_strategy()).scope():
            model = build_lenet5()
            compile_classifier(model, keras.optimizers.SGD(float(first_lr), momentum=momentum), steps_per_execution)
            self.fresh = FreshStart(model)
        self.trainer = StrategyLoop(model, steps_per_execution) if multiworker else model

    def train(self, lr: float, verbose: int = 2) -> dict:
        """``lr``'s row: ``lr``, ``final_train_loss`` and ``train_accuracy`` (the last epoch's means),
        ``epochs_run``, ``diverged``, ``seconds`` and ``history`` (per-epoch loss and accuracy)."""
        keras.utils.set_random_seed(self.seed)
        # A new pipeline per LR: a reused one would carry on its shuffling order.
        dataset = make_dataset((self.data.x_train, self.data.y_train), self.batch_size, shuffle=True, seed=self.seed)
        self.fresh.restore(float(lr))
        guard = DivergenceGuard(self.stop_factor, reference_loss=math.log(self.data.num_classes))
        started = time.perf_counter()
        history = self.trainer.fit(dataset, epochs=self.epochs, callbacks=[guard], verbose=verbose).history
        loss = history["loss"][-1]
        row = {
            "lr": float(lr),
            "final_train_loss": loss,
            "train_accuracy": history["accuracy"][-1],
            "epochs_run": len(history["loss"]),
            "diverged": guard.diverged or not math.isfinite(loss),
            "seconds": time.perf_counter() - started,
            "history": history,
        }
        if verbose and row["diverged"]:
            print(f"    diverged: {guard.reason or 'the training loss is not finite'}; stopped")
        return row


def run_lr_grid(data: FashionMNIST, lrs, epochs: int, batch_size: int, momentum: float = 0.9,
                seed: int = 42, stop_factor: float = 4.0, steps_per_execution: int = 32,
                on_result: Callable[[dict, list[dict]], None] | None = None, verbose: int = 2,
                strategy=None, multiworker: bool = False, finished: dict[float, dict] | None = None) -> list[dict]:
    """Train one fresh model per LR in this process; return one row per LR (``GridTrainer.train``'s).

    ``on_result(row, rows)`` is called as each LR finishes, so results can be
    written as they come. ``finished`` maps LRs already trained with these
    settings to their rows, which are kept instead of trained again.
    """
    rows: list[dict] = []
    grid = GridTrainer(data, epochs, batch_size, momentum, seed, stop_factor, steps_per_execution, strategy,
                       multiworker, first_lr=float(lrs[0]))
    finished = finished or {}
    for index, lr in enumerate(lrs, start=1):
        if float(lr) in finished:
            if verbose:
                print(f"[{index}/{len(lrs)}] lr = {lr:.3g}: finished earlier, kept")
            rows.append(finished[float(lr)])
        else:
            if verbose:
                print(f"[{index}/{len(lrs)}] lr = {lr:.3g}")
            rows.append(grid.train(lr, verbose))
        if on_result:
            on_result(rows[-1], rows)
    return rows


# -- the grid as core.sweep trials --------------------------------------------------------------------------
def point_names(lrs: Sequence[float]) -> list[str]:
    """``lr-<lr>`` with the fewest significant digits (3 at least) that tell every LR of the grid apart."""
    for digits in range(3, 18):
        names = [f"lr-{float(lr):.{digits}g}" for lr in lrs]
        if len(set(names)) == len(names):
            return names
    raise ValueError(f"Argument `lrs` must hold distinct learning rates. Received: lrs={list(lrs)!r}")


def grid_trials(folder: str | os.PathLike, lrs: Sequence[float], settings: Mapping[str, Any], quiet: bool = True,
                executor: str = "serial") -> list:
    """One ``core.sweep.Trial`` per LR, in ``folder/lr-<lr>``; ``settings`` holds ``POINT_SETTINGS``.

    ``quiet`` and ``executor`` travel with each trial but are no settings of its
    run (``core.run.CONFIG_IGNORED``): a grid run serially and one run on Ray are the same runs.
    """
    from pyimagesearch.core.sweep import Trial

    missing = [key for key in POINT_SETTINGS if key not in settings]
    if missing:
        raise ValueError(f"Argument `settings` must hold {', '.join(missing)}. Received: {sorted(settings)}")
    common = {key: settings[key] for key in POINT_SETTINGS}
    return [Trial(name, Path(folder) / name, {**common, "lr": float(lr), "quiet": quiet, "executor": executor})
            for name, lr in zip(point_names(lrs), lrs)]


_cache: dict[str, Any] = {}  # this process's data and GridTrainer of the last grid point it trained


def point_data(settings: Mapping[str, Any]) -> FashionMNIST:
    """The grid's data, loaded once per process (the driver's check and every point it trains share it)."""
    from pyimagesearch.lenet.data import load_splits

    key = tuple(settings[name] for name in ("data_dir", "val_fraction", "seed", "limit"))
    if _cache.get("data_key") != key:
        _cache.update(data_key=key, data=load_splits(*key), trainer_key=None, trainer=None)
    return _cache["data"]


def point_trainer(settings: Mapping[str, Any]) -> GridTrainer:
    """The ``GridTrainer`` of these settings, built once per process: the serial grid traces one model, as it always did."""
    from pyimagesearch.lenet.executor import process_strategy

    data = point_data(settings)
    key = tuple(str(settings[name]) for name in POINT_SETTINGS)
    if _cache.get("trainer_key") != key:
        strategy, worker = process_strategy(settings["strategy"], settings.get("executor", "serial"))
        _cache.update(trainer_key=key, trainer=None)
        _cache["trainer"] = GridTrainer(data, settings["epochs"], settings["batch"] * settings["replicas"],
                                        settings["momentum"], settings["seed"], settings["stop_factor"],
                                        strategy=strategy, multiworker=worker is not None, first_lr=settings["lr"])
    return _cache["trainer"]


def run_grid_point(trial) -> None:
    """One LR of ``find_lr.py --grid`` into its own folder: the run function of the grid's trials (serial or Ray)."""
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.records.lr_finder import GridRow

    s = trial.settings
    with RunFolder(trial.folder, POINT_KIND, s, seed=s["seed"], tensorflow=True) as run:
        if run.finished:
            return
        row = GridRow.of(point_trainer(s).train(s["lr"], verbose=0 if s.get("quiet") else 2))
        row.write(Path(trial.folder) / GRID_ROW_FILE)
        run.complete(quick=s["limit"] is not None, summary={"final_train_loss": row.final_train_loss,
                                                            "train_accuracy": row.train_accuracy,
                                                            "diverged": row.diverged, "epochs_run": row.epochs_run})


def read_points(trials: Sequence) -> list:
    """The ``GridRow`` of every finished trial, in the grid's order; ``RecordError`` naming a bad file."""
    from pyimagesearch.records.lr_finder import GridRow

    return [GridRow.read(Path(trial.folder) / GRID_ROW_FILE) for trial in trials]
