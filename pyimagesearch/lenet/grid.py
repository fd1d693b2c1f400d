"""The literal LR sweep: a fresh LeNet-5 trained for a few epochs at each LR of a grid.

Every LR starts from the same initial weights (same seed) and sees the same
batches, so the only difference between runs is the learning rate. One
model serves every LR, restored to its initial weights and optimizer state
before each (``training.FreshStart``), so its train step is traced once. A run
whose loss becomes NaN/inf or grows past ``stop_factor`` x ln(10), the loss
of a uniform prediction that a fresh network starts near, is stopped at once
and recorded as diverged; the sweep goes on. Each LR's run depends only on
the settings and the seed, so a sweep started again keeps the LRs it
finished before (``records.lr_finder.read_grid``) and ends as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import keras
import tensorflow as tf

from pyimagesearch.core.custom_loop import StrategyLoop
from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.lenet.data import FashionMNIST
from pyimagesearch.lenet.model import build_lenet5
from pyimagesearch.core.training import DivergenceGuard, FreshStart, compile_classifier


def run_lr_grid(data: FashionMNIST, lrs, epochs: int, batch_size: int, momentum: float = 0.9,
                seed: int = 42, stop_factor: float = 4.0, steps_per_execution: int = 32,
                on_result: Callable[[dict, list[dict]], None] | None = None, verbose: int = 2,
                strategy=None, multiworker: bool = False, finished: dict[float, dict] | None = None) -> list[dict]:
    """Train one fresh model per LR; return one row per LR.

    ``batch_size`` is the global batch. Models are built in ``strategy``'s
    scope; ``multiworker`` trains through ``custom_loop.StrategyLoop``.

    Each row: ``lr``, ``final_train_loss`` and ``train_accuracy`` (means over
    the last epoch trained), ``epochs_run``, ``diverged``, ``seconds`` and
    ``history`` (per-epoch loss and accuracy). ``on_result(row, rows)`` is
    called as each LR finishes, so results can be written as they come.
    ``finished`` maps LRs already trained with these settings to their rows,
    which are kept instead of trained again.
    """
    rows: list[dict] = []
    keras.utils.set_random_seed(seed)
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_lenet5()
        compile_classifier(model, keras.optimizers.SGD(float(lrs[0]), momentum=momentum), steps_per_execution)
        fresh = FreshStart(model)
    trainer = StrategyLoop(model, steps_per_execution) if multiworker else model
    finished = finished or {}
    for index, lr in enumerate(lrs, start=1):
        if float(lr) in finished:
            if verbose:
                print(f"[{index}/{len(lrs)}] lr = {lr:.3g}: finished earlier, kept")
            rows.append(finished[float(lr)])
            if on_result:
                on_result(rows[-1], rows)
            continue
        if verbose:
            print(f"[{index}/{len(lrs)}] lr = {lr:.3g}")
        keras.utils.set_random_seed(seed)
        # A new pipeline per LR: a reused one would carry on its shuffling order.
        dataset = make_dataset((data.x_train, data.y_train), batch_size, shuffle=True, seed=seed)
        fresh.restore(float(lr))
        guard = DivergenceGuard(stop_factor, reference_loss=math.log(data.num_classes))
        started = time.perf_counter()
        history = trainer.fit(dataset, epochs=epochs, callbacks=[guard], verbose=verbose).history
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
        rows.append(row)
        if verbose and row["diverged"]:
            print(f"    diverged: {guard.reason or 'the training loss is not finite'}; stopped")
        if on_result:
            on_result(row, rows)
    return rows
