"""Reading run folders defensively: a missing, empty or corrupt file is None, never an exception.

Other commands write these files, and some of them change over time, so every
reader returns plain data or None and every formatter accepts None.
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
    """``value`` formatted with ``spec`` when it is a number, itself when it is other text, "-" when missing."""
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
    """0.8734 -> "87.34%"; missing -> "-"."""
    result = number(value)
    return "-" if result is None else f"{100 * result:.{digits}f}%"


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
