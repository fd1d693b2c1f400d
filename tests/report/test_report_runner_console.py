"""What ``report --run`` prints: one line per experiment, the summary, exit status 2 after a failure, measured times.

The runner is pointed at fake experiments, one script (fake.py) that prints
what TensorFlow and Keras print (start-up lines on stderr, 100 progress
lines) and then finishes with a completion record or fails with an
``error:`` line, so these tests need neither TensorFlow nor minutes.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pyimagesearch.core.cli import STARTUP_LINE
from pyimagesearch.core.run import RunFolder, completion
from pyimagesearch.report import runner
from pyimagesearch.report.console import CLEAR, Console, headline
from pyimagesearch.report.durations import about, duration, estimate, static_seconds
from pyimagesearch.report.questions import EXPERIMENTS, Experiment

ROOT = Path(__file__).resolve().parents[2]

FAKE = """
import sys, time
from pathlib import Path

from pyimagesearch.core.run import RunFolder

behaviour, folder = sys.argv[1], Path(sys.argv[2])
print("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", file=sys.stderr)
print("I0000 00:00:1795804380.808965   22704 port.cc:153] oneDNN custom operations are on.", file=sys.stderr)
print("E0000 00:00:1795804381.104411   22704 cuda_executor.cc:1228] failed call to cuInit: UNKNOWN ERROR (303)",
      file=sys.stderr, flush=True)
for step in range(1, 101):
    print(f"{step}/100 [==============================] - loss: 0.5000", flush=True)
if behaviour == "broken":
    print("error: the fake data set is not in /nowhere; download it first", file=sys.stderr)
    sys.exit(2)
if behaviour == "crashed":
    raise ValueError("boom")
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
with RunFolder(folder, "fake", {"behaviour": behaviour}) as run:
    if behaviour == "swept":  # no summary: the figures come from its record file
        (folder / "suggestion.json").write_text('{"lr_min": 0.0001, "lr_max": 0.031}')
        run.complete(quick=True)
    else:
        run.complete(quick=True, summary={"test_accuracy": 0.875, "epochs": 3})
"""


def fake(key: str, *extra: str) -> Experiment:
    """A fake experiment ``key`` (its behaviour) writing ``{root}/key``, static estimates 1 min quick and 2 min full."""
    arguments = ("fake.py", key, "{root}/" + key, *extra)
    return Experiment(key, f"Fake {key}", key, arguments, arguments, "about 2 min", "about 1 min")


# The whole report command with the runner's experiments replaced by fakes, in a process of its own.
DRIVER = """
import sys
from pathlib import Path

from pyimagesearch.core.cli import run
from pyimagesearch.report import command, runner
from tests.report.test_report_runner_console import fake

