"""The report built from a fixture output/ tree: every section, every figure embedded, missing commands, escaping."""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, READING_QUESTIONS
from tests.report.conftest import build
from tests.report.tree import CLR_SEEDS, INJECTED, INJECTED_RUN, make_lenet, make_semisupervised, pngs_under, write_json


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and the text of each section by id."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.section_text: dict[str, list[str]] = {}
        self.current: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section":
            self.current = attributes.get("id")
            self.section_text[self.current] = []

    def handle_endtag(self, tag):
        if tag == "section":
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.section_text[self.current].append(data)

    def text_of(self, anchor: str) -> str:
        return " ".join(" ".join(self.section_text[anchor]).split())

    def all(self, tag: str) -> list[dict]:
        return [attributes for name, attributes in self.tags if name == tag]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_question_has_its_section_in_order_and_in_the_contents(built):
    page = Elements(built.html)
    sections = page.all("section")
    assert [s["id"] for s in sections] == [spec.anchor for spec in QUESTIONS] + ["reading"]
    assert [s.get("class") for s in sections].count("question") == 12
    links = [a["href"] for a in page.all("a")]
    assert links == [f"#{spec.anchor}" for spec in QUESTIONS] + ["#reading"]
    for spec in QUESTIONS:
        assert page.text_of(spec.anchor).startswith(f"{spec.id} {spec.title}")
    reading = page.text_of("reading")
    for question_id, _, paper in READING_QUESTIONS:
        assert question_id in reading and paper in reading
    for spec in QUESTIONS:
        assert f"\n## {spec.id} {spec.title} (" in built.markdown
    assert "\n## Questions answered by reading the papers\n" in built.markdown


def test_every_figure_of_the_tree_is_embedded_once_and_nothing_is_fetched(built):
    page = Elements(built.html)
    sources = [img["src"] for img in page.all("img")]
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    embedded = [sha(base64.b64decode(src.split(",", 1)[1])) for src in sources]
    expected = [sha(path.read_bytes()) for path in pngs_under(built.root)]
    assert len(expected) == 21 and sorted(embedded) == sorted(expected)
    assert len(page.all("figure")) == 21 and built.html.count("<figcaption>Figure ") == 21
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    for tag, attributes in page.tags:
        for name in ("href", "src"):
            value = attributes.get(name) or ""
            assert value.startswith(("#", "data:")) or not value, (tag, value[:80])
    assert "url(" not in built.html and "@import" not in built.html


def test_markdown_report_has_its_figures_beside_it(built):
    links = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", built.markdown)
    assert len(links) == 21
    copies = sorted(sha((built.folder / link).read_bytes()) for link in links)
    assert copies == sorted(sha(path.read_bytes()) for path in pngs_under(built.root))
    assert sorted(path.name for path in (built.folder / "figures").iterdir()) == sorted(Path(link).name for link in links)


def test_folder_names_are_shown_as_text_never_as_markup(built):
    page = Elements(built.html)
    assert not page.all("script") and all(set(img) == {"src", "alt"} for img in page.all("img"))
    assert "&lt;script&gt;alert(1)" in built.html and "&lt;img src=x onerror=alert(2)&gt;" in built.html
    assert "<script" not in built.html and "<img src=x" not in built.html
    assert INJECTED in page.text_of("q3-1") and INJECTED_RUN in page.text_of("q3-2")
    # In Markdown, code spans and fenced blocks show their text literally; everywhere else it must be escaped.
    prose = re.sub(r"(`+).*?\1", "", re.sub(r"^```.*?^```", "", built.markdown, flags=re.S | re.M), flags=re.S)
    assert "<script" not in prose and "<img" not in prose and "&lt;script&gt;alert(1)" in prose
    assert "`" + str(built.root / "transfer" / INJECTED) + "`" in built.markdown

def test_missing_results_show_the_exact_commands_and_their_times(built):
    text = Elements(built.html).text_of("q4-2")
    resampling, root = EXPERIMENTS["resampling"], built.root
    assert (f"Not computed yet. The command at the task's settings ({resampling.full_time} here): "
            f"python -m pyimagesearch.semisupervised resampling --output {root}/semisupervised/resampling "
            f"At quick settings ({resampling.quick_time}): "
            f"python -m pyimagesearch.semisupervised resampling --quick --output {root}/semisupervised/resampling/quick "
            f"Or every missing result at once: python -m pyimagesearch.report --run quick --output-root {root}") in text
    assert (f"Not computed yet. The command at the task's settings ({resampling.full_time} here):\n\n```\n"
            f"python -m pyimagesearch.semisupervised resampling --output {root}/semisupervised/resampling\n```") in built.markdown

