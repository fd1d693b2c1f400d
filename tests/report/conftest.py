"""One fixture output/ tree and its report, built once and shared by the report's tests (read, never changed)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.report.tree import make_tree


@dataclass
class Built:
    root: Path
    folder: Path
    html: str
    markdown: str


def build(root: Path, *args: str) -> Built:
    """Run ``python -m pyimagesearch.report`` in-process on ``root``; the pages it wrote."""
    from pyimagesearch.report.command import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--output-root", str(root), *args]) == 0
    folder = root / "report"
    return Built(root, folder, (folder / "index.html").read_text(encoding="utf-8"),
                 (folder / "report.md").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    return build(make_tree(tmp_path_factory.mktemp("output")))
