"""The report's page, docs/report.md, names every flag of the command and every question it covers."""

from pathlib import Path

from pyimagesearch.report.command import build_parser
from pyimagesearch.report.questions import QUESTIONS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "report.md"


def test_every_flag_and_question_is_on_the_report_page():
    text = PAGE.read_text(encoding="utf-8")
    flags = [flag for action in build_parser()._actions for flag in action.option_strings if flag.startswith("--")
             and flag != "--help"]
    assert flags == ["--output-root", "--output", "--run", "--results-page"]
    assert all(f"`{flag}" in text for flag in flags)
    assert "`--run quick`" in text and "`--run full`" in text and "Save as PDF" in text and "--print-to-pdf" in text
    assert all(spec.id in text for spec in QUESTIONS)