def test_numbers_statuses_and_caveats_come_from_the_files(built):
    page = Elements(built.html)
    grid = page.text_of("q1-1")
    assert "lr_min = 2.78e-05 and lr_max = 0.00464" in grid and "lr_min = 0.00073 and lr_max = 0.022" in grid
    assert "Diverged and stopped: LR 10 (after 1 epoch(s))" in grid
    clr = page.text_of("q1-2")
    assert f"{len(CLR_SEEDS)} seeds (1, 42)" in clr and "90.92%" in clr and "91.04%" in clr
    assert "test accuracy 90.98% 0.08 points" in clr and "seeds 42, 1" in clr  # the seeds' metrics.json
    assert "Mean training and validation curves over the seeds" in clr and "Seed 42: The learning rate" in clr
    growth = page.text_of("q1-3")
    assert "computed at quick settings" in growth and "--limit 10000" in growth
    assert "Something the run wanted said" in growth
    assert "so the comparison is confounded" in growth  # comparison.md's own paragraph, verbatim
    assert "Stand-in RPN outputs" in page.text_of("q2-5")
    transfer = page.text_of("q3-1")
    assert "Random ResNet50 weights" in transfer and "Trained 2 epoch(s), not the task's 50-60" in transfer
    assert "Not run yet at the task's learning rate(s) 0.01, 0.1" in transfer
    assert "Winner: feature at lr 0.1" in page.text_of("q3-2")
    assert "Quick settings (--quick)" in page.text_of("q4-2") and "LeNet-5 on Fashion-MNIST, not the papers'" in page.text_of("q4-3")
    statuses = {spec.id: re.search(r'<section class="question" id="%s">.*?badge s-(\w+)' % spec.anchor, built.html, re.S).group(1)
                for spec in QUESTIONS}
    assert statuses == {"1.1": "full", "1.2": "full", "1.3": "quick", "2.1": "full", "2.2": "full", "2.3": "full",
                        "2.4 (b-d)": "full", "2.5 (c-d)": "full", "3.1 (a-c)": "partial", "3.2 (a-b)": "partial",
                        "4.2 (a-b)": "partial", "4.3 (b-d)": "full"}


def test_tables_are_html_tables_with_escaped_cells(built):
    vgg = Elements(built.html).text_of("q2-2")
    assert "CONV3-64 224*224*64 = 3,211,264 (3*3*64)*64 = 36,864" in vgg
    label_noise = re.search(r'id="q4-2".*?</section>', built.html, re.S).group(0)
    assert '<td class="r">&lt;0.001</td>' in label_noise and "<th class=\"r\">McNemar p</th>" in label_noise


def test_an_empty_root_lists_every_command_and_a_failed_attempt(tmp_path):
    write_json(tmp_path / "report" / "runs.json", {"transfer": {
        "command": "python transfer.py --describe --dataset vgg-flowers", "status": "failed", "started": "2026-11-27 10:00",
        "seconds": 14.2, "reason": "visual_domain_decathlon/vgg-flowers is not prepared; without internet, pass --data-dir"}})
    empty = build(tmp_path)
    page = Elements(empty.html)
    assert empty.html.count("Not computed yet") == sum(len(spec.experiments) for spec in QUESTIONS) == 15
    for experiment in EXPERIMENTS.values():
        assert escape(experiment.command("full", tmp_path)) in empty.html
        assert escape(experiment.command("quick", tmp_path)) in empty.html
    transfer = page.text_of("q3-1")
    assert ("The report ran python transfer.py --describe --dataset vgg-flowers on 2026-11-27 10:00; it stopped after 14 s: "
            "visual_domain_decathlon/vgg-flowers is not prepared") in transfer
    assert "Offline, the stated stand-in answers instead" in transfer and "No result of either is here yet" in transfer
    assert "13 not computed yet" not in empty.html and "12 not computed yet" in empty.html


def test_broken_and_unfinished_files_are_reported_not_raised(tmp_path):
    make_lenet(tmp_path)
    (tmp_path / "batch_growth" / "metrics.json").write_text("{not json")
    (tmp_path / "batch_growth" / "log.txt").write_text("epoch 1\nerror: training diverged in epoch 3: loss is nan\n")
    (tmp_path / "lr_grid" / "suggestion.json").unlink()
    (tmp_path / "clr" / "seed-1" / "metrics.json").unlink()
    (tmp_path / "find_lr" / "suggestion.json").write_text("[1, 2]")
    page = Elements(build(tmp_path).html)
    growth = page.text_of("q1-3")
    # A damaged result is its record's sentence, shown as the question's caveat, never "unfinished" nor a blank.
    assert f"{tmp_path}/batch_growth/metrics.json: is not valid JSON (truncated or damaged" in growth
    assert "Unfinished: 10 learning rates so far and no suggestion.json" in page.text_of("q1-1")
    assert f"{tmp_path}/find_lr/suggestion.json: holds list, not a lr-range-suggestion record" in page.text_of("q1-1")
    assert "Unfinished seeds: 1" in page.text_of("q1-2")


def test_quick_results_are_shown_while_the_full_run_is_unfinished(tmp_path):
    make_semisupervised(tmp_path)
    write_json(tmp_path / "semisupervised" / "label-noise" / "config.json", {"quick": False})
    text = Elements(build(tmp_path).html).text_of("q4-2")
    assert f"Folder {tmp_path}/semisupervised/label-noise/quick" in text
    assert f"A run at the task's settings is unfinished in {tmp_path}/semisupervised/label-noise ; the same command" in text
