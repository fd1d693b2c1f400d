"""The measured results page, written from the result records so that no number is typed twice.

  python -m pyimagesearch.report --results-page docs/results.md

For the results under the output root the page gives when they finished,
the commit and the machine they were made on (each run's config.json
``environment``), then, question by question, every experiment at the
settings it ran (quick or full: its completion record, ``core.run.completion``)
with its settings, its headline numbers (``headlines``, read through the
records) and its wall time, or the command that makes it while it is missing
or unfinished; a table of run times; and the benchmarks of
``benchmarks/run.py``. A result file that fails its record's check shows its
one sentence in place of its numbers.

The same tree of results gives the same page: everything on it is read from
the files, in a fixed order, except its "Generated" line.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pyimagesearch.core.outputs import write_text
from pyimagesearch.core.run import CONFIG_NAME, completion, stored_settings
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.benchmark import BenchmarkResults, Spread
from pyimagesearch.report.durations import duration
from pyimagesearch.report.files import ImpossibleValue, fmt, load_dict, scalar_settings
from pyimagesearch.report.headlines import HEADLINES, Headline, cell, table
from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, Experiment
from pyimagesearch.report.render_markdown import code_span, escape
from pyimagesearch.report.runner import REPOSITORY, SEMISUPERVISED, result_folder, state
from pyimagesearch.report.studies import study_lines

TITLE = "Measured results"
GENERATED = "Generated "  # the start of the one line that changes from one writing of the page to the next
BENCHMARKS_FOLDER = "benchmarks"
BENCHMARKS_COMMAND = "python benchmarks/run.py"
# The page of each problem (relative to docs/), where its method and the papers' own numbers are.
PROBLEM_PAGES = {"1": "problem1.md", "2": "problem2.md", "2.5": "problem2-5.md", "3": "problem3.md", "4": "problem4.md"}
# How the keys of a config.json ``environment`` that describe the machine are shown; the other keys are packages.
MACHINE_WORDS = {"machine": "{}", "python": "Python {}", "cpu_count": "{} CPUs", "cpu_model": "{}"}
SETTING_WORDS = {"full": "Full settings (the task's)", "quick": "Quick settings (a subset, smaller budgets: not the "
                                                                "task's numbers)"}


@dataclass
class Finding:
    """One experiment as the page shows it: its state, the folder of its results and their completion record."""

    experiment: Experiment
    state: str  # "missing", "unfinished", "quick" or "full"
    folder: Path
    record: dict | None = None
    notes: list[str] = field(default_factory=list)


def find(experiment: Experiment, root: Path) -> Finding:
    """Where ``experiment``'s finished results are, if anywhere: the runner's own view (``runner.state``)."""
    folder = result_folder(experiment, "full", root)
    record = completion(folder)
    notes = []
    if record is None and experiment.key in SEMISUPERVISED:  # Problem 4 keeps quick results in quick/
        quick = result_folder(experiment, "quick", root)
        if completion(quick) is not None:
            if (folder / CONFIG_NAME).is_file():
                notes.append(f"A run at the task's settings is unfinished in {code_span(str(folder))}; "
                             f"{code_span(experiment.command('full', root))} continues it.")
            folder, record = quick, completion(quick)
    current = state(experiment, root)
    if record is None:
        return Finding(experiment, "missing" if current == "missing" else "unfinished", folder)
    if current == "stale":
        notes.append(f"A run it compares finished after it was written; {code_span(experiment.command('full', root))} "
                     "writes it again.")
    # A comparison is quick when one of its runs is, whatever its own record says.
    return Finding(experiment, "quick" if record.get("quick") or current == "quick" else "full", folder, record, notes)


def finished_at(record: dict) -> str:
    """The completion record's time, "2026-11-27 18:40" (UTC)."""
    return str(record.get("finished", ""))[:16].replace("T", " ") or "an unknown time"


def settings_line(folder: Path) -> str | None:
    settings = scalar_settings(stored_settings(load_dict(folder / CONFIG_NAME)))
    return "Settings: " + "; ".join(f"{escape(k)} {cell(v)}" for k, v in settings) + "." if settings else None


