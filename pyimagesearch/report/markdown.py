"""Read the Markdown that the project's commands write into report blocks.

A small subset, the one those files use: ``#`` headings, paragraphs, pipe
tables (``| a | b |`` then ``|---|---:|``), bullet and numbered lists
(nested by indentation), fenced code, and inline ``code`` and ``**bold**``.
Everything else is kept as plain text; nothing is passed through as HTML.
"""

from __future__ import annotations

import re

from pyimagesearch.report.document import (
    Block, BulletList, CodeBlock, Heading, Inline, ListItem, Paragraph, Span, Table,
)

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"(`+)(.+?)\1|\*\*(.+?)\*\*")


def parse_inline(source: str) -> Inline:
    """Split ``source`` into text, ``code`` and ``**strong**`` spans."""
    spans, position = [], 0
    for match in INLINE.finditer(source):
        if match.start() > position:
            spans.append(Span("text", source[position:match.start()]))
        if match.group(2) is not None:
            spans.append(Span("code", match.group(2).strip() if match.group(1) != "`" else match.group(2)))
        else:
            spans.append(Span("strong", match.group(3)))
        position = match.end()
    if position < len(source):
        spans.append(Span("text", source[position:]))
    return tuple(spans)


def split_row(line: str) -> list[str]:
    """The cells of a pipe-table row; ``\\|`` is a literal bar, and bars inside code spans do not split."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells, current, in_code = [], [], False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] == "|":
            current.append("|")
            index += 2
            continue
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current).strip())
    return cells


def _starts_block(lines: list[str], index: int) -> bool:
    line = lines[index]
    return bool(HEADING.match(line) or ITEM.match(line) or FENCE.match(line) or _is_table(lines, index))


def _is_table(lines: list[str], index: int) -> bool:
    return ("|" in lines[index] and index + 1 < len(lines) and bool(SEPARATOR.match(lines[index + 1]))
            and "|" in lines[index + 1] + lines[index])


def _table(lines: list[str], index: int) -> tuple[Table, int]:
    header = split_row(lines[index])
    align = ["right" if cell.endswith(":") else "left" for cell in split_row(lines[index + 1])]
    width = len(header)
    align = (align + ["left"] * width)[:width]
    rows, index = [], index + 2
    while index < len(lines) and lines[index].strip() and "|" in lines[index]:
        cells = (split_row(lines[index]) + [""] * width)[:width]
        rows.append([parse_inline(cell) for cell in cells])
        index += 1
    return Table([parse_inline(cell) for cell in header], rows, align), index


def _list(lines: list[str], index: int) -> tuple[BulletList, int]:
    entries: list[list] = []  # [indent, ordered, text]
    while index < len(lines):
        line = lines[index]
        match = ITEM.match(line)
        if match:
            entries.append([len(match.group(1).expandtabs(4)), match.group(2)[0].isdigit(), match.group(3)])
        elif line.strip() and line[:1] in (" ", "\t") and entries:
            entries[-1][2] += " " + line.strip()  # a continuation line of the item above
        else:
            break
        index += 1
    root = BulletList([], ordered=entries[0][1])
    stack = [(entries[0][0], root)]
    for indent, ordered, content in entries:
        while len(stack) > 1 and indent < stack[-1][0]:
            stack.pop()
        if indent > stack[-1][0] and stack[-1][1].items:
            child = BulletList([], ordered=ordered)
            stack[-1][1].items[-1].children.append(child)
            stack.append((indent, child))
        stack[-1][1].items.append(ListItem(parse_inline(content)))
    return root, index


def parse(source: str) -> list[Block]:
    """The blocks of a Markdown text, in order."""
    lines = source.replace("\r\n", "\n").split("\n")
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        fence = FENCE.match(line)
        if fence:
            body, index = [], index + 1
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                body.append(lines[index])
                index += 1
            blocks.append(CodeBlock("\n".join(body)))
            index += 1
            continue
        heading = HEADING.match(line)
        if heading:
            blocks.append(Heading(len(heading.group(1)), parse_inline(heading.group(2))))
            index += 1
        elif _is_table(lines, index):
            table, index = _table(lines, index)
            blocks.append(table)
        elif ITEM.match(line):
            items, index = _list(lines, index)
            blocks.append(items)
        else:
            body = [line.strip()]
            index += 1
            while index < len(lines) and lines[index].strip() and not _starts_block(lines, index):
                body.append(lines[index].strip())
                index += 1
            blocks.append(Paragraph(parse_inline(" ".join(body))))
    return blocks
