"""The life of a results folder, from its lock to its completion record, written once.

Every command that writes results opens its folder as a ``RunFolder``::

    with RunFolder(args.output, "lenet-run", settings, overwrite=args.overwrite, seed=args.seed) as run:
        if run.finished:            # the same settings finished before: keep the results
            return 0
        ...                         # resume from a checkpoint or start, write the results
        run.complete(quick=..., summary={...})

``RunFolder`` owns the folder for one process from start to finish:

- **one writer**: an exclusive ``fcntl`` lock on ``<folder>/.lock``. A second
  process into the same folder stops at once with one sentence naming the
  running process. The kernel drops the lock of a process that dies, however
  it dies, so a lock left by a killed process is simply taken over;
- **one truth**: the requested ``settings`` (what determines the results) are
  compared with those in the folder's ``config.json``. The same settings resume
  an unfinished run or keep a finished one; other settings are refused with one
  sentence naming the difference and ``--overwrite``. Nothing is deleted
  without ``overwrite``, which empties the folder first;
- **seeds in one place**: Python's, NumPy's and (``tensorflow=True``) Keras'
  generators are seeded on entering, before any checkpoint is looked up, so a
  resumed process draws what an uninterrupted one draws;
- **finished is a fact**: ``complete()`` writes ``complete.json`` last (kind,
  settings digest, quick or full, time); ``completion(folder)`` is how every
  reader asks whether, and at which settings, a folder is finished.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import random
import shutil
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from pyimagesearch.core.errors import RunError
from pyimagesearch.core.outputs import environment, json_text, write_json, write_text

LOCK_NAME = ".lock"
CONFIG_NAME = "config.json"
COMPLETE_NAME = "complete.json"
COMPLETE_SCHEMA = 1
# Keys of config.json that describe how a run was watched, not what it computed.
CONFIG_IGNORED = frozenset({"environment", "verbose", "quiet", "overwrite", "resume", "output", "executor",
                            "ray_address", "trial_cpus", "trial_gpus", "tensorboard", "steps_per_execution"})


class RunFolderError(RunError):
    """The folder cannot be used as asked (busy, other settings, not a folder); the message is one sentence."""


class FolderBusy(RunFolderError):
    """Another live process holds the folder's lock."""


def check_output_path(folder: str | os.PathLike, flag: str = "--output") -> Path:
    """``folder`` as an absolute ``Path``, so every message names it whatever the current folder; an empty name
    (which would mean the current folder) is refused."""
    if str(folder).strip() == "":
        raise RunFolderError(f"{flag} is empty; name the folder the results go to, for example {flag} output/run")
    return Path(folder).absolute()


