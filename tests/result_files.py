"""The numbers of a results folder, to compare two runs that must agree (resumed and whole, Ray and serial)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np


def numbers(folder: Path, varying: set[str], skip: tuple[str, ...] = (), npy: bool = False) -> dict:
    """Every JSON and CSV file under ``folder`` (and with ``npy`` every .npy), as relative path -> content.

    Keys in ``varying`` (wall times, where a run ran) are left out at every depth; paths that start with one
    of ``skip`` and the JSON files of checkpoints are not read.
    """
    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key not in varying}
        return [strip(item) for item in value] if isinstance(value, list) else value

    found = {}
    for path in sorted(Path(folder).rglob("*")):
        name = str(path.relative_to(folder))
        if name.startswith(skip) if skip else False:
            continue
        if path.suffix == ".json" and path.parent.name != "checkpoint":
            found[name] = strip(json.loads(path.read_text()))
        elif path.suffix == ".csv":
            with open(path, newline="") as stream:
                found[name] = [strip(row) for row in csv.DictReader(stream)]
        elif npy and path.suffix == ".npy":
            found[name] = np.load(path).tolist()
    return found
