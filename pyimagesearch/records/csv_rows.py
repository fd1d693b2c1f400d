"""Records read from CSV files, one record per row: the cells are text, the record's field types say what they hold.

A row becomes a record as a JSON object would (``Record.from_json``), after
each cell is parsed by its field's type: an integer, a number, ``yes``/``no``
for a boolean, an empty cell for null. A missing column, a cell that does not
parse and a value out of range are each one ``RecordError`` naming the file,
the row and the column::

    output/clr/history.csv (row 3): val_accuracy is missing (no such column)
"""

from __future__ import annotations

import csv
import dataclasses
import os
import typing
from pathlib import Path
from typing import Any

from pyimagesearch.records.base import RecordError

BOOLEANS = {"yes": True, "no": False, "true": True, "false": False}


def read_rows(path: str | os.PathLike) -> list[dict[str, str | None]]:
    """The rows of a CSV file as dicts of text; ``RecordError`` when it is missing or cannot be read."""
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            return list(csv.DictReader(stream))
    except FileNotFoundError:
        raise RecordError(str(path), None, "does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RecordError(str(path), None, f"cannot be read ({error})") from None


def from_row(cls, row: dict[str, str | None], source: str, skip: tuple[str, ...] = ()):
    """The record ``cls`` of one CSV row; fields in ``skip`` (or with defaults, when their column is absent) are left out."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        if spec.name in skip:
            continue
        text = row.get(spec.name)
        if text is None:
            if spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING:
                continue
            raise RecordError(source, spec.name, "is missing (no such column)")
        kind = next((h for h in typing.get_args(hints[spec.name]) if h is not type(None)), hints[spec.name])
        try:
            if text.strip() == "":
                values[spec.name] = None
            elif kind is bool:
                values[spec.name] = BOOLEANS[text.strip().lower()]
            elif kind is int:
                values[spec.name] = int(text)
            elif kind is float:
                values[spec.name] = float(text)
            else:
                values[spec.name] = text
        except (KeyError, ValueError):
            expected = "yes or no" if kind is bool else "an integer" if kind is int else "a number"
            raise RecordError(source, spec.name, f"= {text!r} is not {expected}") from None
    return cls.from_json(values, source)


def read_records(cls, path: str | os.PathLike, skip: tuple[str, ...] = ()) -> list:
    """Every row of the CSV file ``path`` as a record ``cls``, each named ``<path> (row N)`` in its errors."""
    path = Path(path)
    return [from_row(cls, row, f"{path} (row {number})", skip) for number, row in enumerate(read_rows(path), start=1)]
