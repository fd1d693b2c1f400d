"""``--run quick|full``: run the experiments whose results are missing, one subprocess each, with progress.

``quick`` runs every experiment that has no results yet (neither quick nor
full) at quick settings. ``full`` runs every experiment whose results are
missing, quick or unfinished at the task's settings; the commands resume by
themselves (train_lenet.py from its checkpoint, transfer.py and the
semi-supervised sweeps keep their finished runs). A failed command does not
stop the others; its last ``error:`` line is kept in runs.json, which the
report shows. Every command's output goes to ``logs/<experiment>.log``.
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
from pyimagesearch.core.run import completion
from pyimagesearch.report.files import last_line, load_dict, subfolders
from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, TRANSFER_DATASET, Experiment
from pyimagesearch.report.readers.semisupervised import finished as semisupervised_finished

REPOSITORY = Path(pyimagesearch.__file__).resolve().parents[1]  # where find_lr.py and the other scripts live
TASK_TRANSFER_RUNS = 7  # 3 fine-tuning and 4 feature-extraction learning rates


def _quick(config: dict) -> bool:
    return bool(config.get("limit") or config.get("quick"))


def _training_state(folder: Path) -> str:
    """State of a train_lenet.py folder: one run, or one per ``seed-<s>/``."""
    runs = [d for d in subfolders(folder) if d.name.startswith("seed-")] or [folder]
    configs = [load_dict(run / "config.json") for run in runs]
    if not any(configs):
        return "missing"
    quick = "quick" if any(_quick(config) for config in configs) else "full"
    return quick if all((run / "metrics.json").is_file() for run in runs) else f"unfinished-{quick}"


def state(experiment: Experiment, root: Path) -> str:
    """"missing", "quick", "full", "unfinished-quick", "unfinished-full" or "stale", from the files under ``root``."""
    folder = root / experiment.folder
    key = experiment.key
    if key in ("find_lr", "lr_grid"):
        config = load_dict(folder / "config.json")
        if not config:
            return "missing"
        quick = "quick" if _quick(config) else "full"
        return quick if (folder / "suggestion.json").is_file() else f"unfinished-{quick}"
    if key in ("clr", "batch_growth"):
        return _training_state(folder)
    if key == "comparison":
        if not (folder / "comparison.md").is_file():
            return "missing"
        written = (folder / "comparison.md").stat().st_mtime
        inputs = [root / "clr", root / "batch_growth"]
        if any(path.stat().st_mtime > written + 1 for run in inputs for path in run.rglob("metrics.json")):
            return "stale"  # a run finished after the comparison was written
        return "quick" if any(_training_state(run) == "quick" for run in inputs) else "full"
    if key == "transfer":
        target = folder / TRANSFER_DATASET
        finished = list(target.glob("*/metrics.json"))
        if (target / "summary.md").is_file() and len(finished) >= TASK_TRANSFER_RUNS:
            return "full"
        return "quick" if (target / "dataset.json").is_file() or finished else "missing"
    if key in ("label_noise", "resampling", "teacher_student"):
        def started(path: Path) -> bool:
            return any((path / name).is_file() for name in ("config.json", "log.txt", "results.md"))

        if semisupervised_finished(folder):
            return "full"
        if started(folder):
            return "unfinished-full"
        if semisupervised_finished(folder / "quick"):
            return "quick"
        return "unfinished-quick" if started(folder / "quick") else "missing"
    # The calculators: finished when their folder's completion record says so.
    run = {"alexnet": "alexnet", "vgg19": "vgg19", "receptive_field": "receptive-field", "inception": "inception",
           "detection": "."}[key]
    return "full" if completion(folder / run) is not None else "missing"


def wanted(mode: str, current: str) -> bool:
    """Whether ``--run mode`` runs an experiment in state ``current``."""
    if mode == "quick":
        return current in ("missing", "unfinished-quick", "stale")
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
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
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