def section(finding: Finding, headline: Headline, root: Path) -> list[str]:
    """One experiment's part of its question: where and how it ran and its numbers, or the command that makes it."""
    experiment, folder = finding.experiment, finding.folder
    full, quick = code_span(experiment.command("full", root)), code_span(experiment.command("quick", root))
    lines = [f"#### {escape(experiment.title)}", ""]
    if finding.state == "missing":
        return lines + [f"Not computed yet: {full}" + (f" (the task's settings), or {quick} (quick settings)."
                                                       if quick != full else ".")]
    if finding.state == "unfinished":
        return lines + [f"Unfinished: a run began in {code_span(str(folder))} but wrote no completion record; {full} "
                        f"continues it (at quick settings: {quick})."]
    record = finding.record
    lines.append(f"{SETTING_WORDS[finding.state]}: finished {finished_at(record)} UTC in "
                 f"{duration(record.get('wall_seconds') or 0)}; results in {code_span(str(folder))}.")
    if finding.state == "quick":  # a comparison's command is the same at both settings: its runs were quick
        lines[-1] += f" At the task's settings: {full}." if full != quick else " Its runs were made at quick settings."
    shown = settings_line(folder) if experiment.key != "comparison" else None  # a comparison's inputs are its runs
    lines += ["", shown] if shown else []
    try:
        body = headline(folder, record)
    except RecordError as error:
        body = [f"Not shown: {escape(str(error))}. Run the command again with `--overwrite` to make it anew."]
    except ImpossibleValue as error:
        body = [f"Not shown: {escape(str(folder))}: a result {escape(error.shown)} {escape(error.problem)}."]
    notes = list(finding.notes)
    reasons = record.get("summary", {}).get("quick_because") if isinstance(record.get("summary"), dict) else None
    if isinstance(reasons, list) and reasons:
        notes.append("Quick because: " + "; ".join(cell(reason) for reason in reasons) + ".")
    return lines + [""] + body + [line for note in notes for line in ("", note)]


def questions(findings: dict[str, Finding], root: Path) -> list[str]:
    """The questions under their problem's heading ("## Problem 2.5", which the problem pages link to)."""
    lines, current = [], None
    for spec in QUESTIONS:
        number = spec.id.split(" ")[0]
        problem = number if number in PROBLEM_PAGES else number.split(".")[0]
        if problem != current:
            current, page = problem, PROBLEM_PAGES[problem]
            lines += ["", f"## Problem {problem}", "",
                      f"The method, and the papers' numbers to compare with: [{page}]({page})."]
        lines += ["", f"### {escape(spec.id)} {escape(spec.title)}"]
        for key, headline in HEADLINES[spec.id]:
            lines += [""] + section(findings[key], headline, root)
    return lines


def run_times(findings: dict[str, Finding], benchmark: dict | None) -> list[str]:
    rows = []
    for finding in findings.values():
        ids = ", ".join(spec.id for spec in QUESTIONS if finding.experiment.key in spec.experiments)
        record = finding.record
        rows.append([escape(ids), escape(finding.experiment.title),
                     finding.state if record else "not computed yet" if finding.state == "missing" else "unfinished",
                     duration(record.get("wall_seconds") or 0) if record else "-", finished_at(record) if record else "-"])
    if benchmark:
        rows.append(["-", "Benchmarks", "quick" if benchmark.get("quick") else "full",
                     duration(benchmark.get("wall_seconds") or 0), finished_at(benchmark)])
    return ["", "## Run times", "",
            "Each experiment's wall time at the settings it ran, from its completion record: from its folder's lock "
            "to the record, in the process that finished it (so without Python's and TensorFlow's start-up, and "
            "only the last part of a run that was resumed).", ""] + table(
        ["question", "experiment", "settings", "wall time", "finished (UTC)"], rows, left=3)


def spread(values_: Spread, digits: int = 2) -> str:
    return " / ".join(fmt(value, f".{digits}f") for value in (values_.min, values_.median, values_.max))


