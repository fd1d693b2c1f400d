"""Reading what is not a result (logs, dates, settings, figures) tolerantly, and formatting results strictly.

The tolerant helpers (``load_text``, ``last_line``, ``modified``,
``scalar_settings``, ``pngs``, ``subfolders``, ``load_dict`` for the
runner's own runs.json) return None or an empty value for a missing or
damaged file: a log line or a date that cannot be read costs the report
nothing. Results are read through their records (``pyimagesearch.records``),
which name a bad file and field in a ``RecordError``.

The formatters of numbers are strict: None (a value a record allows to be
absent) is shown as "-", but a value that cannot be what it stands for (an
accuracy of 1.7, a learning rate of -0.01, NaN) raises ``ImpossibleValue``
rather than being printed; the report then shows the question's caveat
instead of its numbers (``collect``).
"""

from __future__ import annotations

import csv
import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any


def load_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is missing or cannot be read."""
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def load_dict(path: Path) -> dict:
    """The JSON object in ``path``; an empty dict when it is missing, corrupt or not an object."""
    data = load_json(path)
    return data if isinstance(data, dict) else {}


def load_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header; empty when it is missing or cannot be read."""
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            return [row for row in csv.DictReader(stream) if row]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def load_text(path: Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def last_line(path: Path, containing: str = "") -> str | None:
    """The last non-empty line of a text file that contains ``containing``."""
    lines = [line.strip() for line in (load_text(path) or "").splitlines() if line.strip() and containing in line]
    return lines[-1] if lines else None


def modified(*paths: Path) -> str | None:
    """The local date and time the newest of ``paths`` that exist was last written, as "2026-11-27 18:40"."""
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            pass
    return datetime.fromtimestamp(max(times)).strftime("%Y-%m-%d %H:%M") if times else None


class ImpossibleValue(ValueError):
    """A number that cannot be what it is shown as; ``shown`` and ``problem`` make the report's sentence."""

    def __init__(self, value: Any, problem: str):
        self.value, self.problem = value, problem
        self.shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        super().__init__(f"Argument `value` {problem}. Received: value={self.shown}")


def _absent(value: Any) -> bool:
    """None, or an empty CSV cell: a value that is not there (a diverged run's loss), shown as "-"."""
    return value is None or value == ""


def _checked(value: Any, test, problem: str) -> float:
    """``value`` as a float when it is a finite number (or numeric text) that passes ``test``; else ``ImpossibleValue``."""
    result = None if isinstance(value, bool) else _float(value)
    if result is None or not math.isfinite(result) or not test(result):
        raise ImpossibleValue(value, problem)
    return result


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def number(value: Any) -> float | None:
    """``value`` as a finite float (numbers and numeric strings), else None."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def fmt(value: Any, spec: str = ".4g") -> str:
    """``value`` formatted with ``spec`` when it is a number, itself when it is other text, "-" when missing.

    NaN and infinity (as numbers or as text) are never printed: ``ImpossibleValue``.
    """
    parsed = None if isinstance(value, bool) else _float(value)
    if parsed is not None and not math.isfinite(parsed):
        raise ImpossibleValue(value, "is not a finite number")
    result = number(value)
    if result is not None:
        if spec.endswith("d") or spec == ",":
            result = int(round(result))
        return format(result, spec)
    if value is None or value == "":
        return "-"
    return str(value)


def readable(value: Any) -> str:
    """A number as people write it: whole numbers with thousands separators, others to 4 significant digits."""
    result = number(value)
    if result is not None and result.is_integer() and abs(result) < 1e15:
        return f"{int(result):,}"
    return fmt(value, ".4g")


def percent(value: Any, digits: int = 2) -> str:
    """An accuracy (a share in [0, 1]) as a percentage: 0.8734 -> "87.34%"; absent (None, "") -> "-".

    Anything else (1.7, -0.1, NaN, text) raises ``ImpossibleValue``: "170.00%" is never shown.
    """
    if _absent(value):
        return "-"
    return f"{100 * _checked(value, lambda v: 0.0 <= v <= 1.0, 'is not an accuracy (it must be in [0, 1])'):.{digits}f}%"


def learning_rate(value: Any, spec: str = ".3g") -> str:
    """A learning rate formatted with ``spec``: 0.00073 -> "0.00073"; absent (None, "") -> "-".

    A rate that is not finite and > 0 (-0.01, 0, NaN, text) raises ``ImpossibleValue``.
    """
    if _absent(value):
        return "-"
    return format(_checked(value, lambda v: v > 0, "is not a learning rate (it must be finite and > 0)"), spec)


def scalar_settings(config: dict, skip: tuple[str, ...] = ("environment",)) -> list[tuple[str, str]]:
    """``config``'s keys and values that fit on a line: numbers, text, switches and short lists.

    Nested objects one level down are shown as ``outer.inner``, unless they
    repeat a top-level value; the keys in ``skip`` and empty values are left out.
    """
    shown = []
    for key, value in config.items():
        if key in skip or value is None or value == "" or value == []:
            continue
        if isinstance(value, dict):
            # A nested copy of a top-level value (a "settings" block repeating the flags) is shown once.
            shown += [(f"{key}.{inner}", _short(item)) for inner, item in value.items()
                      if not isinstance(item, (dict, list)) and item is not None and config.get(inner) != item]
        elif isinstance(value, list):
            if len(value) <= 12 and all(not isinstance(item, (dict, list)) for item in value):
                shown.append((key, ", ".join(_short(item) for item in value)))
        else:
            shown.append((key, _short(value)))
    return shown


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def pngs(folder: Path) -> list[Path]:
    """The PNG figures directly in ``folder``, by name."""
    try:
        return sorted(path for path in Path(folder).iterdir() if path.suffix.lower() == ".png" and path.is_file())
    except OSError:
        return []


def subfolders(folder: Path) -> list[Path]:
    """The folders directly in ``folder``, by name (hidden ones left out)."""
    try:
        return sorted(path for path in Path(folder).iterdir() if path.is_dir() and not path.name.startswith("."))
    except OSError:
        return []
