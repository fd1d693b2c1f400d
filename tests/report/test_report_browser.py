"""index.html opened in headless Chromium: what it renders on the first screen, its DOM, and its printed pages.

Chromium comes from the Debian package ``chromium`` (.ci/run installs it). The
tests are skipped only on a machine without it outside CI; in CI (``CI`` set)
a missing Chromium fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pyimagesearch.report.questions import QUESTIONS

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

if CHROMIUM is None and not os.environ.get("CI"):
    pytestmark = pytest.mark.skip(reason="Chromium is not installed (apt-get install -y chromium)")


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "Chromium is missing: CI must install the Debian package chromium (.ci/run)"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120, check=True)


def test_first_screen_is_drawn(built, tmp_path):
    from PIL import Image, ImageStat

    shot = tmp_path / "first-screen.png"
    chromium(tmp_path, built.folder / "index.html", f"--screenshot={shot}", "--window-size=1280,900")
    image = Image.open(shot).convert("L")
    assert image.size == (1280, 900)
    inked = sum(count for value, count in enumerate(image.histogram()) if value < 200) / (1280 * 900)
    # Text, the contents table and its status badges: a blank or unstyled-error page has far less ink and spread.
    assert ImageStat.Stat(image).stddev[0] > 20 and 0.02 < inked < 0.5


def test_rendered_dom_holds_every_section_and_figure_and_no_script(built, tmp_path):
    dom = chromium(tmp_path, built.folder / "index.html", "--dump-dom").stdout
    assert len(re.findall(r'<section class="question" id="', dom)) == len(QUESTIONS) == 12
    assert re.findall(r'<section class="question" id="([^"]+)"', dom) == [spec.anchor for spec in QUESTIONS]
    assert dom.count("<figure>") == 21 and len(re.findall(r'<img src="data:image/png;base64,', dom)) == 21
    assert "<script" not in dom and "&lt;script&gt;alert(1)" in dom
    assert dom.count("<table>") >= 30


def test_printed_pdf_starts_every_question_on_a_new_page(built, tmp_path):
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, built.folder / "index.html", f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))
    assert pages >= 1 + len(QUESTIONS) + 1  # the contents, one page or more per question, the reading list