def settings_digest(settings: Mapping[str, Any]) -> str:
    """SHA-256 of the settings as canonical JSON: equal settings give equal digests."""
    return hashlib.sha256(json.dumps(plain(settings), sort_keys=True).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """JSON's own view of ``value``: tuples become lists, paths strings, NumPy scalars numbers, NaN null."""
    return json.loads(json_text(value))


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """"key: old then, new now" for every key whose value differs, sorted by key."""
    keys = sorted(set(old) | set(new))
    return [f"{key} {old.get(key)!r} then, {new.get(key)!r} now" for key in keys if old.get(key) != new.get(key)]


def completion(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The completion record of ``folder`` when it is finished and its settings are those of its config.json.

    None for a folder that is missing, unfinished (no ``complete.json``), or
    whose ``complete.json`` or ``config.json`` cannot be read or disagree.
    """
    folder = Path(folder)
    try:
        record = json.loads((folder / COMPLETE_NAME).read_text(encoding="utf-8"))
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(config, dict):
        return None
    if record.get("settings_sha256") != settings_digest(stored_settings(config)):
        return None
    return record


def stored_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings part of a config.json: the keys it lists under ``settings_keys``.

    A config.json without that list (written before it existed) counts every
    key but those of ``CONFIG_IGNORED`` as settings.
    """
    keys = config.get("settings_keys")
    if isinstance(keys, list):
        return {key: config.get(key) for key in keys if isinstance(key, str)}
    return {key: value for key, value in config.items() if key not in CONFIG_IGNORED and key != "settings_keys"}


def seed_everything(seed: int, tensorflow: bool = False) -> None:
    """Seed Python's and NumPy's generators and, with ``tensorflow``, Keras' (``keras.utils.set_random_seed``)."""
    import numpy as np

    if tensorflow:
        import keras

        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)


class RunFolder:
    """Own ``folder`` for this process: lock, settings check, seeds, ``config.json`` and the completion record.

    Args:
        folder: the results folder (created with its parents).
        kind: what the folder holds ("lenet-run", "lr-grid", "detection" ...),
            stored in the completion record.
        settings: everything that determines the results (keys of
            ``CONFIG_IGNORED`` are left out of the comparison).
        overwrite: empty a folder of other settings (or a finished one) instead of refusing.
        seed: seed the generators with it on entering (``tensorflow`` too when asked).
        config: what ``config.json`` holds besides the settings (a description, data sizes).
        keep: names inside the folder that ``overwrite`` keeps (the lock always stays).

    After entering, ``finished`` says whether the same settings finished
    before (their results are kept as they are) and ``resumed`` whether an
    unfinished run of the same settings is there to continue.
    """

    def __init__(self, folder: str | os.PathLike, kind: str, settings: Mapping[str, Any], *,
                 overwrite: bool = False, seed: int | None = None, tensorflow: bool = False,
                 config: Mapping[str, Any] | None = None, keep: Iterable[str] = (), flag: str = "--output"):
        self.folder = check_output_path(folder, flag)
        self.kind = kind
        self.settings = {key: value for key, value in plain(dict(settings)).items() if key not in CONFIG_IGNORED}
        self.overwrite = overwrite
        self.seed = seed
        self.tensorflow = tensorflow
        self.config = plain(dict(config or {}))
        self.keep = set(keep) | {LOCK_NAME}
        self.flag = flag
        self.finished = False
        self.resumed = False
        self._lock = None
        self._started = time.time()

    # -- entering: lock, compare, seed ------------------------------------------------------------
    def __enter__(self) -> "RunFolder":
        self._make_folder()
        self._acquire()
        try:
            self._compare()
            if self.seed is not None:
                seed_everything(self.seed, self.tensorflow)
            if not self.finished:
                self._write_config()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._release()

    def _make_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise RunFolderError(f"{self.folder} is a file, not a folder; choose another {self.flag}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunFolderError(f"cannot create the output folder {self.folder}: {error.strerror or error}; "
                                 f"choose another {self.flag}") from None

    def _acquire(self) -> None:
        path = self.folder / LOCK_NAME
        try:
            handle = open(path, "a+", encoding="utf-8")
        except OSError as error:
            raise RunFolderError(f"cannot write to the output folder {self.folder}: {error.strerror or error}; "
                                 f"choose another {self.flag}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                handle.close()
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise FolderBusy(f"{self.folder} is being written by {holder}; wait for it to finish, or choose "
                             f"another {self.flag}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()} since "
                     f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        self._lock = handle

    def _release(self) -> None:
        if self._lock is not None:
            try:
                self._lock.seek(0)
                self._lock.truncate()
            except OSError:
                pass
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _compare(self) -> None:
        config_path = self.folder / CONFIG_NAME
        stored = None
        if config_path.is_file():
            try:
                stored = json.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
        if stored is None and not config_path.exists():
            self.resumed = False
            return
        if self.overwrite:
            self.clear()
            return
        if not isinstance(stored, dict):
            raise RunFolderError(f"{config_path} cannot be read, so the results beside it cannot be trusted; pass "
                                 f"--overwrite to start over, or choose another {self.flag}")
        changed = differences(stored_settings(stored), self.settings)
        if changed:
            raise RunFolderError(f"{self.folder} holds results of other settings ({'; '.join(changed)}); pass "
                                 f"--overwrite to replace them, or choose another {self.flag}")
        self.finished = completion(self.folder) is not None
        self.resumed = not self.finished

    # -- the folder's contents ------------------------------------------------------------------------
    def clear(self) -> None:
        """Remove everything in the folder but the lock (and ``keep``): only ever on ``overwrite``."""
        for entry in self.folder.iterdir():
            if entry.name in self.keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
        self.finished = self.resumed = False

    def reopen(self) -> None:
        """Forget the completion record so a finished folder's results can be brought up to date.

        For sweeps whose points are kept one by one (the finished points stay);
        the folder is finished again only after the next ``complete()``.
        """
        (self.folder / COMPLETE_NAME).unlink(missing_ok=True)
        self.finished = False
        self._write_config()

    def _write_config(self) -> None:
        write_json(self.folder / CONFIG_NAME, {**self.config, **self.settings, "settings_keys": sorted(self.settings),
                                               "environment": environment()})

    def complete(self, quick: bool = False, summary: Mapping[str, Any] | None = None) -> Path:
        """Write ``complete.json``, last: the folder is now finished at these settings."""
        record = {
            "schema": COMPLETE_SCHEMA,
            "kind": self.kind,
            "settings_sha256": settings_digest(self.settings),
            "quick": bool(quick),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.time() - self._started, 3),
            "summary": plain(dict(summary or {})),
        }
        path = write_text(self.folder / COMPLETE_NAME, json_text(record))
        self.finished = True
        return path
