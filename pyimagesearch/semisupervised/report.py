"""Result tables as Markdown and CSV, from rows of plain dictionaries."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Sequence

from pyimagesearch.core.outputs import write_text

# (header, key, format) for each column; format is a format spec or a function of the value.
Column = tuple[str, str, str | Callable]


def percent(value) -> str:
    """0.8734 -> "87.34"; missing or NaN -> "-"."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f}"


def points(value) -> str:
    """A difference of accuracies in percentage points: 0.0123 -> "+1.23"."""
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:+.2f}"


def p_value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def cell(value, form) -> str:
    if callable(form):
        return form(value)
    if value is None or value == "":
        return "-"
    return format(value, form)


def markdown_table(columns: Sequence[Column], rows: Sequence[dict]) -> str:
    """A Markdown table; columns whose format is not a plain string are right-aligned."""
    header = "| " + " | ".join(title for title, _, _ in columns) + " |"
    align = "| " + " | ".join("---" if form == "s" else "---:" for _, _, form in columns) + " |"
    lines = [header, align]
    for row in rows:
        lines.append("| " + " | ".join(cell(row.get(key), form) for _, key, form in columns) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, title: str, columns: Sequence[Column], rows: Sequence[dict],
                   notes: Sequence[str] = ()) -> None:
    """A Markdown file: the title, the table, then the notes."""
    text = f"# {title}\n\n" + markdown_table(columns, rows)
    if notes:
        text += "\n" + "\n".join(notes) + "\n"
    write_text(path, text)