runner.REPOSITORY = Path(sys.argv[1])
runner.EXPERIMENTS = {key: fake(key) for key in ("trained", "broken", "swept")}
sys.exit(run(command.main, sys.argv[2:]))
"""


@pytest.fixture
def repository(tmp_path) -> Path:
    folder = tmp_path / "repository"
    folder.mkdir()
    (folder / "fake.py").write_text(FAKE)
    return folder


@pytest.fixture
def fakes(repository, monkeypatch):
    """Point the runner, in this process, at the fake experiments given to the returned function."""
    monkeypatch.setattr(runner, "REPOSITORY", repository)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def use(*experiments: Experiment) -> None:
        monkeypatch.setattr(runner, "EXPERIMENTS", {experiment.key: experiment for experiment in experiments})
    return use


def run_quick(root: Path, console: Console | None = None) -> list[str]:
    """``run_missing("quick")`` into ``root``; the lines it printed (not a terminal)."""
    stream = io.StringIO()
    runner.run_missing("quick", root, root / "report", "runs.json", console or Console(stream, tty=False))
    return stream.getvalue().splitlines()


def test_one_line_per_experiment_then_the_summary_no_startup_line_and_exit_2(repository, tmp_path):
    root = tmp_path / "output"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", DRIVER, str(repository), "--output-root", str(root), "--run", "quick"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    logs = root / "report" / "logs"

    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 + 2 + 2, result.stdout  # 3 experiments, the summary (2 lines), the report's own 2 lines
    assert re.fullmatch(r"\[1/3\] Fake trained, quick settings, about 1 min, estimate; about 3 min left in all \.\.\. "
                        r"finished in \d+ s: test accuracy 87\.50%, epochs 3", lines[0]), lines[0]
    assert re.fullmatch(r"\[2/3\] Fake broken, quick settings, about 1 min, estimate; about 2 min left in all \.\.\. "
                        r"failed after \d+ s: the fake data set is not in /nowhere; download it first", lines[1]), lines[1]
    # The step after the failure ran all the same; its figures come from its record file.
    assert re.fullmatch(r"\[3/3\] Fake swept, quick settings, about 1 min, estimate; about 1 min left in all \.\.\. "
                        r"finished in \d+ s: lr_min 0\.0001, lr_max 0\.031", lines[2]), lines[2]
    assert re.fullmatch(rf"--run quick: 2 finished, 1 failed, 0 skipped, 0 kept from earlier runs; \d+ s in all; "
                        rf"logs in {re.escape(str(logs))}", lines[3]), lines[3]
    assert lines[4] == "  failed: Fake broken: the fake data set is not in /nowhere; download it first"
    assert lines[5].startswith("Built ") and lines[6].startswith(f"written {root}/report/index.html")
    assert result.stderr == (f"error: 1 of 3 experiments did not finish (broken failed); the report shows what exists, "
                             f"the reasons are in the summary above and the logs in {logs}\n")

    console = (result.stdout + result.stderr).splitlines()
    assert not [line for line in console if STARTUP_LINE.search(line) or "/100 [" in line]
    for key in ("trained", "broken", "swept"):  # what the children printed is in their logs
        log = (logs / f"{key}.log").read_text().splitlines()
        assert log[0] == f"$ python fake.py {key} {root}/{key}"
        assert sum(bool(STARTUP_LINE.match(line)) for line in log) == 3 and "100/100 [" in log[-1 if key != "broken" else -2]
    runs = json.loads((root / "report" / "runs.json").read_text())
    assert [runs[key]["status"] for key in ("trained", "broken", "swept")] == ["ok", "failed", "ok"]
    assert (root / "report" / "index.html").is_file()


def test_the_estimates_use_the_time_measured_here_and_say_so(fakes, tmp_path):
    fakes(fake("trained"), fake("broken"))
    root = tmp_path / "output"
    run_quick(root)
    durations = json.loads((root / "report" / "durations.json").read_text())
    assert list(durations) == ["trained"]  # a failed run measured nothing
    measured = durations["trained"]["quick"]
    assert measured["measured"] == date.today().isoformat() and 0 < measured["seconds"] < 30

    shutil.rmtree(root / "trained")
    lines = run_quick(root)
    assert lines[0].startswith(f"[1/2] Fake trained, quick settings, {about(measured['seconds'])}, measured here on "
                               f"{date.today().isoformat()}; {about(measured['seconds'] + 60)} left in all ... finished in ")
    assert lines[1].startswith("[2/2] Fake broken, quick settings, about 1 min, estimate; about 1 min left in all ... ")


def test_an_estimate_from_a_completion_record_at_that_setting(tmp_path):
    experiment = fake("trained")
    with RunFolder(tmp_path / "trained", "fake", {"n": 1}) as run:
        run.complete(quick=True)
    record = {**completion(tmp_path / "trained"), "wall_seconds": 252.0}
    assert str(estimate(experiment, "quick", {}, record)) == f"about 4.2 min, measured here on {record['finished'][:10]}"
    assert str(estimate(experiment, "full", {}, record)) == "about 2 min, estimate"  # the record is a quick run
    durations = {"trained": {"quick": {"seconds": 30, "measured": "2026-12-01"}}}
    assert str(estimate(experiment, "quick", durations, record)) == "about 30 s, measured here on 2026-12-01"
    for damaged in ({"trained": "30 s"}, {"trained": {"quick": {"seconds": "soon", "measured": "2026-12-01"}}}):
        assert str(estimate(experiment, "quick", damaged)) == "about 1 min, estimate"


def test_on_a_terminal_the_running_line_is_rewritten_in_place(fakes, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "TICK_SECONDS", 0.05)
    monkeypatch.setenv("COLUMNS", "300")
    fakes(fake("trained", "0.6"), fake("swept"))
    stream = io.StringIO()
    run_quick(tmp_path / "output", Console(stream, tty=True))
    written = stream.getvalue()
    assert re.search(r"\r\[1/2\] Fake trained, quick settings, about 1 min, estimate; about 2 min left in all \.\.\. "
                     r"running \d+ s, about (1\.\d|2) min left in all\x1b\[K\r", written), written
    shown = [line.rsplit("\r", 1)[-1].replace(CLEAR, "") for line in written.split("\n")]  # what the terminal shows
    assert len(shown) == 2 + 1 + 1 and shown[-1] == ""  # two experiments, the summary, and the last newline
    assert shown[0].startswith("[1/2] Fake trained") and " ... finished in " in shown[0] and "running" not in shown[0]
    assert shown[2].startswith("--run quick: 2 finished, 0 failed, 0 skipped, 0 kept from earlier runs; ")


def test_on_a_narrow_terminal_the_running_line_keeps_the_time_left(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    stream = io.StringIO()
    console = Console(stream, tty=True)
    console.begin("[3/14] 1.3 Batch size doubled from 32 to 4096 at lr_max, quick settings, about 35 s, estimate")
    console.progress("running 12 s, about 9 min left in all")
    console.end("finished in 40 s: test accuracy 88.00%")
    parts = stream.getvalue().split("\r")
    assert parts[2] == "[3/14] 1.3 Batch s... running 12 s, about 9 min left in all" + CLEAR
    assert len(parts[2]) - len(CLEAR) == 59
    assert parts[3].startswith("[3/14] 1.3 Batch size doubled") and parts[3].endswith("test accuracy 88.00%" + CLEAR + "\n")


def test_a_failure_without_an_error_line_names_its_exit_status_and_last_line(fakes, tmp_path):
    fakes(fake("crashed"))
    root = tmp_path / "output"
    lines = run_quick(root)
    log = root / "report" / "logs" / "crashed.log"
    sentence = rf"exit status 1 \(its last line: ValueError: boom\); see {re.escape(str(log))}"
    assert re.search(rf" \.\.\. failed after \d+ s: {sentence}$", lines[0]), lines[0]
    assert lines[1].startswith("--run quick: 0 finished, 1 failed, 0 skipped")


def test_headline_figures_are_shown_only_when_they_can_be_what_they_say(tmp_path):
    summary = {"test_accuracy": {"clean": 0.8812, "noisy": 1.7}, "best_student": "K8-P10", "macs": 19632062464,
               "flag": True, "lr_max": 0.031}
    assert headline({"summary": summary}, tmp_path) == (
        "test accuracy clean 88.12%, best student K8-P10, macs 19,632,062,464 (+1 more)")  # 1.7 and the flag left out
    (tmp_path / "metrics.json").write_text('{"test_accuracy": 0.9, "test_loss": 0.3}')
    assert headline({"summary": {}}, tmp_path) == "test accuracy 90.00%"
    (tmp_path / "metrics.json").write_text('{"test_accuracy": NaN}')
    assert headline(None, tmp_path) == ""


def test_static_times_parse_and_read_as_measured():
    assert [static_seconds(text) for text in ("about 1.5 min", "about 1.4 h for the task's 7 runs", "30-60 min", "2 min",
                                              "soon")] == [90, 5040, 3600, 120, None]
    assert all(static_seconds(e.quick_time) and static_seconds(e.full_time) for e in EXPERIMENTS.values())
    # Measured here: the comparison 5 s in a fresh clone's report --run quick (20-33 s before, under load), Problem
    # 4's full runs; the transfer stand-in (issue 21).
    assert static_seconds(EXPERIMENTS["comparison"].quick_time) == 10
    assert static_seconds(EXPERIMENTS["transfer"].quick_time) == 480  # the stand-in: pretraining and 7 runs, 7.2-7.5 min
    assert [static_seconds(EXPERIMENTS[key].full_time) for key in ("label_noise", "resampling", "teacher_student")] == [
        300, 102, 1680]  # teacher-student: 24.5 min with one fine-tuning factor, about 15% more steps with two
    assert [about(s) for s in (0.2, 37, 90, 252, 1470, 5040)] == [
        "about 1 s", "about 37 s", "about 1.5 min", "about 4.2 min", "about 24 min", "about 1.4 h"]
    assert [duration(s) for s in (0.4, 58, 91, 3840)] == ["0 s", "58 s", "1 min 31 s", "1 h 04 min"]
