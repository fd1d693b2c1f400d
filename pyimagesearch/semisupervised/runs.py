"""What the three experiments share: one LeNet-5 run in its own folder, and the record of finished points.

Every model is a fresh LeNet-5 from ``pyimagesearch.lenet`` trained by
``lenet.training.train`` with a fixed LR and SGD momentum 0.9 (the default of
train_lenet.py). Each run owns ``runs/<name>/`` of the experiment's folder
through a ``core.run.RunFolder``, which seeds every generator with the
experiment's seed on entering, before the checkpoint is looked up: every
model of a sweep starts from the same weights, and a run resumed from its
checkpoint draws what an uninterrupted one draws. A run writes its
``history.csv``, ``metrics.json`` (``records.semisupervised.ModelMetrics``),
``val_predictions.npy``, ``test_predictions.npy`` and a checkpoint after every epoch; the checkpoint
stays until the run has stored what the experiment needs from the model (its
row, ``row.json``), then the run's completion record is written.

The points of a sweep are ``core.sweep`` trials (``point_trial``): each
loads the data itself (``splits``, loaded once per process), logs into its
own ``log.txt`` and leaves its row in its folder; the experiment, run by the
command's process, reads the rows back (``point_row``) once the trials have
run, on ``--executor serial`` or ``ray``, and writes the aggregate.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from pyimagesearch.core.checkpoints import RunCheckpoint
from pyimagesearch.core.logging import RunLog
from pyimagesearch.core.outputs import prepare_dir, write_bytes
from pyimagesearch.core.run import RunFolder, RunFolderError, completion
from pyimagesearch.core.sweep import Trial, run_trials
from pyimagesearch.records.semisupervised import ModelMetrics, Results

MOMENTUM = 0.9  # train_lenet.py's default
PREDICT_BATCH = 1024
MODEL_KIND = "semisupervised-model"
ROW_FILE = "row.json"  # a point's row, in the folder of the run that finished it
VAL_PREDICTIONS = "val_predictions.npy"  # the class a run gives each validation image


class ExperimentError(ValueError):
    """A request the data or the experiment cannot meet (a K larger than U, a diverging run); one sentence.

    The message names the flag to change; the command line shows it as its ``error:`` line.
    """


def save_array(path: str | Path, array: np.ndarray) -> Path:
    """``np.save`` into ``path``, atomically."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return write_bytes(path, buffer.getvalue())


def fixed_lr(lr: float, epochs: int, batch: int):
    """The fixed-LR policy of one run (Problem 1's ``PolicySettings``, built directly, not from flags)."""
    from pyimagesearch.lenet.settings import PolicySettings, Stage

    return PolicySettings("fixed", epochs, [Stage(batch, 0, epochs)], "--lr", lr=lr)


