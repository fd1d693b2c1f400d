"""``--run quick|full``: run the experiments whose results are missing, one subprocess each, with progress.

Whether an experiment is finished, and at quick or full settings, is read
from its folder's completion record (``core.run.completion``), written last
by the command's ``RunFolder``: a folder without one is unfinished (it has a
config.json) or missing, however many files it holds.

``quick`` runs every experiment that has no finished results (missing or
unfinished) at quick settings. ``full`` runs every experiment that is not
finished at the task's settings; the commands resume by themselves (their
``RunFolder`` keeps what is finished) and refuse, in one sentence, a folder
of other settings. A failed command does not stop the others; its last
``error:`` line is kept in runs.json, which the report shows. Every
command's output goes to ``logs/<experiment>.log``. Each command is a child
that dies with the report (``core.processes.start_child``), so a report
killed even with SIGKILL leaves no experiment running, and its rerun is the
only writer.
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
from pyimagesearch.report.files import last_line, load_dict, subfolders
from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, TRANSFER_DATASET, Experiment

REPOSITORY = Path(pyimagesearch.__file__).resolve().parents[1]  # where find_lr.py and the other scripts live
TASK_TRANSFER_RUNS = 7  # 3 fine-tuning and 4 feature-extraction learning rates
# Each calculation writes into its own folder under the calculators' shared one, with its own completion record.
CALCULATOR_FOLDERS = {"alexnet": "alexnet", "vgg19": "vgg19", "receptive_field": "receptive-field",
                      "inception": "inception"}


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
    if key in ("label_noise", "resampling", "teacher_student"):
        # The task's settings in the experiment's folder, quick ones in its quick/ subfolder.
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


def questions_of(experiment: Experiment) -> str:
    ids = [spec.id for spec in QUESTIONS if experiment.key in spec.experiments]
    return ", ".join(ids) or "-"


def run_one(experiment: Experiment, mode: str, root: Path, logs: Path, echo: Callable[[str], None]) -> dict:
    """Run one experiment's command; its record for runs.json."""
    shown = experiment.command(mode, root)
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    missing = [need for need in experiment.needs if not (root / need).is_file()]
    if missing:
        needed = ", ".join(str(root / need) for need in missing)
        return {"command": shown, "mode": mode, "started": started, "status": "skipped",
                "reason": f"it needs {needed}, which an earlier step did not write"}
    argv, why_not = command_line(experiment, mode, root)
    if argv is None:
        return {"command": shown, "mode": mode, "started": started, "status": "skipped", "reason": why_not}
    log_path = logs / f"{experiment.key}.log"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg",
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    clock = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"$ {shown}\n")
        process = start_child(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                              env=environment)
        try:
            for output in process.stdout:
                log.write(output)
                if output.strip():
                    echo("      " + output.rstrip())
        finally:
            status = process.wait()
    seconds = time.perf_counter() - clock
    record = {"command": shown, "mode": mode, "started": started, "seconds": round(seconds, 1), "exit_status": status,
              "finished_at": time.time(), "log": str(log_path)}
    if status == 0:
        return {**record, "status": "ok"}
    error = last_line(log_path, "error:")
    reason = error.split("error:", 1)[1].strip() if error else f"exit status {status}; see {log_path}"
    return {**record, "status": "failed", "reason": reason}


def run_missing(mode: str, root: Path, report_folder: Path, runs_file: str,
                echo: Callable[[str], None] = print) -> dict[str, dict]:
    """Run, in order, every experiment that ``--run mode`` wants; record each in ``report_folder/runs_file``."""
    root, report_folder = Path(root), Path(report_folder)
    logs = prepare_dir(report_folder / "logs")
    records = load_dict(report_folder / runs_file)
    todo = [(experiment, state(experiment, root)) for experiment in EXPERIMENTS.values()]
    todo = [(experiment, current) for experiment, current in todo if wanted(mode, current)]
    kept = len(EXPERIMENTS) - len(todo)
    echo(f"--run {mode}: {len(todo)} experiment(s) to run, {kept} with results kept")
    clock = time.perf_counter()
    for index, (experiment, current) in enumerate(todo, start=1):
        echo(f"[{index}/{len(todo)}] {questions_of(experiment)}: {experiment.title} ({current.replace('-', ', ')}), "
             f"{mode} settings, {experiment.full_time if mode == 'full' else experiment.quick_time}")
        echo(f"      $ {experiment.command(mode, root)}")
        record = run_one(experiment, mode, root, logs, echo)
        records[experiment.key] = record
        write_json(report_folder / runs_file, records)
        took = f" in {record['seconds']:.0f} s" if "seconds" in record else ""
        outcome = {"ok": "done", "failed": "failed", "skipped": "skipped"}[record["status"]]
        echo(f"[{index}/{len(todo)}] {outcome}{took}" + (f": {record['reason']}" if record.get("reason") else ""))
    echo(f"--run {mode}: {len(todo)} experiment(s) in {time.perf_counter() - clock:.0f} s")
    return records
