"""core.loop: the one epoch loop; a run stopped after an epoch and resumed is the uninterrupted run, to the bit."""

import math

import keras
import numpy as np
import pytest

from pyimagesearch.core.checkpoints import RunCheckpoint
from pyimagesearch.core.distribute import Distribution, Worker
from pyimagesearch.core.history import EpochHistory, ProgressLog
from pyimagesearch.core.loop import STATE_KEYS, EpochCheckpoint, resume_epoch, train_epochs
from pyimagesearch.core.outputs import read_csv
from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.core.training import compile_classifier

FIELDS = ["epoch", "steps", "iterations", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "time_s"]
ARRAYS = np.random.default_rng(3).normal(size=(96, 4)).astype(np.float32)
LABELS = (ARRAYS[:, 0] + ARRAYS[:, 1] > 0).astype(np.int32)


def new_model(lr):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    compile_classifier(model, keras.optimizers.SGD(lr, momentum=0.9), steps_per_execution=2)
    return model


def run(folder, epochs, lr=0.1, resume=0, lines=None):
    """``train_epochs`` on a small classifier, each epoch shuffled by (seed, epoch), with a checkpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = RunCheckpoint(folder, {"lr": lr}, required=STATE_KEYS)

    def model_of(restored):
        if restored is None:
            return new_model(lr)
        compile_classifier(restored, restored.optimizer, steps_per_execution=2)
        return restored

    lines = [] if lines is None else lines
    return train_epochs(model_of, lambda epoch: make_dataset((ARRAYS, LABELS), 16, shuffle=True, seed=5, epoch=epoch),
                        lambda: make_dataset((ARRAYS, LABELS), 32), epochs,
                        EpochHistory(folder / "history.csv", FIELDS),
                        lambda row: f"epoch {row['epoch']} loss {row['loss']:.6f}", lines.append,
                        reference_loss=lambda trainer, val: math.log(2), checkpoint=checkpoint, resume_epoch=resume,
                        steps_per_execution=2)


def numbers(rows):
    return [{key: value for key, value in row.items() if key != "time_s"} for row in rows]


def test_a_run_stopped_after_an_epoch_and_resumed_gives_the_uninterrupted_numbers(tmp_path):
    whole = run(tmp_path / "whole", 3)
    lines = []
    run(tmp_path / "stopped", 1)
    assert resume_epoch(RunCheckpoint(tmp_path / "stopped", {"lr": 0.1}), Distribution.local(), print) == 1
    resumed = run(tmp_path / "stopped", 3, resume=1, lines=lines)
    assert lines[0] == f"resuming after epoch 1 from {tmp_path / 'stopped' / 'checkpoint' / 'epoch-0001'}"
    assert [line.split()[:2] for line in lines[1:]] == [["epoch", "2"], ["epoch", "3"]]
    assert numbers(resumed.history) == numbers(whole.history) and len(whole.history) == 3
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [int(row["iterations"]) for row in read_csv(tmp_path / "stopped" / "history.csv")] == [6, 12, 18]
    written = [numbers(read_csv(tmp_path / name / "history.csv")) for name in ("stopped", "whole")]
    assert written[0] == written[1]
    assert resumed.diverged == "" and resumed.train_seconds > 0
    state = RunCheckpoint(tmp_path / "stopped", {"lr": 0.1}).read_state(3)
    assert state["epochs_done"] == 3 and state["reference_loss"] == math.log(2) and state["wall_seconds"] > 0


def test_the_guard_stops_a_diverging_run_and_its_epochs_stay_in_the_history(tmp_path):
    trained = run(tmp_path, 5, lr=1e4)
    assert trained.diverged.startswith("the training loss")
    assert len(trained.history) == 1 and len(read_csv(tmp_path / "history.csv")) == 1


def test_no_checkpoint_resumes_nothing_and_one_process_is_its_own_chief(tmp_path):
    local = Distribution.local(tmp_path)
    assert resume_epoch(None, local, print) == 0
    assert (local.worker, local.multiworker, local.is_chief, local.replicas, local.folder) == (None, False, True, 1,
                                                                                                tmp_path)
    model = new_model(0.1)
    assert local.trainer(model) is model
    assert local.describe(8)["global_batch"] == 8
    worker = Distribution(local.strategy, Worker("worker", 1, 2), tmp_path / "worker-1")
    assert worker.multiworker and not worker.is_chief
    one_device = worker.on_one_device()
    assert (one_device.worker, one_device.folder) == (None, tmp_path / "worker-1")
    assert Distribution.create("default", tmp_path).folder == tmp_path
    with pytest.raises(Exception):
        worker.strategy = None  # frozen: one value, passed as it is


def test_each_callback_does_one_job(tmp_path):
    model = new_model(0.05)
    history = EpochHistory(tmp_path / "history.csv", FIELDS, columns=lambda epoch: {"stage": epoch // 2})
    lines, saved = [], []
    checkpoint = RunCheckpoint(tmp_path, {"lr": 0.05})
    model.fit(ARRAYS, LABELS, batch_size=16, epochs=2, validation_data=(ARRAYS, LABELS), verbose=0, callbacks=[
        history, ProgressLog(lines.append, lambda row: f"epoch {row['epoch']}", history.rows),
        EpochCheckpoint(checkpoint, lambda: saved.append(len(history.rows)) or {"epochs_done": len(history.rows),
                                                                                 "history": history.rows})])
    assert lines == ["epoch 1", "epoch 2"] and saved == [1, 2] and checkpoint.epochs() == [2, 1]
    assert [row["stage"] for row in history.rows] == [0, 0] and [row["steps"] for row in history.rows] == [6, 6]
    assert [row["lr"] for row in history.rows] == ["0.05", "0.05"]  # the optimizer's LR, as float32 text
    assert [row["epoch"] for row in read_csv(tmp_path / "history.csv")] == ["1", "2"]
