"""How long an experiment takes here: measured on this machine when it was, else the static estimate.

Two measurements, the first found wins:

- ``durations.json`` in the report's folder: the runner's own clock around
  each command it ran to the end from the start (not a resumed run), Python's
  and TensorFlow's start-up included: what a user waits for;
- the ``wall_seconds`` of the experiment's completion record in the results
  tree, when that record is at the setting asked for (its ``quick`` field).
  It covers the run from its folder's lock to its completion record, so
  without the start-up.

Without either, the time written in ``questions.py`` is shown, labelled
"estimate"::

    about 4 min, measured here on 2026-12-02
    about 1.5 min, estimate
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from pyimagesearch.core.outputs import write_json
from pyimagesearch.report.files import load_dict, number
from pyimagesearch.report.questions import Experiment

DURATIONS_FILE = "durations.json"  # {experiment: {"quick" | "full": {"seconds": s, "measured": "YYYY-MM-DD"}}}
UNITS = {"s": 1, "min": 60, "h": 3600}
STATIC_TIME = re.compile(r"(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? ?(s|min|h)\b")


@dataclass(frozen=True)
class Estimate:
    """An experiment's expected run time: ``seconds`` (None when not known) and what it rests on."""

    seconds: float | None
    text: str  # "about 4 min" or the static estimate as written
    measured: str | None = None  # the date it was measured here; None for a static estimate

    def __str__(self) -> str:
        return f"{self.text}, measured here on {self.measured}" if self.measured else f"{self.text}, estimate"


def static_seconds(text: str) -> float | None:
    """The first time in ``text`` in seconds: "about 1.5 min" -> 90; "30-60 min" -> 3600 (the upper end); else None."""
    found = STATIC_TIME.search(text)
    if found is None:
        return None
    return float(found.group(2) or found.group(1)) * UNITS[found.group(3)]


def about(seconds: float) -> str:
    """A run time as it is estimated: "about 40 s", "about 1.5 min", "about 25 min", "about 1.4 h"."""
    if seconds < 59.5:
        return f"about {max(1, round(seconds))} s"
    minutes = seconds / 60
    if minutes < 9.95:
        return f"about {minutes:.1f} min".replace(".0 min", " min")
    if minutes < 59.5:
        return f"about {round(minutes)} min"
    return f"about {seconds / 3600:.1f} h".replace(".0 h", " h")


def duration(seconds: float) -> str:
    """A measured time: "0 s", "58 s", "1 min 31 s", "1 h 04 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def time_left(ahead: list[Estimate], elapsed: float = 0.0) -> str:
    """"about 13 min left in all" for the estimates still ahead, the first of them running for ``elapsed`` s."""
    known = [estimate.seconds for estimate in ahead if estimate.seconds is not None]
    if not known:
        return "time left unknown"
    first = ahead[0].seconds
    total = sum(known) - (min(elapsed, first) if first is not None else 0.0)
    return f"{'at least ' if len(known) < len(ahead) else ''}{about(total)} left in all"


def estimate(experiment: Experiment, mode: str, durations: Mapping[str, Any],
             record: Mapping[str, Any] | None = None) -> Estimate:
    """How long ``experiment`` takes at ``mode`` ("quick" or "full") here.

    Args:
        durations: the report folder's ``durations.json`` (``load_durations``).
        record: the completion record of the experiment's results folder, if any.
    """
    entry = durations.get(experiment.key)
    measured = entry.get(mode) if isinstance(entry, dict) else None
    if isinstance(measured, dict) and number(measured.get("seconds")) is not None and measured.get("measured"):
        seconds = number(measured["seconds"])
        return Estimate(seconds, about(seconds), str(measured["measured"]))
    if record and record.get("quick") == (mode == "quick") and number(record.get("wall_seconds")) is not None:
        seconds = number(record["wall_seconds"])
        return Estimate(seconds, about(seconds), str(record.get("finished", ""))[:10] or "an unknown date")
    text = experiment.quick_time if mode == "quick" else experiment.full_time
    return Estimate(static_seconds(text), text)


def load_durations(report_folder: Path) -> dict:
    """The report folder's ``durations.json``; empty when it is missing or cannot be read."""
    return load_dict(Path(report_folder) / DURATIONS_FILE)


def remember(report_folder: Path, durations: dict, key: str, mode: str, seconds: float) -> None:
    """Keep ``seconds`` as the measured time of ``key`` at ``mode``, dated today, in ``durations.json``."""
    entry = durations.get(key) if isinstance(durations.get(key), dict) else {}
    durations[key] = {**entry, mode: {"seconds": round(seconds, 1), "measured": datetime.now().strftime("%Y-%m-%d")}}
    write_json(Path(report_folder) / DURATIONS_FILE, durations)
