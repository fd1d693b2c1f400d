"""The report as Markdown, with its figures copied beside it into ``figures/``.

Text from files and folder names is escaped for Markdown (``*``, ``_``,
backquotes, brackets, ``<``, ``>``, ``&``, and ``|`` in tables), so it shows
as written and cannot become links, markup or HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyimagesearch.report.document import (
    STATUS_WORDS, Block, BulletList, CodeBlock, Figure, Heading, Inline, Note, Paragraph, Question, Report, Source,
    Table,
)
from pyimagesearch.report.questions import run_quick_command
from pyimagesearch.report.render_html import summary

FIGURE_FOLDER = "figures"
LINE_START = re.compile(r"^(#|>|[-+*] |\d+[.)] |=+$|-+$)")


def escape(value: str) -> str:
    """``value`` as literal Markdown text."""
    value = value.replace("\\", "\\\\")
    for char in "*`[]":
        value = value.replace(char, "\\" + char)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # An underscore inside a word never starts emphasis; only those at a word's edge need escaping.
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", value)


def code_span(value: str) -> str:
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def inline(spans: Inline) -> str:
    parts = []
    for span in spans:
        if span.kind == "code":
            parts.append(code_span(span.text))
        elif span.kind == "strong":
            parts.append(f"**{escape(span.text)}**")
        else:
            parts.append(escape(span.text))
    return "".join(parts).replace("\n", " ")


def line(spans: Inline) -> str:
    """``inline`` for text that starts a line, where ``#``, ``>``, ``- `` or ``1. `` would start a block."""
    text = inline(spans)
    return "\\" + text if LINE_START.match(text) else text


class MarkdownRenderer:
    """Turns a ``Report`` into Markdown; ``copies`` lists the figure files to place beside it."""

    def __init__(self, run_quick: str = "python -m pyimagesearch.report --run quick"):
        self.copies: list[tuple[Path, str]] = []  # (figure file, its path relative to the Markdown file)
        self.run_quick = run_quick

    def block(self, block: Block, level: int) -> str:
        if isinstance(block, Heading):
            return "#" * min(level + block.level - 1, 6) + " " + inline(block.text)
        if isinstance(block, Paragraph):
            return line(block.text)
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, BulletList):
            return self.list(block, level, "")
        if isinstance(block, CodeBlock):
            fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`{3,}", block.text)), default=3))
            return f"{fence}\n{block.text}\n{fence}"
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, Note):
            return "> " + inline(block.text)
        raise TypeError(f"Argument `block` must be a report block. Received: {type(block).__name__}")

    def table(self, table: Table) -> str:
        def cells(row: list[Inline]) -> str:
            return "| " + " | ".join(inline(cell).replace("|", "\\|") or " " for cell in row) + " |"

        align = (table.align + ["left"] * len(table.header))[:len(table.header)]
        rows = [cells(table.header), "|" + "|".join("---:" if side == "right" else "---" for side in align) + "|"]
        rows += [cells((row + [()] * len(table.header))[:len(table.header)]) for row in table.rows]
        caption = f"*{escape(table.caption)}*\n\n" if table.caption else ""
        return caption + "\n".join(rows)

    def list(self, items: BulletList, level: int, indent: str) -> str:
        lines = []
        for number, item in enumerate(items.items, start=1):
            marker = f"{number}. " if items.ordered else "- "
            lines.append(indent + marker + inline(item.text))
            for child in item.children:
                inner = indent + " " * len(marker)
                lines.append(self.list(child, level, inner) if isinstance(child, BulletList)
                             else inner + self.block(child, level))
        return "\n".join(lines)

    def figure(self, figure: Figure) -> str:
        number = len(self.copies) + 1
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", figure.path.name)
        target = f"{FIGURE_FOLDER}/{number:03d}-{name}"
        self.copies.append((figure.path, target))
        caption = escape(figure.caption)
        return f"![{caption}]({target})\n\n*Figure {number}: {caption}*"

    def source(self, source: Source) -> list[str]:
        parts = [f"### {escape(source.title)} ({STATUS_WORDS[source.status]})"]
        meta = [f"Folder {code_span(str(source.folder))}"]
        if source.date:
            meta.append(f"written {source.date}")
        if source.command:
            meta.append(f"made by {code_span(source.command)}")
        parts.append("; ".join(meta) + ".")
        if source.status == "missing":
            parts += [f"Not computed yet. The command at the task's settings ({escape(source.expected_time)} here):",
                      f"```\n{source.task_command}\n```",
                      f"At quick settings ({escape(source.quick_time)}):",
                      f"```\n{source.quick_command}\n```",
                      f"Or every missing result at once: {code_span(self.run_quick)}"]
        if source.attempt:
            parts.append("> " + inline(source.attempt))
        if source.caveats:
            parts.append("**Caveats**\n\n" + "\n".join("- " + inline(caveat) for caveat in source.caveats))
        parts += [self.block(block, 4) for block in source.blocks]
        if source.settings:
            parts.append("*Settings of the run (config.json):* "
                         + "; ".join(f"{escape(k)} = {escape(v)}" for k, v in source.settings) + ".")
        if source.status not in ("missing", "full"):
            parts.append(f"At the task's settings ({escape(source.expected_time)} here): {code_span(source.task_command)}")
        return parts

    def question(self, question: Question) -> list[str]:
        parts = [f'<a id="{question.anchor}"></a>',
                 f"## {escape(question.id)} {escape(question.title)} ({STATUS_WORDS[question.status]})",
                 f"> **The task:** {escape(question.task)}"]
        for source in question.sources:
            parts += self.source(source)
        if question.reading:
            parts.append("**Read in the papers**\n\n" + "\n".join(f"- {escape(entry)}" for entry in question.reading))
        return parts

    def page(self, report: Report) -> str:
        parts = [f"# {escape(report.title)}", escape(summary(report)), "## Contents",
                 "| Question | Topic | Status |\n|---|---|---|\n" + "\n".join(
                     f"| [{escape(q.id)}](#{q.anchor}) | {escape(q.title)} | {STATUS_WORDS[q.status]} |"
                     for q in report.questions)
                 + f"\n| [{len(report.reading)} more](#reading) | Questions answered by reading the papers | "
                   f"{STATUS_WORDS['reading']} |"]
        for question in report.questions:
            parts += self.question(question)
        parts += ['<a id="reading"></a>', "## Questions answered by reading the papers",
                  "The project computes nothing for these; they are answered in your own words from the papers.",
                  "| Question | Asks | Read |\n|---|---|---|\n" + "\n".join(
                      f"| {escape(r.id)} | {escape(r.question)} | {escape(r.reading)} |" for r in report.reading)]
        return "\n\n".join(parts) + "\n"


def render_markdown(report: Report) -> tuple[str, list[tuple[Path, str]]]:
    """The Markdown text and the figures to copy: (file, path relative to the Markdown file)."""
    renderer = MarkdownRenderer(run_quick_command(report.root))
    return renderer.page(report), renderer.copies
