"""What the three experiments share: one LeNet-5 run in its own folder, and the store of finished points.

Every model is a fresh LeNet-5 from ``pyimagesearch.lenet`` trained by
``lenet.training.train`` with a fixed LR and SGD momentum 0.9 (the default of
train_lenet.py), seeded with ``set_seed(seed)`` before it is built. Each run
writes its ``history.csv``, ``metrics.json`` and ``test_predictions.npy``
into ``runs/<name>/`` of the experiment's folder.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import prepare_dir, read_json, write_bytes, write_config, write_json

MOMENTUM = 0.9  # train_lenet.py's default
PREDICT_BATCH = 1024


def save_array(path: str | Path, array: np.ndarray) -> Path:
    """``np.save`` into ``path``, atomically."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return write_bytes(path, buffer.getvalue())


def train_model(name: str, data, folder: Path, log, *, lr: float, batch: int, epochs: int, seed: int,
                initial_weights=None, checkpoint=None, epoch_data=None) -> dict[str, Any]:
    """Train LeNet-5 on ``data.x_train``/``data.y_train`` into ``folder``; a diverging run is a ``UserError``.

    With a ``checkpoints.RunCheckpoint`` the run resumes from its newest whole
    checkpoint; ``epoch_data`` as in ``lenet.training.train``. Returns
    ``lenet.training.train``'s result.
    """
    from pyimagesearch.core.cli import set_seed
    from pyimagesearch.lenet import training
    from pyimagesearch.lenet.settings import resolve_settings

    settings = resolve_settings("fixed", {"lr": lr, "epochs": epochs, "batch": batch})
    folder = prepare_dir(folder)
    resume_epoch = checkpoint.find(log) if checkpoint is not None else 0
    if not resume_epoch:
        if checkpoint is not None:
            checkpoint.clear()
        training.remove_stale_results(folder)
        set_seed(seed)
    result = training.train(settings, data, folder, log, momentum=MOMENTUM, seed=seed, initial_weights=initial_weights,
                            checkpoint=checkpoint, resume_epoch=resume_epoch, epoch_data=epoch_data)
    if result["diverged"]:
        raise UserError(f"training of {name} diverged ({result['diverged']}); lower --lr (now {lr:g}) and run again")
    return result


def finish_run(result: dict, data, folder: Path, extra: dict | None = None) -> tuple[dict, np.ndarray]:
    """Score a trained run: ``lenet.training.evaluate``'s metrics and the test predictions, both saved in ``folder``.

    ``data.x_train`` is what the training accuracy is measured on.
    """
    from pyimagesearch.lenet import training

    metrics = {**training.evaluate(result["trainer"], data, result["history"], result["train_time_s"]), **(extra or {})}
    predictions = predict(result["model"], data.x_test)
    write_json(Path(folder) / "metrics.json", metrics)
    save_array(Path(folder) / "test_predictions.npy", predictions.astype(np.int8))
    return metrics, predictions


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


class ResultStore:
    """The finished points of a sweep in ``results.json``, written after every point.

    A point is kept across runs only when the experiment's ``settings`` are
    the same; results made with other settings are refused (one sentence),
    unless ``overwrite`` clears them and the ``runs/`` folder first.
    """

    def __init__(self, folder: Path, settings: dict, overwrite: bool = False):
        self.folder = Path(folder)
        self.path = self.folder / "results.json"
        self.settings = _plain(settings)
        self.points: dict[str, dict] = {}
        if overwrite:
            self.path.unlink(missing_ok=True)
            shutil.rmtree(self.folder / "runs", ignore_errors=True)
        elif self.path.exists():
            saved = read_json(self.path, what="results file")
            old = saved.get("settings", {}) if isinstance(saved, dict) else {}
            if old != self.settings:
                changed = sorted(key for key in set(old) | set(self.settings) if old.get(key) != self.settings.get(key))
                shown = "; ".join(f"{key} {old.get(key)!r} then, {self.settings.get(key)!r} now" for key in changed)
                raise UserError(f"{self.folder} holds results made with other settings ({shown}); pass --overwrite "
                                "to replace them or --output to write elsewhere")
            self.points = dict(saved.get("points", {}))

    def get(self, name: str) -> dict | None:
        return self.points.get(name)

    def put(self, name: str, row: dict) -> dict:
        """Store a finished point; returns it as it will be read back, so fresh and kept points print alike."""
        self.points[name] = _plain(row)
        write_json(self.path, {"settings": self.settings, "points": self.points})
        return self.points[name]


def _plain(value):
    """JSON's own view of ``value`` (tuples become lists, NumPy scalars numbers), so saved and fresh compare equal."""
    import json

    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def open_store(folder: Path, settings: dict, args, data, points: dict) -> ResultStore:
    """The experiment's ``ResultStore`` and then its ``config.json`` (so refused settings leave the folder untouched).

    ``points`` names what this run sweeps (the K and P lists, the noise levels ...), for the config.
    """
    store = ResultStore(folder, settings, args.overwrite)
    write_config(folder, {**vars(args), "settings": settings, "points": points, "data_source": data.source,
                          **{f"{split}_images": size for split, size in data.sizes().items()}})
    return store