def benchmarks(root: Path) -> tuple[list[str], dict | None, BenchmarkResults | None]:
    """The benchmarks' section, their completion record and their record (None when not there or bad)."""
    folder = Path(root) / BENCHMARKS_FOLDER
    lines = ["", "## Benchmarks", ""]
    record = completion(folder)
    if record is None:
        return lines + [f"Not computed yet: {code_span(BENCHMARKS_COMMAND)} (quick: "
                        f"{code_span(BENCHMARKS_COMMAND + ' --quick')})."], None, None
    try:
        results = BenchmarkResults.read(folder)
    except RecordError as error:
        return lines + [f"Not shown: {escape(str(error))}."], record, None
    met = results.targets_met or {}
    target = {key: "met" if met.get(key) else "**not met**" if key in met else "-" for key in
              ("throughput_ratio", "finder_overhead", "grid_ratio", "transfer_speedup")}
    lines.append(f"{SETTING_WORDS['quick' if results.quick else 'full']}, {cell(results.when)}, {cell(results.machine)}; "
                 f"finished {finished_at(record)} UTC in {duration(record.get('wall_seconds') or 0)}; "
                 f"{code_span(BENCHMARKS_COMMAND)}, results in {code_span(str(folder))}. The ratio is the median of "
                 "the rounds' ratios, the spread their min / median / max; the targets are in benchmarks/run.py.")
    rows = []
    t, f, g, r = results.throughput, results.finder, results.grid, results.transfer
    if t:
        rows += [[f"LeNet-5 training, images/s, against model.fit with the CyclicLR callback ({t.images:,} images, "
                  f"{t.rounds} rounds)", fmt(t.project_images_per_s, ",.0f"), fmt(t.reference_images_per_s, ",.0f"),
                  f"{fmt(t.throughput_ratio, '.2f')}x", spread(t.throughput_ratio_spread), target["throughput_ratio"]],
                 ["the same, against a plain model.fit", fmt(t.project_images_per_s, ",.0f"),
                  fmt(t.plain_images_per_s, ",.0f"), f"{fmt(t.plain_ratio, '.2f')}x", spread(t.plain_ratio_spread), "-"]]
    if f:
        rows.append([f"LR range test over {f.batches:,} batches, s, against a plain fit", fmt(f.finder_s, ".2f"),
                     fmt(f.plain_fit_s, ".2f"), fmt(f.finder_overhead, ".2f"), spread(f.finder_overhead_spread),
                     target["finder_overhead"]])
    if g:
        rows.append([f"grid of {g.lrs} LRs x {g.epochs} epochs, s, against separate model.fit runs", fmt(g.grid_s, ".1f"),
                     fmt(g.separate_runs_s, ".1f"), fmt(g.grid_ratio, ".2f"), spread(g.grid_ratio_spread),
                     target["grid_ratio"]])
    if r:
        rows.append([f"transfer epoch after the first, s, feature mode against finetune ({r.image_size} px)",
                     fmt(r.feature_epoch_s, ".3f"), fmt(r.finetune_epoch_s, ".2f"), f"{fmt(r.transfer_speedup, '.0f')}x",
                     spread(r.transfer_speedup_spread, 0), target["transfer_speedup"]])
    for name, sweep in (("grid", results.grid_ray), ("seeds", results.seeds_ray)):
        if sweep:
            rows.append([f"{cell(sweep.command)} ({sweep.trials} runs), s, on Ray ({fmt(sweep.trial_cpus, 'g')} CPU "
                         "per trial) against serial", fmt(sweep.ray_s, ".1f"), fmt(sweep.serial_s, ".1f"),
                         fmt(sweep.ray_ratio, ".2f"), spread(sweep.ray_ratio_spread), "-"])
    precision, standin = results.precision, results.standin_transfer
    if precision:
        rows.append([f"stand-in pretraining, images/s, mixed_bfloat16 against float32 ({precision.train_images:,} "
                     f"images, {precision.rounds} rounds)", fmt(precision.bfloat16_ips, ".1f"),
                     fmt(precision.float32_ips, ".1f"), fmt(precision.bfloat16_ratio, ".2f"),
                     spread(precision.bfloat16_ratio_spread), "-"])
    if standin:
        rows.append([f"stand-in transfer epoch after the first, s, feature mode against finetune (digits, "
                     f"{standin.image_size} px)", fmt(standin.feature_epoch_s, ".3f"),
                     fmt(standin.finetune_epoch_s, ".2f"), f"{fmt(standin.speedup, '.0f')}x", "-", "-"])
    lines += [""] + table(["benchmark", "project", "reference", "ratio", "spread of the ratio", "target"], rows)
    if results.memory:
        m = results.memory
        lines += ["", f"Peak resident memory: find_lr.py {fmt(m.find_lr_peak_mb, ',.0f')} MiB, one transfer epoch "
                      f"{fmt(m.transfer_epoch_peak_mb, ',.0f')} MiB; importing TensorFlow and Keras "
                      f"{fmt(m.tensorflow_import_mb, ',.0f')} MiB."]
    lines += ["", "Load average over the last minute: " + ", ".join(
        f"{fmt(sample.load_1min, '.2f')} {cell(sample.when)}" for sample in results.load) + "."]
    return lines, record, results


