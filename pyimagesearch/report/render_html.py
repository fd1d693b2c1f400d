"""The report as one self-contained HTML page: figures embedded as data URIs, no script, no network.

Every piece of text is escaped with ``html.escape``; the only markup is the
one written here. The page prints to PDF from a browser: each question
starts a new page, figures and table rows are not split, and nothing has a
dark background.
"""

from __future__ import annotations

import base64
from html import escape
from itertools import count
from pathlib import Path

from pyimagesearch.report.document import (
    STATUS_WORDS, Block, BulletList, CodeBlock, Figure, Heading, Inline, Note, Paragraph, Question, Report, Source,
    Table,
)
from pyimagesearch.report.questions import run_quick_command

IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}

CSS = """
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       background: #fff; max-width: 68rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin: 0 0 .4rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin: 1.6rem 0 .3rem; }
h4, h5, h6 { font-size: 1rem; margin: 1.1rem 0 .3rem; }
.qid { color: var(--muted); margin-right: .4rem; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .86em; }
code { background: var(--soft); padding: .05rem .25rem; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: var(--soft); border: 1px solid var(--line); padding: .5rem .7rem; white-space: pre-wrap;
      overflow-wrap: anywhere; border-radius: 4px; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .88rem; }
caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: .2rem; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; vertical-align: top; }
th { background: var(--soft); text-align: left; }
td.r, th.r { text-align: right; }
figure { margin: 1rem 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .3rem; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .45rem; border-radius: 999px;
         border: 1px solid; vertical-align: middle; margin-left: .4rem; white-space: nowrap; }
.s-full { color: #1a7f37; border-color: #1a7f37; }
.s-quick { color: #9a6700; border-color: #9a6700; }
.s-partial { color: #bc4c00; border-color: #bc4c00; }
.s-missing { color: #cf222e; border-color: #cf222e; }
.s-invalid { color: #cf222e; border-color: #cf222e; background: #fff5f5; }
.s-reading { color: #0969da; border-color: #0969da; }
.task { border-left: 3px solid var(--line); padding-left: .7rem; color: var(--muted); }
.source { border-top: 1px dashed var(--line); margin-top: 1.2rem; }
.meta, .settings { color: var(--muted); font-size: .88rem; }
.settings ul { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0 1.2rem;
               list-style: none; padding: 0; margin: .2rem 0; }
.settings li { overflow-wrap: anywhere; }
.caveats { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; padding: .4rem .8rem .4rem 2rem; }
.note { border: 1px solid var(--line); border-left: 4px solid #bc4c00; padding: .4rem .7rem; border-radius: 4px; }
.note.missing { border-left-color: #cf222e; }
.note.failed { border-left-color: #cf222e; background: #fff5f5; }
.reading { background: #f1f8ff; border: 1px solid #c8e1ff; border-radius: 4px; padding: .3rem .9rem; margin-top: 1.2rem; }
nav.toc table { width: 100%; }
nav.toc a { color: var(--ink); }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  nav.toc { break-after: page; }
  section { break-before: page; }
  h2, h3, h4, h5, h6, caption { break-after: avoid; }
  figure, tr, pre, .note, .caveats { break-inside: avoid; }
  figure img { max-height: 150mm; width: auto; }
  .table { overflow: visible; }
  table { font-size: 7.5pt; }
  td, th { overflow-wrap: break-word; }
  a { color: inherit; text-decoration: none; }
}
"""


