"""What the report's runner prints: one line per experiment with the time left, and each result's headline figure.

Every experiment ends as exactly one line, begun when it starts and ended
when it ends::

    [2/14] 1.1 LR grid ..., quick settings, about 1.5 min, estimate; 13 min left in all ... finished in 1 min 31 s: ...

On a terminal the running experiment's line is rewritten in place (``\\r``)
every second with its elapsed time and the time left in all; elsewhere (a
file, a pipe) each line is written once, in two pieces, so a log of the
console holds nothing but these lines and the summary.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Mapping, TextIO

from pyimagesearch.report.files import load_dict, number, readable

CLEAR = "\x1b[K"  # erase to the end of the terminal's line
HEADLINE_ITEMS = 3  # figures shown after "finished in N s"
# Where a finished folder without a summary in its completion record keeps its headline figures.
FILE_FIGURES = (("suggestion.json", ("lr_min", "lr_max")), ("metrics.json", ("test_accuracy",)))


class Console:
    """The runner's lines on ``stream`` (stdout by default); ``tty``: rewrite the open line in place."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self._open: str | None = None

    def begin(self, text: str) -> None:
        """Start an experiment's line."""
        self._open = f"{text} ..."
        self._write(f"\r{self._fit(self._open)}{CLEAR}" if self.tty else self._open)

    def progress(self, status: str) -> None:
        """On a terminal, show ``status`` (elapsed, time left) at the end of the open line; elsewhere nothing."""
        if self.tty and self._open is not None:
            self._write(f"\r{self._fit(self._open, status)}{CLEAR}")

    def end(self, status: str) -> None:
        """End the open line with how the experiment ended."""
        if self._open is None:
            return
        self._write(f"\r{self._open} {status}{CLEAR}\n" if self.tty else f" {status}\n")
        self._open = None

    def line(self, text: str) -> None:
        """A line of its own (the summary)."""
        self.end("interrupted")
        self._write(f"{text}\n")

    def _fit(self, text: str, status: str = "") -> str:
        """``text`` and ``status`` within the terminal's width (``text`` cut first), so that ``\r`` goes back to its start."""
        width = shutil.get_terminal_size((100, 24)).columns - 1
        line = f"{text} {status}" if status else text
        if len(line) <= width:
            return line
        room = max(width - len(status) - 4, 0)
        return f"{text[:room]}... {status}".rstrip()[:width]

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def headline(record: Mapping[str, Any] | None, folder: Path) -> str:
    """A finished experiment's figures for its console line: "test accuracy 88.12%, lr_max 0.031"; "" when none.

    From its completion record's ``summary`` when that holds any, else from
    the record files of ``FILE_FIGURES`` in ``folder``. A value that cannot be
    what its name says (an accuracy outside [0, 1], NaN) is left out.
    """
    summary = record.get("summary") if record else None
    items = figures(summary) if isinstance(summary, dict) else []
    if not items:
        for name, keys in FILE_FIGURES:
            values = load_dict(folder / name)
            items += [shown for key in keys if (shown := figure(key, values.get(key)))]
    more = len(items) - HEADLINE_ITEMS
    return ", ".join(items[:HEADLINE_ITEMS]) + (f" (+{more} more)" if more > 0 else "")


def figures(summary: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every scalar of ``summary`` (nested dictionaries flattened, "test_accuracy.clean" -> "test accuracy clean")."""
    items = []
    for key, value in summary.items():
        name = f"{prefix} {key}".strip()
        if isinstance(value, dict):
            items += figures(value, name)
        elif shown := figure(name, value):
            items.append(shown)
    return items


def figure(name: str, value: Any) -> str | None:
    """``name value`` as the console shows it, or None for a value it does not show (lists, flags, impossible numbers)."""
    label = name.replace("_", " ")
    if isinstance(value, str):
        return f"{label} {value}" if 0 < len(value) <= 40 else None
    result = number(value) if isinstance(value, (int, float)) else None
    if result is None:
        return None
    if "accuracy" in name:
        return f"{label} {100 * result:.2f}%" if 0 <= result <= 1 else None
    if name.startswith("lr") or "_lr" in name:
        return f"{name} {result:.3g}" if result > 0 else None
    return f"{label} {readable(result)}"