def environments(findings: dict[str, Finding], root: Path) -> dict[tuple, list[str]]:
    """Each distinct ``environment`` of the finished runs' config.json, with the experiments that ran in it."""
    folders = [(key, finding.folder) for key, finding in findings.items() if finding.record]
    folders.append((BENCHMARKS_FOLDER, Path(root) / BENCHMARKS_FOLDER))
    found: dict[tuple, list[str]] = {}
    for key, folder in folders:
        environment = load_dict(folder / CONFIG_NAME).get("environment")
        if isinstance(environment, dict) and environment:
            found.setdefault(tuple(sorted((str(k), str(v)) for k, v in environment.items())), []).append(key)
    return found


def header(findings: dict[str, Finding], root: Path, benchmark: BenchmarkResults | None, head: str) -> list[str]:
    records = [finding.record for finding in findings.values() if finding.record]
    days = sorted(finished_at(record)[:10] for record in records)
    when = (f"{days[0]} to {days[-1]}" if days[0] != days[-1] else days[0]) if days else "none yet"
    found = environments(findings, root)
    commits = sorted({value for environment in found for key, value in environment if key == "commit"})
    unrecorded = any("commit" not in dict(environment) for environment in found)
    recorded = ", ".join(cell(commit) for commit in commits)
    recorded += "; the other runs do not record theirs" if unrecorded else ""
    rows = [("results finished (UTC)", f"{when}; {len(records)} of {len(findings)} experiments"),
            ("commit", recorded if commits else
             f"{cell(head)} (the working tree's when this page was written; the runs do not record their code's)")]
    for environment, keys in found.items():
        pairs = dict(environment)
        machine = ", ".join(words.format(pairs[name]) for name, words in MACHINE_WORDS.items() if name in pairs)
        packages = ", ".join(f"{name} {value}" for name, value in environment
                             if name not in MACHINE_WORDS and name != "commit")
        which = "every run" if len(found) == 1 else ", ".join(keys)
        rows.append((f"machine ({escape(which)})", cell(machine + (f"; {packages}" if packages else ""))))
    if not any("cpu_count" in dict(environment) for environment in found):
        rows.append(("CPU", f"{cell(benchmark.machine)} (the benchmarks' record)" if benchmark
                     else "not recorded by the runs"))
    return table(["the results", ""], rows, left=2)


def render(root: Path, head: str, generated: str) -> str:
    """The page for the results under ``root``; ``head`` is the working tree's commit, ``generated`` the time."""
    root = Path(root)
    findings = {key: find(experiment, root) for key, experiment in EXPERIMENTS.items()}
    bench_lines, bench_record, bench = benchmarks(root)
    lines = [f"# {TITLE}", "",
             f"Written by {code_span('python -m pyimagesearch.report --results-page PAGE')} from the result records "
             f"under {code_span(str(root))}: every number here is read from a result file through its record class "
             "(or from a run's completion record), none is typed by hand. Do not edit it: run the command again.", "",
             f"{GENERATED}{generated}.", ""]
    lines += header(findings, root, bench, head)
    lines += run_times(findings, bench_record) + questions(findings, root) + study_lines(root) + bench_lines
    return "\n".join(lines) + "\n"


def working_tree_commit() -> str:
    """``git rev-parse --short HEAD`` of the project's checkout, or why there is none."""
    try:
        done = subprocess.run(["git", "-C", str(REPOSITORY), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown (git did not run)"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown (not a git checkout)"


def write_results_page(root: Path, path: Path) -> Path:
    """Write the page for the results under ``root`` to ``path``, atomically."""
    return write_text(path, render(root, working_tree_commit(), datetime.now().strftime("%Y-%m-%d %H:%M")))
