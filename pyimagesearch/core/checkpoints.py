"""Resumable runs: the state of an unfinished run, saved after every epoch as one unit.

A checkpoint is the folder ``checkpoint/epoch-NNNN`` holding ``model.keras``
(weights, optimizer state with its iteration count and LR schedule) and
``state.json`` (epochs done, the history so far, the run's ``key`` (its
settings), the optimizer's iteration count and the SHA-256 of the model
file). Both are written into ``checkpoint/.epoch-NNNN.partial`` and the
folder is renamed into place in one step, so a run killed at any moment
leaves either the whole checkpoint or none of it. The newest ``keep``
checkpoints are kept: the previous one is the fallback when the newest is
damaged, and multi-worker runs roll back to the epoch every worker has.

On resuming, a checkpoint is used only when its state reads, its model file
has the recorded hash and the loaded optimizer has taken the recorded number
of steps; a damaged newest one is passed over for the previous, with a note.
A checkpoint made with other settings is never resumed silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable

from pyimagesearch.core.errors import RunError
from pyimagesearch.core.outputs import json_text, output_error

CHECKPOINT_NAME = re.compile(r"epoch-(\d{4,})")
STATE_KEYS = ("epochs_done", "history", "key", "iterations", "model_sha256")


def save_model(model, path: str | os.PathLike) -> Path:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then move it into place.

    On any failure the temporary file is removed; a full disk or a refused
    permission ends in one sentence (``outputs.OutputError``).
    """
    target = Path(path)
    temporary = target.with_name(f".{target.stem}.partial.keras")  # Keras saves only to names ending in .keras
    try:
        with output_error(target):
            model.save(temporary)
            os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message says why."""


class ResumeError(RunError):
    """A run that cannot resume as asked (a checkpoint of other settings, none usable); one sentence."""


class RunCheckpoint:
    """Save and find the state of an unfinished run in ``folder/checkpoint``.

    ``required`` names the state entries the run itself needs besides
    ``STATE_KEYS``; ``keep`` is how many of the newest checkpoints stay;
    ``restart_flag`` is the flag that makes the script start over.
    """

    def __init__(self, folder: str | os.PathLike, key: dict[str, Any], keep: int = 2,
                 required: tuple[str, ...] = (), restart_flag: str = "--no-resume"):
        self.folder = Path(folder) / "checkpoint"
        self.key = json.loads(json.dumps(key, default=str))
        self.keep = keep
        self.required = STATE_KEYS + tuple(required)
        self.restart_flag = restart_flag

    def path(self, epoch: int) -> Path:
        return self.folder / f"epoch-{epoch:04d}"

    def epochs(self) -> list[int]:
        """Epochs of the complete checkpoints on disk, newest first."""
        if not self.folder.is_dir():
            return []
        found = (CHECKPOINT_NAME.fullmatch(entry.name) for entry in self.folder.iterdir() if entry.is_dir())
        return sorted((int(match.group(1)) for match in found if match), reverse=True)

    def read_state(self, epoch: int) -> dict[str, Any]:
        """The state of checkpoint ``epoch`` if its files are whole; ``CheckpointError`` otherwise.

        A checkpoint of other settings raises ``ResumeError``.
        """
        folder = self.path(epoch)
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CheckpointError(f"{folder / 'state.json'} cannot be read ({error})") from None
        missing = [key for key in self.required if not isinstance(state, dict) or key not in state]
        if missing:
            raise CheckpointError(f"{folder / 'state.json'} lacks {', '.join(missing)}")
        if not isinstance(state["key"], dict):
            raise CheckpointError(f"{folder / 'state.json'} holds no settings under key")
        if state["key"] != self.key:
            changed = sorted(k for k in set(self.key) | set(state["key"]) if self.key.get(k) != state["key"].get(k))
            raise ResumeError(f"{self.folder} holds an unfinished run with other settings ({', '.join(changed)}); "
                            f"pass {self.restart_flag} to start over, or another --output")
        try:
            digest = file_sha256(folder / "model.keras")
        except OSError as error:
            raise CheckpointError(f"{folder / 'model.keras'} cannot be read ({error.strerror or error})") from None
        if digest != state["model_sha256"]:
            raise CheckpointError(f"{folder / 'model.keras'} is damaged (its contents do not match state.json)")
        return state

    def find(self, note: Callable[[str], None] = print, strict: bool = True) -> int:
        """The newest epoch whose checkpoint is whole, 0 when there is none.

        A damaged newer checkpoint is passed over with a ``note``. When every
        checkpoint is damaged: a ``ResumeError`` naming the newest and
        suggesting ``--no-resume`` (``strict``), else 0 (start over).
        """
        problems = []
        for epoch in self.epochs():
            try:
                self.read_state(epoch)
            except CheckpointError as error:
                problems.append(str(error))
                note(f"note: the checkpoint of epoch {epoch} is unusable: {error}; using an earlier one")
                continue
            return epoch
        if problems and strict:
            raise ResumeError(f"no usable checkpoint to resume from: {problems[0]}; pass {self.restart_flag} to start over")
        return 0

    def restore(self, load: Callable[[Path], Any], epoch: int) -> tuple[dict[str, Any], Any]:
        """Load checkpoint ``epoch`` (as ``find`` or the workers chose it): ``(state, model)``.

        ``load(path)`` loads a model file (``keras.models.load_model``, in the
        caller's strategy scope); the loaded optimizer must have taken the
        steps the state records. Checkpoints newer than ``epoch`` are
        removed: training goes on from this one.
        """
        if epoch not in self.epochs():
            raise ResumeError(f"{self.folder} has no checkpoint of epoch {epoch}, where the other workers resume; "
                            f"start every worker again with {self.restart_flag}")
        try:
            state = self.read_state(epoch)
            model = self._load_model(load, epoch, state)
        except CheckpointError as error:
            raise ResumeError(f"cannot resume: {error}; pass {self.restart_flag} to start over") from None
        for newer in self.epochs():
            if newer > epoch:
                shutil.rmtree(self.path(newer), ignore_errors=True)
        return state, model

    def _load_model(self, load, epoch: int, state: dict[str, Any]):
        path = self.path(epoch) / "model.keras"
        try:
            model = load(path)
        except Exception as error:  # a file with the recorded hash that Keras cannot load is unusable as well
            raise CheckpointError(f"{path} cannot be loaded ({type(error).__name__}: {error})") from None
        iterations = int(model.optimizer.iterations.numpy())
        if iterations != state["iterations"]:
            raise CheckpointError(f"{path} has taken {iterations} optimizer steps but state.json records "
                                  f"{state['iterations']}")
        return model

    def save(self, model, state: dict[str, Any]) -> Path:
        """Save ``model`` and ``state`` (with ``epochs_done``) as one checkpoint, then drop the oldest.

        Both files are written into a partial folder that is renamed into
        place when complete; on any failure the partial folder is removed,
        and a full disk or a refused permission ends in one sentence naming
        the checkpoint folder.
        """
        epoch = int(state["epochs_done"])
        target = self.path(epoch)
        partial = self.folder / f".{target.name}.partial"
        try:
            with output_error(target):
                shutil.rmtree(partial, ignore_errors=True)
                partial.mkdir(parents=True)
                model.save(partial / "model.keras")
                # Inside the partial folder nothing needs an atomic write: the rename below is the commit.
                (partial / "state.json").write_text(json_text({
                    **state, "key": self.key, "iterations": int(model.optimizer.iterations.numpy()),
                    "model_sha256": file_sha256(partial / "model.keras")}), encoding="utf-8")
                if target.exists():
                    shutil.rmtree(target)
                os.replace(partial, target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        for old in self.epochs()[self.keep:]:
            shutil.rmtree(self.path(old), ignore_errors=True)
        return target

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
