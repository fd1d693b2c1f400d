"""One report of every answer: ``output/report/index.html`` and ``report.md`` from the results under ``output/``.

  python -m pyimagesearch.report                 # the report of what exists
  python -m pyimagesearch.report --run quick     # first run every missing experiment at quick settings
  python -m pyimagesearch.report --run full      # first run, or resume, every experiment at the task's settings

The report is organised by the homework's questions. Each shows what the
project computed for it (numbers, tables, figures), the folder, date,
settings and caveats of the runs, and, where results are missing, the
command that makes them and how long it takes here. Questions the project
cannot compute are listed with the paper sections to read.

index.html is one file with its figures embedded: it opens from disk, needs
no network, and prints to PDF from a browser (Print, then Save as PDF).
report.md is the same report in Markdown, its figures in figures/ beside it.
Without --run nothing but the report's own folder is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.cli import HelpFormatter

DEFAULT_ROOT = Path("output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pyimagesearch.report", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--output-root", type=Path, default=DEFAULT_ROOT,
                        help="the folder the experiments write into, with find_lr/, clr/, architectures/, transfer/ ...")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for index.html, report.md, figures/, runs.json and logs/ (default: <output-root>/report)")
    parser.add_argument("--run", choices=("quick", "full"), default=None,
                        help="before the report, run the experiments whose results are missing: quick (subsets and "
                             "fewer epochs, marked as quick in the report; about 15 min here) or full (the task's "
                             "settings, replacing quick results and resuming unfinished runs; hours)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pyimagesearch.core.outputs import prepare_dir, write_bytes, write_text
    from pyimagesearch.report.collect import RUNS_FILE, collect
    from pyimagesearch.report.render_html import render_html, summary
    from pyimagesearch.report.render_markdown import FIGURE_FOLDER, render_markdown

    folder = prepare_dir(args.output or args.output_root / "report")
    if args.run:
        from pyimagesearch.report.runner import run_missing

        run_missing(args.run, args.output_root, folder, RUNS_FILE)
    report = collect(args.output_root, folder)
    page = render_html(report)
    write_text(folder / "index.html", page)

    markdown, copies = render_markdown(report)
    figures = prepare_dir(folder / FIGURE_FOLDER)
    for old in figures.glob("*.png"):  # figures of an earlier report that this one may not have
        old.unlink()
    for path, target in copies:
        write_bytes(folder / target, path.read_bytes())
    write_text(folder / "report.md", markdown)
    print(summary(report))
    print(f"written {folder / 'index.html'} ({len(page.encode()) / 1e6:.1f} MB, {len(copies)} figures embedded) and "
          f"{folder / 'report.md'}")
    return 0
