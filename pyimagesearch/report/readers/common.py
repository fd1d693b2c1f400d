"""What every reader of a run folder shares: a new ``Source``, its date, settings and command, and small blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pyimagesearch.report.document import Block, Figure, Heading, Inline, Source, Table, code, text
from pyimagesearch.report.files import load_dict, load_text, modified, pngs, scalar_settings
from pyimagesearch.report.markdown import parse
from pyimagesearch.report.questions import EXPERIMENTS


@dataclass
class Context:
    """Where the results are, and what the report's runner last did for each experiment (runs.json)."""

    root: Path
    attempts: dict[str, dict] = field(default_factory=dict)


def new_source(context: Context, key: str, title: str | None = None, folder: Path | None = None) -> Source:
    """A ``Source`` for experiment ``key`` with its commands, run times and the runner's failed attempt, if any."""
    experiment = EXPERIMENTS[key]
    source = Source(title=title or experiment.title, folder=folder or context.root / experiment.folder, status="missing",
                    task_command=experiment.command("full", context.root),
                    quick_command=experiment.command("quick", context.root),
                    expected_time=experiment.full_time, quick_time=experiment.quick_time)
    attempt = context.attempts.get(key)
    if attempt and attempt.get("status") != "ok":
        reason = attempt.get("reason") or "no reason was recorded"
        if attempt.get("status") == "skipped":
            source.attempt = text("The report's runner skipped it: ", reason)
        else:
            when = f" on {attempt['started']}" if attempt.get("started") else ""
            seconds = attempt.get("seconds")
            after = f" after {seconds:.0f} s" if isinstance(seconds, (int, float)) else ""
            source.attempt = text("The report ran ", code(attempt.get("command", "?")), f"{when}; it stopped{after}: ",
                                  reason)
    return source


def finish(source: Source, context: Context, key: str, results: Sequence[Path], config: Path | None = None,
           hide: Iterable[str] = ()) -> Source:
    """Fill in the date of ``results``, the settings in ``config`` and, when the runner made them, its exact command."""
    source.date = modified(*results)
    if config is not None:
        hidden = set(hide)
        source.settings = [(name, value) for name, value in scalar_settings(load_dict(config))
                           if name not in hidden and name.split(".")[0] not in hidden]
    attempt = context.attempts.get(key)
    newest = max((path.stat().st_mtime for path in results if path.exists()), default=None)
    if attempt and attempt.get("status") == "ok" and newest is not None:
        # Only when the results are not newer than the runner's run: otherwise someone ran another command since.
        if (attempt.get("finished_at") or 0) >= newest - 1:
            source.command = attempt.get("command")
    return source


def figure(path: Path, caption: str) -> list[Figure]:
    """``[Figure]`` when the file exists, else an empty list (so readers can write ``blocks += figure(...)``)."""
    return [Figure(path, caption)] if Path(path).is_file() else []


def figures(folder: Path, captions: dict[str, str], names: Sequence[Path] | None = None, prefix: str = "") -> list[Figure]:
    """The PNGs in ``names`` (None: every PNG in ``folder``), known names first in ``captions``' order.

    Unknown PNGs, perhaps from a newer version of a command, still appear, captioned by their file name.
    """
    present = {path.name: path for path in (pngs(folder) if names is None else names)}
    ordered = [name for name in captions if name in present] + sorted(name for name in present if name not in captions)
    return [Figure(present[name], prefix + captions.get(name, Path(name).stem.replace("_", " "))) for name in ordered]


def markdown_file(path: Path, drop_title: bool = False) -> list[Block]:
    """The blocks of a Markdown file the project wrote; its first heading left out with ``drop_title``."""
    blocks = parse(load_text(path) or "")
    if drop_title and blocks and isinstance(blocks[0], Heading):
        blocks = blocks[1:]
    return blocks


def key_value_table(rows: Sequence[tuple[str, Any]], header: tuple[str, str] = ("", "value")) -> Table:
    return Table([text(header[0]), text(header[1])], [[text(str(k)), text(str(v))] for k, v in rows], ["left", "right"])


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str] | None = None,
          caption: str | None = None) -> Table:
    """A table of plain-text cells; ``align`` "l"/"r" per column (default: first left, the others right)."""
    align = align or ["l"] + ["r"] * (len(header) - 1)
    return Table([text(h) for h in header], [[c if isinstance(c, tuple) else text(str(c)) for c in row] for row in rows],
                 ["right" if a == "r" else "left" for a in align], caption)


def quick_caveat(config: dict) -> Inline:
    """The caveat of a run on a subset (``--limit``), with the image counts its config.json recorded."""
    limit = config.get("limit")
    counts = [f"{config[f'{split}_images']:,} {split}" for split in ("train", "val", "test")
              if isinstance(config.get(f"{split}_images"), int)]
    images = f" ({', '.join(counts)} images)" if counts else ""
    return text("Quick settings: a subset of Fashion-MNIST, ", code(f"--limit {limit}"), images,
                "; the task's numbers come from the full command.")