class ModelRun:
    """One LeNet-5 in ``folder`` (``runs/<name>/``), from its lock to its completion record.

    ``settings`` determine the run: the experiment's settings with this
    run's ``lr``, ``batch``, ``epochs`` and what sets it apart (a noise level,
    a sampling, K and P). Use it as a context manager::

        with ModelRun(folder, name, settings, log) as run:
            result = run.train(data)
            metrics, predictions = run.finish(result, data)
            store.put(row_of(metrics, ...))
            run.complete()
    """

    def __init__(self, folder: Path, name: str, settings: dict[str, Any], log: Callable[[str], None]):
        self.name, self.settings, self.log = name, dict(settings), log
        self.metrics: ModelMetrics | None = None
        self.folder = RunFolder(folder, MODEL_KIND, self.settings, seed=self.settings["seed"], tensorflow=True)
        self.checkpoint = RunCheckpoint(folder, self.settings, required=("reference_loss",), restart_flag="--overwrite")

    def __enter__(self) -> "ModelRun":
        self.folder.__enter__()
        if self.folder.finished:
            self.folder.__exit__(None, None, None)
            raise RunFolderError(f"{self.folder.folder} holds a finished run whose row is missing from the results; "
                                 "pass --overwrite to train the experiment again")
        prepare_dir(self.folder.folder)  # leftovers of writes a killed run began go
        return self

    def __exit__(self, *exc) -> None:
        self.folder.__exit__(*exc)

    def train(self, data, initial_weights=None, epoch_data=None) -> dict[str, Any]:
        """Train on ``data.x_train``/``data.y_train``, resuming from the newest whole checkpoint.

        ``epoch_data`` as in ``lenet.training.train``. A diverging run is an ``ExperimentError``.
        """
        from pyimagesearch.lenet import training

        lr, epochs, batch = self.settings["lr"], self.settings["epochs"], self.settings["batch"]
        resume_epoch = self.checkpoint.find(self.log)
        result = training.train(fixed_lr(lr, epochs, batch), data, self.folder.folder, self.log, momentum=MOMENTUM,
                                seed=self.settings["seed"], initial_weights=initial_weights,
                                checkpoint=self.checkpoint, resume_epoch=resume_epoch, epoch_data=epoch_data)
        if result["diverged"]:
            raise ExperimentError(f"training of {self.name} diverged ({result['diverged']}); lower --lr (now "
                                f"{lr:g}) and run again")
        return result

    def finish(self, result: dict, data, extra: dict | None = None) -> tuple[ModelMetrics, np.ndarray]:
        """Score the trained model: its ``ModelMetrics`` and test predictions, both saved in the run's folder.

        ``data.x_train`` is what the training accuracy is measured on; ``extra``
        sets the record's ``noise_percent``, ``changed`` or ``sampling``.
        """
        from pyimagesearch.lenet import training

        scores = training.evaluate(result["trainer"], data, result["history"], result["train_time_s"])
        metrics = ModelMetrics(**scores, **{"noise_percent": None, "changed": None, "sampling": None, **(extra or {})})
        metrics.write(self.folder.folder)
        self.metrics = metrics
        # The validation predictions are what the choices read (the best student, a fine-tuning LR factor).
        save_array(self.folder.folder / VAL_PREDICTIONS, predict(result["model"], data.x_val).astype(np.int8))
        predictions = predict(result["model"], data.x_test)
        save_array(self.folder.folder / "test_predictions.npy", predictions.astype(np.int8))
        return metrics, predictions

    def save_row(self, row):
        """Keep the point's row in the run's folder (``row.json``), where the experiment reads it; return it."""
        row.write(self.folder.folder / ROW_FILE)
        return row

    def complete(self, quick: bool) -> None:
        """The experiment has what it needs from the model: drop the checkpoint, write the completion record."""
        self.checkpoint.clear()
        summary = {} if self.metrics is None else {"test_accuracy": self.metrics.test_accuracy}
        self.folder.complete(quick=quick, summary=summary)


@functools.lru_cache(maxsize=1)
def splits(data_dir: str | None, val_fraction: float, seed: int, limit: int | None):
    """The Fashion-MNIST splits of these settings, loaded once per process (``lenet.data.load_splits``)."""
    from pyimagesearch.lenet.data import load_splits

    return load_splits(data_dir, val_fraction=val_fraction, seed=seed, limit=limit)


def data_location(args) -> dict:
    """``splits``' arguments from the command line, the folder absolute (a trial may run elsewhere)."""
    return {"data_dir": None if args.data_dir is None else os.path.abspath(os.path.expanduser(args.data_dir)),
            "val_fraction": args.val_fraction, "seed": args.seed, "limit": args.limit}


def point_trial(name: str, run_dir: Path, args, settings: dict, log_dir: Path | None = None, **point) -> Trial:
    """A point of the sweep as a ``core.sweep.Trial`` of folder ``run_dir``: all its run needs, plain.

    ``settings`` are the experiment's, ``point`` what sets this point apart;
    its progress lines go to ``log_dir/log.txt`` (default ``run_dir``), and to
    the screen too on ``--executor serial`` without ``--quiet``.
    """
    return Trial(name, run_dir, {"settings": settings, "point": point, "data": data_location(args),
                                 "log": str(Path(log_dir or run_dir) / "log.txt"),
                                 "echo": not args.quiet and args.executor == "serial", "verbose": args.verbose})


