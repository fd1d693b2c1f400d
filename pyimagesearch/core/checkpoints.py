"""Resumable runs: the state of an unfinished run, saved after every epoch.

A run writes ``checkpoint/model.keras`` (weights, optimizer state with its
iteration count and LR schedule) and then ``checkpoint/state.json`` (epochs
done, the history so far and the run's ``key``, its settings) after every
epoch, each atomically. Started again with the same command, the run
continues after the last finished epoch, so it ends with the same number of
epochs and optimizer steps as an uninterrupted one. A checkpoint made with
other settings is never resumed silently.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json, write_json


def save_model(model, path: str | os.PathLike) -> Path:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then move it into place."""
    target = Path(path)
    temporary = target.with_name(f".{target.stem}.partial.keras")
    model.save(temporary)
    os.replace(temporary, target)
    return target


class RunCheckpoint:
    """Save and find the state of an unfinished run in ``folder/checkpoint``."""

    def __init__(self, folder: str | os.PathLike, key: dict[str, Any]):
        self.folder = Path(folder) / "checkpoint"
        self.key = json.loads(json.dumps(key, default=str))
        self.model_path = self.folder / "model.keras"
        self.state_path = self.folder / "state.json"

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none; ``UserError`` if it belongs to other settings."""
        if not (self.state_path.is_file() and self.model_path.is_file()):
            return None
        state = read_json(self.state_path, what="checkpoint state")
        if state.get("key") != self.key:
            changed = sorted(k for k in set(self.key) | set(state.get("key", {}))
                             if self.key.get(k) != state.get("key", {}).get(k))
            raise UserError(f"{self.folder} holds an unfinished run with other settings ({', '.join(changed)}); "
                            "pass --no-resume to start over, or another --output")
        return state

    def save(self, model, state: dict[str, Any]) -> None:
        """Save the model first, then the state that vouches for it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        save_model(model, self.model_path)
        write_json(self.state_path, {**state, "key": self.key})

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
