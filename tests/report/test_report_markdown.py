"""The Markdown subset the commands write, parsed into blocks; text escaped for HTML and for Markdown."""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.report.document import (
    BulletList, CodeBlock, Heading, ListItem, Paragraph, Span, Table, code, strong, text,
)
from pyimagesearch.report.markdown import parse, parse_inline, split_row
from pyimagesearch.report import render_html, render_markdown


def cells(row):
    return ["".join(span.text for span in cell) for cell in row]


def test_inline_code_and_bold_split_the_text():
    assert parse_inline("a `b|c` and **d** then ``x`y`` end") == (
        Span("text", "a "), Span("code", "b|c"), Span("text", " and "), Span("strong", "d"), Span("text", " then "),
        Span("code", "x`y"), Span("text", " end"))
    assert parse_inline("3*3*64 = 576") == (Span("text", "3*3*64 = 576"),)


def test_table_rows_alignment_escaped_bars_and_code_spans():
    blocks = parse("| a | b \\| c | `x|y` |\n|---|---:|:---:|\n| 1 | 2 |\n| 3 | 4 | 5 | 6 |\n\nafter")
    table, paragraph = blocks
    assert isinstance(table, Table) and isinstance(paragraph, Paragraph)
    assert cells(table.header) == ["a", "b | c", "x|y"] and table.header[2] == (Span("code", "x|y"),)
    assert table.align == ["left", "right", "right"]
    assert [cells(row) for row in table.rows] == [["1", "2", ""], ["3", "4", "5"]]
    assert split_row("| **A** | 1.000 |") == ["**A**", "1.000"]


def test_headings_paragraphs_lists_and_code_blocks():
    source = "\n".join([
        "# Title #", "", "first line", "second line", "## Step by step", "",
        "1. keep **A**.", "   - IoU(A, B) = 0.822 > 0.7, suppress B", "   - IoU(A, C) = 0.538", "2. keep C,",
        "   continued", "", "```bash", "python x.py | tail", "```", "trailing"])
    assert parse(source) == [
        Heading(1, text("Title")),
        Paragraph(text("first line second line")),
        Heading(2, text("Step by step")),
        BulletList([ListItem(text("keep ", strong("A"), "."),
                             [BulletList([ListItem(text("IoU(A, B) = 0.822 > 0.7, suppress B")),
                                          ListItem(text("IoU(A, C) = 0.538"))])]),
                    ListItem(text("keep C, continued"))], ordered=True),
        CodeBlock("python x.py | tail"),
        Paragraph(text("trailing")),
    ]


def test_html_escapes_every_span_and_marks_only_code_and_bold():
    assert render_html.inline(text("<b>&", code("<i>"), strong('"q"'))) == \
        "&lt;b&gt;&amp;<code>&lt;i&gt;</code><strong>&quot;q&quot;</strong>"
    table = render_html.HtmlRenderer().table(Table([text("<th>")], [[text("<td>")]], ["right"], caption="<cap>"))
    assert table == ('<div class="table"><table><caption>&lt;cap&gt;</caption><thead><tr><th class="r">&lt;th&gt;</th>'
                     '</tr></thead><tbody><tr><td class="r">&lt;td&gt;</td></tr></tbody></table></div>')


def test_markdown_escaping_keeps_text_literal():
    assert render_markdown.escape("<b> a*b [x](y) `c` _u_ lr_min & 1\\2") == \
        "&lt;b&gt; a\\*b \\[x\\](y) \\`c\\` \\_u\\_ lr_min &amp; 1\\\\2"
    assert render_markdown.code_span("a`b") == "``a`b``" and render_markdown.code_span("`x") == "`` `x ``"
    assert render_markdown.line(text("# not a heading")) == "\\# not a heading"
    assert render_markdown.line(text("1. not a list")) == "\\1. not a list"
    renderer = render_markdown.MarkdownRenderer()
    assert renderer.table(Table([text("a|b"), text("n")], [[text("<x>"), text("1")]], ["left", "right"])) == \
        "| a\\|b | n |\n|---|---:|\n| &lt;x&gt; | 1 |"


def test_figures_are_numbered_and_copied_under_safe_names(tmp_path):
    renderer = render_markdown.MarkdownRenderer()
    from pyimagesearch.report.document import Figure

    first = renderer.figure(Figure(Path("/x/a b<c>.png"), "the *first*"))
    second = renderer.figure(Figure(Path("/y/curves.png"), "second"))
    assert first == "![the \\*first\\*](figures/001-a-b-c-.png)\n\n*Figure 1: the \\*first\\**"
    assert second.startswith("![second](figures/002-curves.png)")
    assert renderer.copies == [(Path("/x/a b<c>.png"), "figures/001-a-b-c-.png"), (Path("/y/curves.png"), "figures/002-curves.png")]


def test_data_uri_only_for_real_images(tmp_path):
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"rest")
    fake = tmp_path / "b.png"
    fake.write_text("<svg onload=alert(1)>")
    assert render_html.data_uri(png) == "data:image/png;base64,iVBORw0KGgpyZXN0"
    assert render_html.data_uri(fake) is None and render_html.data_uri(tmp_path / "missing.png") is None