def trial_inputs(trial: Trial) -> tuple[dict, dict, Any, RunLog]:
    """What a point's trial starts from: the experiment's settings, the point's, the data and its log."""
    from pyimagesearch.core.cli import quiet_tensorflow

    quiet_tensorflow(trial.settings["verbose"])  # in a Ray worker too: its warnings as the command's
    import tensorflow as tf

    # Every model of a sweep traces new tf.functions; TensorFlow's warning about it is noise here.
    tf.get_logger().setLevel("ERROR")
    log_path = Path(trial.settings["log"])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = RunLog(log_path, echo=trial.settings["echo"], append=True)
    return trial.settings["settings"], trial.settings["point"], splits(**trial.settings["data"]), log


def point_row(store: "PointStore", trial: Trial, row_class):
    """The row of a finished point: its ``row.json``, or the stored one; None while the point is unfinished.

    A point finished before rows were kept beside their runs has its row in
    the store (``results.json``) only.
    """
    if completion(trial.folder) is None:
        return None
    path = Path(trial.folder) / ROW_FILE
    row = row_class.read(path) if path.exists() else store.get(trial.name)
    if row is None:
        raise RunFolderError(f"{trial.folder} holds a finished run whose row is missing from the results; "
                             "pass --overwrite to train the experiment again")
    return row


def run_points(trials: list[Trial], run_point, args, folder: Path, log: Callable[[str], None], name: str) -> None:
    """Run the unfinished ``trials`` with ``run_point`` on ``args.executor`` (``core.sweep.run_trials``).

    Ray's own records of the trials go to ``folder/ray_tune``.
    """
    run_trials(trials, run_point, args, name=name, storage=folder / "ray_tune", log=log)


def predict(model, images: np.ndarray) -> np.ndarray:
    """The class each image is given (arg max of the softmax)."""
    return np.argmax(scores_of(model, images), axis=1)


def scores_of(model, images: np.ndarray) -> np.ndarray:
    """The model's softmax outputs, (N, C) float32.

    Called batch by batch rather than through ``model.predict``, which traces
    a new function for every new model and warns after a few of them.
    """
    import keras

    batches = [keras.ops.convert_to_numpy(model(images[start:start + PREDICT_BATCH], training=False))
               for start in range(0, len(images), PREDICT_BATCH)]
    return np.concatenate(batches).astype(np.float32) if batches else np.zeros((0, model.output_shape[-1]), np.float32)


def with_train(data, x: np.ndarray, y: np.ndarray):
    """``data`` with another training set (validation and test unchanged)."""
    return replace(data, x_train=x, y_train=np.asarray(y, dtype=np.int32))


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, None for NaN (a precision of no pairs, an accuracy of no images)."""
    value = float(value)
    return value if np.isfinite(value) else None


class PointStore:
    """The experiment's finished points: its ``results.json`` record, written after every point.

    Opened inside the experiment's ``RunFolder``, which has already compared
    the settings: the points of a resumed or finished folder are kept; a
    finished folder asked for new points is reopened (``RunFolder.reopen``),
    so its finished points stay and the new ones are added.
    """

    def __init__(self, run: RunFolder, results: type[Results], names: list[str]):
        self.run, self.path = run, run.folder / results.FILE
        if self.path.exists() and not (run.resumed or run.finished):
            raise RunFolderError(f"{run.folder} holds a {results.FILE} but no config.json saying what made it; pass "
                                 "--overwrite to replace it, or choose another --output")
        self.results = results.read(self.path) if self.path.exists() else results.empty()
        if run.finished and any(self.get(name) is None for name in names):
            run.reopen()

    @property
    def finished(self) -> bool:
        """Whether every point asked for finished before: nothing is trained and no file is written."""
        return self.run.finished

    def get(self, name: str):
        return self.results.get(name)

    def put(self, row):
        """Store a finished point's row (or its row updated with a comparison) and return it."""
        if self.results.get(row.name) != row:
            self.results = self.results.put(row)
            self.results.write(self.path)
        return row

    def put_selection(self, rows) -> None:
        """Store what the (K, P) selections hold (teacher-student)."""
        results = self.results.with_selection(rows)
        if results != self.results:
            self.results = results
            self.results.write(self.path)

    def complete(self, quick: bool, summary: dict) -> None:
        if not self.run.finished:
            self.run.complete(quick=quick, summary=summary)
