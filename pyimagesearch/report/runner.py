"""``--run quick|full``: run the experiments whose results are missing, one subprocess each, one line each.

Whether an experiment is finished, and at quick or full settings, is read
from its folder's completion record (``core.run.completion``), written last
by the command's ``RunFolder``: a folder without one is unfinished (it has a
config.json) or missing, however many files it holds.

``quick`` runs every experiment that has no finished results (missing or
unfinished) at quick settings. ``full`` runs every experiment that is not
finished at the task's settings; the commands resume by themselves (their
``RunFolder`` keeps what is finished) and refuse, in one sentence, a folder
of other settings. A failed command does not stop the others; its last
``error:`` line is kept in runs.json, which the report shows, and the report
then exits with status 2.

Every command's output (TensorFlow's start-up lines included) goes to
``logs/<experiment>.log`` only; the console shows one line per experiment
(``console.Console``) with its expected time (``durations``) and the time
left in all, then a summary. Each command is a child that dies with the
report (``core.processes.start_child``), so a report killed even with SIGKILL
leaves no experiment running, and its rerun is the only writer.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

import pyimagesearch
from pyimagesearch.core.outputs import prepare_dir, write_json
from pyimagesearch.core.processes import start_child
from pyimagesearch.core.run import COMPLETE_NAME, CONFIG_NAME, completion
from pyimagesearch.report.console import Console, headline
from pyimagesearch.report.durations import duration, estimate, load_durations, remember, time_left
from pyimagesearch.report.files import last_line, load_dict, subfolders
from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, TRANSFER_DATASET, Experiment

REPOSITORY = Path(pyimagesearch.__file__).resolve().parents[1]  # where find_lr.py and the other scripts live
TASK_TRANSFER_RUNS = 7  # 3 fine-tuning and 4 feature-extraction learning rates
# Each calculation writes into its own folder under the calculators' shared one, with its own completion record.
CALCULATOR_FOLDERS = {"alexnet": "alexnet", "vgg19": "vgg19", "receptive_field": "receptive-field",
                      "inception": "inception"}
# Full results in the experiment's folder, quick ones in its quick/ subfolder.
SEMISUPERVISED = ("label_noise", "resampling", "teacher_student")
# What the console says of a run that is not a fresh start.
STATE_NOTES = {"unfinished": ", resuming", "unfinished-quick": ", resuming", "unfinished-full": ", resuming",
               "stale": ", again (its inputs changed)"}
TICK_SECONDS = 1.0  # how often a terminal's progress line is rewritten


def finished(folder: Path) -> str | None:
    """"quick" or "full" when ``folder`` holds a completion record (its ``quick`` field decides), else None."""
    record = completion(folder)
    if record is None:
        return None
    return "quick" if record.get("quick") else "full"


def folder_state(folder: Path, *started: Path) -> str:
    """"quick" or "full" from the completion record; else "unfinished" when a run began (a config.json), or "missing".

    ``started``: other folders whose config.json shows that a run of this
    experiment began (the ``seed-<s>/`` runs of a seeds folder).
    """
    return finished(folder) or ("unfinished" if any((path / CONFIG_NAME).is_file() for path in (folder, *started))
                                else "missing")


def state(experiment: Experiment, root: Path) -> str:
    """"missing", "unfinished", "unfinished-quick", "unfinished-full", "quick", "full" or "stale".

    "unfinished" is a folder whose run began but has no completion record;
    at which settings it began is not known (the same folder takes both), so
    either mode runs its command: it resumes a run of the same settings and
    refuses one of other settings in one sentence, deleting nothing.
    """
    folder = root / experiment.folder
    key = experiment.key
    if key in ("clr", "batch_growth"):
        return folder_state(folder, *[d for d in subfolders(folder) if d.name.startswith("seed-")])
    if key == "comparison":
        current = folder_state(folder)
        if current in ("missing", "unfinished"):
            return current
        written = (folder / COMPLETE_NAME).stat().st_mtime
        inputs = [root / "clr", root / "batch_growth"]
        if any(path.stat().st_mtime > written + 1 for run in inputs for path in run.rglob(COMPLETE_NAME)):
            return "stale"  # a run finished after the comparison was written
        return "quick" if current == "quick" or "quick" in (finished(run) for run in inputs) else "full"
    if key == "transfer":
        return _transfer_state(folder / TRANSFER_DATASET)
    if key in SEMISUPERVISED:
        full, quick = folder_state(folder), folder_state(folder / "quick")
        if full != "missing":
            return "unfinished-full" if full == "unfinished" else full
        return "unfinished-quick" if quick == "unfinished" else quick
    if key in CALCULATOR_FOLDERS:
        return "full" if completion(folder / CALCULATOR_FOLDERS[key]) is not None else "missing"
    return folder_state(folder)


def _transfer_state(target: Path) -> str:
    """The sweep folder's completion record, or else the task's runs each finished at full settings."""
    current = finished(target)
    if current:
        return current
    runs = [run for run in subfolders(target) if (run / CONFIG_NAME).is_file() or (run / COMPLETE_NAME).is_file()]
    if sum(finished(run) == "full" for run in runs) >= TASK_TRANSFER_RUNS:
        return "full"
    return "unfinished" if runs or (target / CONFIG_NAME).is_file() else "missing"


def wanted(mode: str, current: str) -> bool:
    """Whether ``--run mode`` runs an experiment in state ``current``."""
    if mode == "quick":
        return current in ("missing", "unfinished", "unfinished-quick", "stale")
    return current != "full"


def command_line(experiment: Experiment, mode: str, root: Path) -> tuple[list[str] | None, str]:
    """The argv to run (with this Python), or None and why it cannot run in this checkout."""
    arguments = experiment.arguments(mode, root)
    if arguments[0] == "-m":
        if importlib.util.find_spec(arguments[1]) is None:
            return None, f"this checkout has no {arguments[1]}"
        return [sys.executable, *arguments], ""
    script = REPOSITORY / arguments[0]
    if not script.is_file():
        return None, f"{arguments[0]} is not in {REPOSITORY}; run the report from a clone of the project"
    return [sys.executable, str(script), *arguments[1:]], ""


def label(experiment: Experiment) -> str:
    """The experiment as its console line names it, after the questions it answers: "1.1 LR range test"."""
    ids = ", ".join(spec.id for spec in QUESTIONS if experiment.key in spec.experiments)
    return f"{ids} {experiment.title}" if ids else experiment.title


def result_folder(experiment: Experiment, mode: str, root: Path) -> Path:
    """The folder whose completion record says that ``experiment`` finished at ``mode``, and how long it took."""
    folder = Path(root) / experiment.folder
    if experiment.key in CALCULATOR_FOLDERS:
        return folder / CALCULATOR_FOLDERS[experiment.key]
    if experiment.key == "transfer":
        return folder / TRANSFER_DATASET
    if experiment.key in SEMISUPERVISED and mode == "quick":
        return folder / "quick"
    return folder


def replaces_quick(experiment: Experiment, mode: str, current: str) -> bool:
    """Whether ``--run full`` replaces finished quick results (never full or unfinished ones) with --overwrite.

    Problem 4 keeps its quick results in their own ``quick/`` folder.
    """
    return mode == "full" and current == "quick" and experiment.key not in SEMISUPERVISED


def run_one(experiment: Experiment, mode: str, root: Path, logs: Path, tick: Callable[[float], None],
            current: str = "missing") -> dict:
    """Run one experiment's command, its output into its log; its record for runs.json.

    ``tick(seconds)`` is called about every second while the command runs.
    """
    shown = experiment.command(mode, root) + (" --overwrite" if replaces_quick(experiment, mode, current) else "")
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    missing = [need for need in experiment.needs if not (root / need).is_file()]
    if missing:
        needed = ", ".join(str(absolute(root / need)) for need in missing)
        return {"command": shown, "mode": mode, "started": started, "status": "skipped",
                "reason": f"it needs {needed}, which an earlier step did not write"}
    argv, why_not = command_line(experiment, mode, root)
    if argv is None:
        return {"command": shown, "mode": mode, "started": started, "status": "skipped", "reason": why_not}
    if replaces_quick(experiment, mode, current):
        argv.append("--overwrite")
    log_path = absolute(logs / f"{experiment.key}.log")
    # TF_CPP_MIN_LOG_LEVEL=3 also hides TensorFlow's C++ error lines such as "failed call to cuInit" on a CPU.
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg",
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    clock = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"$ {shown}\n")
        log.flush()
        process = start_child(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment)
        try:
            status = wait(process, lambda: tick(time.perf_counter() - clock))
        finally:
            stop(process)
    seconds = time.perf_counter() - clock
    record = {"command": shown, "mode": mode, "started": started, "seconds": round(seconds, 1), "exit_status": status,
              "finished_at": time.time(), "log": str(log_path)}
    if status == 0:
        return {**record, "status": "ok"}
    return {**record, "status": "failed", "reason": failure_reason(log_path, status)}


def wait(process: subprocess.Popen, tick: Callable[[], None]) -> int:
    """The exit status of ``process``, calling ``tick()`` about every second until it ends."""
    while True:
        try:
            return process.wait(timeout=TICK_SECONDS)
        except subprocess.TimeoutExpired:
            tick()


def stop(process: subprocess.Popen) -> None:
    """After Ctrl-C (which the child gets too) give it time to stop by itself, then kill it."""
    if process.poll() is None:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def failure_reason(log_path: Path, status: int) -> str:
    """The one sentence of a failed command: its log's last ``error:`` line, else its exit status and last line."""
    error = last_line(log_path, "error:")
    if error:
        return error.split("error:", 1)[1].strip()
    last = last_line(log_path)
    shown = f" (its last line: {last[:160]})" if last and not last.startswith("$ ") else ""
    return f"exit status {status}{shown}; see {log_path}"


def absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def outcome(record: dict, experiment: Experiment, mode: str, root: Path) -> str:
    """How an experiment ended, for the end of its console line."""
    if record["status"] == "skipped":
        return f"skipped: {record['reason']}"
    took = duration(record["seconds"])
    if record["status"] == "failed":
        return f"failed after {took}: {record['reason']}"
    folder = result_folder(experiment, mode, root)
    figures = headline(completion(folder), folder)
    return f"finished in {took}" + (f": {figures}" if figures else "")


def run_missing(mode: str, root: Path, report_folder: Path, runs_file: str,
                console: Console | None = None) -> dict[str, dict]:
    """Run, in order, every experiment that ``--run mode`` wants; the records of those it ran.

    Each record is also kept in ``report_folder/runs_file`` (with those of
    earlier runs), the time of each command that ran from the start to the end
    in the report folder's ``durations.json``. The console shows one line per
    experiment, then a summary.
    """
    root, report_folder, console = Path(root), Path(report_folder), console or Console()
    logs = prepare_dir(report_folder / "logs")
    records = load_dict(report_folder / runs_file)
    durations = load_durations(report_folder)
    todo = [(experiment, state(experiment, root)) for experiment in EXPERIMENTS.values()]
    todo = [(experiment, current) for experiment, current in todo if wanted(mode, current)]
    estimates = [estimate(experiment, mode, durations, completion(result_folder(experiment, mode, root)))
                 for experiment, _ in todo]
    ran: dict[str, dict] = {}
    clock = time.perf_counter()
    for index, (experiment, current) in enumerate(todo, start=1):
        ahead = estimates[index - 1:]
        console.begin(f"[{index}/{len(todo)}] {label(experiment)}, {mode} settings"
                      f"{STATE_NOTES.get(current, '')}, {ahead[0]}; {time_left(ahead)}")
        try:
            record = run_one(experiment, mode, root, logs, lambda seconds: console.progress(
                f"running {duration(seconds)}, {time_left(ahead, seconds)}"), current)
        except BaseException:
            console.end("interrupted")
            raise
        ran[experiment.key] = records[experiment.key] = record
        write_json(report_folder / runs_file, records)
        if record["status"] == "ok" and not current.startswith("unfinished"):  # a resumed run took only a part
            remember(report_folder, durations, experiment.key, mode, record["seconds"])
        console.end(outcome(record, experiment, mode, root))
    for line in summary(mode, ran, len(EXPERIMENTS) - len(todo), time.perf_counter() - clock, absolute(logs)):
        console.line(line)
    return ran


def summary(mode: str, ran: dict[str, dict], kept: int, seconds: float, logs: Path) -> list[str]:
    """The runner's last lines: what ran and how it ended, then one line per experiment that did not finish."""
    kept_text = f"{kept} kept from earlier runs"
    if not ran:
        return [f"--run {mode}: nothing to run, {kept_text}"]
    counts = {status: sum(record["status"] == status for record in ran.values()) for status in ("ok", "failed", "skipped")}
    lines = [f"--run {mode}: {counts['ok']} finished, {counts['failed']} failed, {counts['skipped']} skipped, {kept_text}; "
             f"{duration(seconds)} in all; logs in {logs}"]
    for key, record in ran.items():
        if record["status"] != "ok":
            lines.append(f"  {record['status']}: {label(EXPERIMENTS[key])}: {record['reason']}")
    return lines

