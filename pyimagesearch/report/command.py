"""One report of every answer: ``output/report/index.html`` and ``report.md`` from the results under ``output/``.

  python -m pyimagesearch.report                 # the report of what exists
  python -m pyimagesearch.report --run quick     # first run every missing experiment at quick settings
  python -m pyimagesearch.report --run full      # first run, or resume, every experiment at the task's settings
  python -m pyimagesearch.report --results-page docs/results.md   # also write the measured results page

The report is organised by the homework's questions. Each shows what the
project computed for it (numbers, tables, figures), the folder, date,
settings and caveats of the runs, and, where results are missing, the
command that makes them and how long it takes here. Questions the project
cannot compute are listed with the paper sections to read.

index.html is one file with its figures embedded: it opens from disk, needs
no network, and prints to PDF from a browser (Print, then Save as PDF).
report.md is the same report in Markdown, its figures in figures/ beside it.
Without --run nothing but the report's own folder is written. The output
root must be a folder of results (with --run it may also be new or empty);
one report at a time writes into a report folder.

With --run each command's output goes to logs/<experiment>.log in the report's
folder; the console shows one line per experiment (its expected time, measured
here by earlier runs when they were, and the time left in all; then how it
ended) and a summary. A failed step does not stop the others; the report is
written, and the exit status is then 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.cli import ArgumentParser, HelpFormatter, UserError, quiet_tensorflow

DEFAULT_ROOT = "output"
# What the report writes in its folder, each a file: a folder of one of these names would stop the report half-way.
REPORT_FILES = ("index.html", "report.md", "runs.json", "durations.json", "config.json", "complete.json")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m pyimagesearch.report", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--output-root", default=DEFAULT_ROOT,
                        help="the folder the experiments write into, with find_lr/, clr/, architectures/, transfer/ ...")
    parser.add_argument("--output", default=None,
                        help="folder for index.html, report.md, figures/, runs.json, durations.json and logs/ (default: "
                             "<output-root>/report)")
    parser.add_argument("--run", choices=("quick", "full"), default=None,
                        help="before the report, run the experiments whose results are missing: quick (subsets and "
                             "fewer epochs, marked as quick in the report; 11-12 min here) or full (the task's "
                             "settings, replacing quick results and resuming unfinished runs; hours). Each command's "
                             "output goes to logs/<experiment>.log, the console shows one line per experiment; "
                             "exit status 2 when one of them did not finish")
    parser.add_argument("--results-page", default=None, metavar="PAGE",
                        help="also write PAGE (docs/results.md), the measured results with their date, commit, machine, "
                             "settings and run times, every number read from the result records")
    return parser


def results_root(name: str, run: str | None) -> Path:
    """``--output-root`` as a folder of results; with ``--run`` also a new or empty folder, which the runner fills."""
    from pyimagesearch.report.questions import EXPERIMENTS

    if name.strip() == "":
        raise UserError("--output-root is empty; name the folder the experiments write into, for example "
                        f"--output-root {DEFAULT_ROOT}")
    root = Path(name)
    tops = sorted({experiment.folder.split("/")[0] for experiment in EXPERIMENTS.values()} | {"report"})
    make_them = "or make the results first with python -m pyimagesearch.report --run quick"
    if root.exists() and not root.is_dir():
        raise UserError(f"--output-root {root} is a file, not a folder of results; name the folder the experiments "
                        f"write into (default {DEFAULT_ROOT})")
    if not root.exists():
        if run:
            return root
        raise UserError(f"--output-root {root} does not exist; name the folder the experiments wrote into (default "
                        f"{DEFAULT_ROOT}), {make_them}")
    # A clone's output/ holds only its .gitkeep: hidden files make no folder a results folder, nor a used one.
    if any((root / top).is_dir() for top in tops) or (run and not any(not entry.name.startswith(".")
                                                                      for entry in root.iterdir())):
        return root
    raise UserError(f"--output-root {root} is not a results folder: it holds none of {', '.join(t + '/' for t in tops)}; "
                    f"name the folder the experiments wrote into (default {DEFAULT_ROOT})"
                    + (", or a new or empty folder for --run" if run else f", {make_them}"))


def check_report_folder(folder: Path) -> None:
    """Refuse, before anything runs, a report folder where one of the report's files is a folder."""
    for name in REPORT_FILES:
        if (folder / name).is_dir():
            raise UserError(f"{folder / name} is a folder, where the report writes its {name}; move it away, or choose "
                            "another --output")


