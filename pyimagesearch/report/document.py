"""The report as plain data: questions, the results found for them, and the blocks both renderers draw.

Text is kept as ``Inline``: a tuple of ``Span`` (plain text, code or bold),
never as markup. Whatever comes from files and folder names stays a plain
span, and each renderer escapes spans for its own format, so a run folder
named ``<script>`` is shown, not executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union


@dataclass(frozen=True)
class Span:
    """A run of text: ``kind`` is "text", "code" or "strong"."""

    kind: str
    text: str


Inline = tuple[Span, ...]


def text(*parts: str | Span) -> Inline:
    """An ``Inline`` from plain strings (text spans) and spans: ``text("run ", code("ls"), ".")``."""
    return tuple(Span("text", part) if isinstance(part, str) else part for part in parts if part != "")


def code(value: str) -> Span:
    return Span("code", str(value))


def strong(value: str) -> Span:
    return Span("strong", str(value))


@dataclass
class Heading:
    level: int  # 1 is the most important heading inside a result; renderers shift it below the question's
    text: Inline


@dataclass
class Paragraph:
    text: Inline


@dataclass
class Table:
    header: list[Inline]
    rows: list[list[Inline]]
    align: list[str] = field(default_factory=list)  # "left" or "right" per column
    caption: str | None = None


@dataclass
class ListItem:
    text: Inline
    children: list["Block"] = field(default_factory=list)


@dataclass
class BulletList:
    items: list[ListItem]
    ordered: bool = False


@dataclass
class CodeBlock:
    text: str


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Note:
    """A boxed remark: ``kind`` is "caveat", "quick", "missing" or "failed"."""

    kind: str
    text: Inline


Block = Union[Heading, Paragraph, Table, BulletList, CodeBlock, Figure, Note]

# Status of a result and of a question, from best to worst; the words the report shows for each.
STATUS_WORDS = {
    "full": "computed",
    "quick": "computed at quick settings",
    "partial": "partly computed",
    "invalid": "not shown: a result file failed its check",
    "missing": "not computed yet",
    "reading": "answered by reading",
}


@dataclass
class Source:
    """What one experiment left for one question: its results, or why there are none and how to make them."""

    title: str
    folder: Path
    status: str  # "full", "quick", "partial" (unfinished), "invalid" (a result file failed its check) or "missing"
    blocks: list[Block] = field(default_factory=list)
    caveats: list[Inline] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)
    date: str | None = None
    command: str | None = None  # the exact command the report's runner ran, when it made these results
    task_command: str = ""  # the command at the task's settings
    quick_command: str = ""
    expected_time: str = ""  # of task_command, here
    quick_time: str = ""
    attempt: Inline = ()  # what happened when the runner last tried, if it failed


@dataclass
class Question:
    id: str  # "2.4 (b-d)"
    anchor: str  # "q2-4"
    title: str
    task: str
    sources: list[Source]
    reading: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        states = {source.status for source in self.sources}
        if not states:
            return "reading"
        if "invalid" in states:
            return "invalid"
        if states == {"full"}:
            return "full"
        if states <= {"full", "quick"}:
            return "quick"
        if states == {"missing"}:
            return "missing"
        return "partial"


@dataclass
class ReadingQuestion:
    """A question the project cannot compute: what to read to answer it."""

    id: str
    question: str
    reading: str


@dataclass
class Report:
    title: str
    built: str
    root: Path
    questions: list[Question]
    reading: list[ReadingQuestion]