def data_uri(path: Path) -> str | None:
    """The image in ``path`` as a ``data:`` URI, or None when it is missing or not a PNG, JPEG or GIF."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    mime = next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}" if mime else None


def inline(spans: Inline) -> str:
    parts = []
    for span in spans:
        body = escape(span.text)
        parts.append(f"<code>{body}</code>" if span.kind == "code" else f"<strong>{body}</strong>"
                     if span.kind == "strong" else body)
    return "".join(parts)


def badge(status: str) -> str:
    return f'<span class="badge s-{status}">{escape(STATUS_WORDS[status])}</span>'


class HtmlRenderer:
    """Turns a ``Report`` into HTML, numbering the figures as it goes."""

    def __init__(self, run_quick: str = "python -m pyimagesearch.report --run quick"):
        self.figure_numbers = count(1)
        self.run_quick = run_quick  # the report's own command that makes every missing result

    def block(self, block: Block, level: int) -> str:
        """``level``: the HTML heading level of the block's own first-level headings."""
        if isinstance(block, Heading):
            tag = f"h{min(level + block.level - 1, 6)}"
            return f"<{tag}>{inline(block.text)}</{tag}>"
        if isinstance(block, Paragraph):
            return f"<p>{inline(block.text)}</p>"
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, BulletList):
            return self.list(block, level)
        if isinstance(block, CodeBlock):
            return f"<pre><code>{escape(block.text)}</code></pre>"
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, Note):
            return f'<p class="note {escape(block.kind)}">{inline(block.text)}</p>'
        raise TypeError(f"Argument `block` must be a report block. Received: {type(block).__name__}")

    def table(self, table: Table) -> str:
        align = table.align or ["left"] * len(table.header)
        cls = [' class="r"' if side == "right" else "" for side in align]
        caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
        head = "".join(f"<th{cls[i] if i < len(cls) else ''}>{inline(cell)}</th>" for i, cell in enumerate(table.header))
        body = "".join("<tr>" + "".join(f"<td{cls[i] if i < len(cls) else ''}>{inline(cell)}</td>"
                                        for i, cell in enumerate(row)) + "</tr>" for row in table.rows)
        return f'<div class="table"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'

    def list(self, items: BulletList, level: int) -> str:
        tag = "ol" if items.ordered else "ul"
        body = "".join(f"<li>{inline(item.text)}{''.join(self.block(child, level) for child in item.children)}</li>"
                       for item in items.items)
        return f"<{tag}>{body}</{tag}>"

    def figure(self, figure: Figure) -> str:
        uri = data_uri(figure.path)
        if uri is None:
            return f'<p class="note failed">Figure {escape(figure.path.name)} cannot be read as an image.</p>'
        number = next(self.figure_numbers)
        return (f'<figure><img src="{uri}" alt="{escape(figure.caption)}">'
                f"<figcaption>Figure {number}: {escape(figure.caption)}</figcaption></figure>")

    def source(self, source: Source) -> str:
        parts = [f'<div class="source"><h3>{escape(source.title)}{badge(source.status)}</h3>']
        meta = [f"Folder <code>{escape(str(source.folder))}</code>"]
        if source.date:
            meta.append(f"written {escape(source.date)}")
        if source.command:
            meta.append(f"made by <code>{escape(source.command)}</code>")
        parts.append(f'<p class="meta">{"; ".join(meta)}.</p>')
        if source.status == "missing":
            parts.append(self.missing(source))
        if source.attempt:
            parts.append(f'<p class="note failed">{inline(source.attempt)}</p>')
        if source.caveats:
            items = "".join(f"<li>{inline(caveat)}</li>" for caveat in source.caveats)
            parts.append(f'<ul class="caveats">{items}</ul>')
        parts += [self.block(block, 4) for block in source.blocks]
        if source.settings:
            items = "".join(f"<li>{escape(k)} = {escape(v)}</li>" for k, v in source.settings)
            parts.append(f'<div class="settings"><strong>Settings of the run (config.json)</strong><ul>{items}</ul></div>')
        if source.status != "missing" and source.status != "full":
            parts.append(f'<p class="meta">At the task\'s settings ({escape(source.expected_time)} here): '
                         f"<code>{escape(source.task_command)}</code></p>")
        parts.append("</div>")
        return "".join(parts)

    def missing(self, source: Source) -> str:
        return (f'<div class="note missing"><p>Not computed yet. The command at the task\'s settings '
                f"({escape(source.expected_time)} here):</p><pre><code>{escape(source.task_command)}</code></pre>"
                f"<p>At quick settings ({escape(source.quick_time)}):</p>"
                f"<pre><code>{escape(source.quick_command)}</code></pre>"
                f"<p>Or every missing result at once: <code>{escape(self.run_quick)}</code></p></div>")

    def question(self, question: Question) -> str:
        parts = [f'<section class="question" id="{escape(question.anchor)}">',
                 f'<h2><span class="qid">{escape(question.id)}</span>{escape(question.title)}{badge(question.status)}</h2>',
                 f'<p class="task"><strong>The task:</strong> {escape(question.task)}</p>']
        parts += [self.source(source) for source in question.sources]
        if question.reading:
            items = "".join(f"<li>{escape(entry)}</li>" for entry in question.reading)
            parts.append(f'<div class="reading"><h3>Read in the papers</h3><ul>{items}</ul></div>')
        parts.append("</section>")
        return "".join(parts)

    def contents(self, report: Report) -> str:
        rows = "".join(f'<tr><td><a href="#{escape(q.anchor)}">{escape(q.id)}</a></td><td>{escape(q.title)}</td>'
                       f"<td>{badge(q.status)}</td></tr>" for q in report.questions)
        rows += (f'<tr><td><a href="#reading">{len(report.reading)} more</a></td><td>Questions answered by reading the '
                 f'papers</td><td>{badge("reading")}</td></tr>')
        return (f'<nav class="toc"><h2>Contents</h2><div class="table"><table><thead><tr><th>Question</th><th>Topic</th>'
                f"<th>Status</th></tr></thead><tbody>{rows}</tbody></table></div></nav>")

    def reading(self, report: Report) -> str:
        rows = "".join(f"<tr><td>{escape(r.id)}</td><td>{escape(r.question)}</td><td>{escape(r.reading)}</td></tr>"
                       for r in report.reading)
        return ('<section class="reading-list" id="reading"><h2>Questions answered by reading the papers</h2>'
                "<p>The project computes nothing for these; they are answered in your own words from the papers.</p>"
                f'<div class="table"><table><thead><tr><th>Question</th><th>Asks</th><th>Read</th></tr></thead>'
                f"<tbody>{rows}</tbody></table></div></section>")

    def page(self, report: Report) -> str:
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
            f"<header><h1>{escape(report.title)}</h1><p>{escape(summary(report))}</p></header>",
            self.contents(report),
            "<main>",
            *[self.question(question) for question in report.questions],
            self.reading(report),
            "</main></body></html>",
        ])


def summary(report: Report) -> str:
    """One sentence: when and from where the report was built, and how many questions have results."""
    counts = {status: sum(q.status == status for q in report.questions) for status in STATUS_WORDS}
    parts = [f"{counts[status]} {STATUS_WORDS[status]}" for status in ("full", "quick", "partial", "invalid", "missing")
             if counts[status]]
    return (f"Built {report.built} from the results under {report.root}. Of the {len(report.questions)} questions the "
            f"project computes: {', '.join(parts)}. {len(report.reading)} more are answered by reading the papers.")


def render_html(report: Report) -> str:
    return HtmlRenderer(run_quick_command(report.root)).page(report)