def check_results_page(name: str | None) -> Path | None:
    """``--results-page`` as the path of a file to write, refused before anything runs when it cannot be one."""
    if name is None:
        return None
    page = Path(name)
    if name.strip() == "" or page.is_dir():
        raise UserError(f"--results-page {name!r} is {'empty' if name.strip() == '' else 'a folder'}; name the Markdown "
                        "file to write, for example --results-page docs/results.md")
    if not page.parent.is_dir():
        raise UserError(f"--results-page {page}: the folder {page.parent} does not exist; create it, or name a file in "
                        "an existing folder")
    return page


def failure_sentence(ran: dict[str, dict], logs: Path) -> str | None:
    """One sentence naming every experiment of this run that did not finish; None when all finished."""
    failed = [f"{key} {record['status']}" for key, record in ran.items() if record["status"] != "ok"]
    if not failed:
        return None
    return (f"{len(failed)} of {len(ran)} experiments did not finish ({', '.join(failed)}); the report shows what "
            f"exists, the reasons are in the summary above and the logs in {logs.resolve()}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_tensorflow()  # the readers of Problem 3's records import TensorFlow: no start-up lines on the console
    from pyimagesearch.core.outputs import prepare_dir, write_bytes, write_text
    from pyimagesearch.core.run import RunFolder, check_output_path
    from pyimagesearch.report.collect import RUNS_FILE, collect
    from pyimagesearch.report.render_html import render_html, summary
    from pyimagesearch.report.render_markdown import FIGURE_FOLDER, render_markdown

    root = results_root(args.output_root, args.run)
    ran: dict[str, dict] = {}
    folder = (check_output_path(args.output) if args.output is not None else root / "report").resolve()
    check_report_folder(folder)
    results_page = check_results_page(args.results_page)
    # The report has no settings of its own: it is rebuilt from the results every time. Its folder is owned
    # all the same, so that two reports (and two runners) never write into one folder at once.
    with RunFolder(folder, "report", {}, config={"output_root": str(root), "run": args.run}) as run:
        if run.finished:
            run.reopen()
        prepare_dir(folder)
        if args.run:
            from pyimagesearch.report.runner import run_missing

            ran = run_missing(args.run, root, folder, RUNS_FILE)
        report = collect(root, folder)
        page = render_html(report)
        write_text(folder / "index.html", page)

        markdown, copies = render_markdown(report)
        figures = prepare_dir(folder / FIGURE_FOLDER)
        for old in figures.glob("*.png"):  # figures of an earlier report that this one may not have
            old.unlink()
        for path, target in copies:
            write_bytes(folder / target, path.read_bytes())
        write_text(folder / "report.md", markdown)
        statuses = [source.status for question in report.questions for source in question.sources]
        run.complete(quick="quick" in statuses, summary={
            "questions": {question.id: question.status for question in report.questions}, "figures": len(copies)})
    print(summary(report))
    print(f"written {folder / 'index.html'} ({len(page.encode()) / 1e6:.1f} MB, {len(copies)} figures embedded) and "
          f"{folder / 'report.md'}")
    if results_page is not None:
        from pyimagesearch.report.results_page import write_results_page

        print(f"written {write_results_page(root, results_page).resolve()}")
    if args.run:
        failed = failure_sentence(ran, folder / "logs")
        if failed:
            raise UserError(failed)
    return 0
