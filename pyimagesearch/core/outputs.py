"""Writing results: every file is written whole or not at all.

Each file is first written beside its destination under a temporary name and
then moved into place with ``os.replace``, which is atomic on POSIX, so a run
killed half-way never leaves a truncated CSV, JSON or PNG behind. A write
that fails (a full disk, a folder that is not writable) removes its
temporary file and ends in one sentence naming the folder (``OutputError``);
the files written before are untouched.
"""

from __future__ import annotations

import csv
import errno
from contextlib import contextmanager
from importlib import metadata
import io
import json
import math
import os
import platform
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from pyimagesearch.core.errors import RunError


PARTIAL = ".partial"  # suffix of the temporary files of writes not yet finished

# Errors of the disk or of permissions: the user can fix them, so they end in one sentence.
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS}


class OutputError(RunError):
    """A result could not be written (full disk, no permission); the message names the folder."""


def output_error_message(path: str | os.PathLike, error: OSError) -> str:
    """One sentence for a failed write of ``path``: what went wrong and what to do about the folder."""
    path = Path(path)
    folder = path.parent
    reason = error.strerror or str(error)
    remedy = (f"free some space in {folder}" if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
              else f"make {folder} writable")
    return f"cannot write {path.name} in {folder}: {reason}; {remedy} or choose another --output"


@contextmanager
def output_error(path: str | os.PathLike):
    """Turn a disk or permission error while writing ``path`` into an ``OutputError``; other errors pass."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_ERRORS:
            raise
        raise OutputError(output_error_message(path, error)) from None


def prepare_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents), check that files can be written in it, remove leftovers of killed writes.

    A process killed while writing leaves its temporary file behind, a
    hidden file with ``.partial`` in its name (``.<name>.<random>.partial`` of
    ``write_bytes``, ``.model.partial.keras`` of ``checkpoints.save_model``);
    the next run in the folder removes it.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
        for leftover in folder.glob(f".*{PARTIAL}*"):
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write to output folder {folder}: {reason}; choose another with --output") from None
    return folder


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    target = Path(path)
    with output_error(target):
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            # mkstemp creates files readable by their owner only; give them the usual permissions.
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(temporary, 0o666 & ~mask)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def _plain(value: Any) -> Any:
    """Make NumPy scalars and paths JSON-serialisable; NaN/inf become None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(data: Any) -> str:
    """``data`` as indented JSON text (NumPy scalars and paths as plain values, NaN and inf as null)."""
    return json.dumps(_plain(data), indent=2) + "\n"


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (NaN and inf written as null)."""
    return write_text(path, json_text(data))


def write_csv(path: str | os.PathLike, rows: Iterable[Mapping[str, Any]], fieldnames: list[str] | None = None) -> Path:
    """Write dictionaries as CSV rows atomically; columns in ``fieldnames`` order."""
    rows = list(rows)
    if fieldnames is None:
        fieldnames = list(rows[0]) if rows else []
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _plain(row.get(key)) for key in fieldnames})
    return write_text(path, buffer.getvalue())


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read a CSV file written by ``write_csv`` into a list of dictionaries."""
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """Read a JSON file, turning a missing or corrupt file into a ``RunError``."""
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise RunError(f"{what} {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise RunError(f"{what} {path} cannot be read as JSON: {error}") from None


def save_figure(figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return write_bytes(path, buffer.getvalue())


RUN_PACKAGES = ("numpy", "tensorflow", "keras")


def environment(packages: tuple[str, ...] = RUN_PACKAGES) -> dict[str, str]:
    """Versions that matter for reproducing a run: Python, the machine and the installed ``packages``."""
    info = {"python": platform.python_version(), "machine": platform.machine()}
    for package in packages:
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return info


def write_config(folder: str | os.PathLike, config: Mapping[str, Any], packages: tuple[str, ...] = RUN_PACKAGES) -> Path:
    """Save the resolved configuration of a run, with library versions, as ``config.json``."""
    return write_json(Path(folder) / "config.json", {**config, "environment": environment(packages)})


def remove_stale(folder: str | os.PathLike, names: Iterable[str]) -> None:
    """Delete the result files ``names`` of an earlier run in ``folder``, so none can pass for this run's."""
    for name in names:
        (Path(folder) / name).unlink(missing_ok=True)


def config_matches(folder: str | os.PathLike, config: Mapping[str, Any], ignore: Iterable[str] = ()) -> bool:
    """Whether ``folder/config.json`` holds ``config`` (as ``write_config`` writes it), keys in ``ignore`` aside."""
    path = Path(folder) / "config.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = json.loads(json.dumps(_plain({**config, "environment": environment()}), default=str))
    skip = set(ignore)
    return isinstance(stored, dict) and {k: v for k, v in stored.items() if k not in skip} == {
        k: v for k, v in wanted.items() if k not in skip}
