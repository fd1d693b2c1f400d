"""The report's own folder and the experiments it starts: one writer, children that die with it, refused roots.

The runner is pointed at one fake experiment, a script that writes its pid
and sleeps, so these tests need neither TensorFlow nor minutes. The
end-to-end ``report --run quick`` killed and restarted (about 15 minutes
here) is not part of the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.report.command import main, results_root

ROOT = Path(__file__).resolve().parents[2]

# A report whose runner knows one experiment: sleeper.py in the folder given first.
DRIVER = """
import sys
from pathlib import Path

from pyimagesearch.core.cli import run
from pyimagesearch.report import command, runner
from pyimagesearch.report.questions import Experiment

runner.REPOSITORY = Path(sys.argv[1])
arguments = ("sleeper.py", "{root}/sleeper")
runner.EXPERIMENTS = {"sleeper": Experiment("sleeper", "A command that sleeps", "sleeper", arguments, arguments,
                                            "2 min", "2 min")}
sys.exit(run(command.main, sys.argv[2:]))
"""
SLEEPER = """
import os, sys, time
from pathlib import Path

folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
(folder / "pid").write_text(str(os.getpid()))
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def environment() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.fixture
def running(tmp_path):
    """``report --run quick`` (its own session, so only it is killed), once its experiment sleeps: (process, child pid)."""
    repository = tmp_path / "repository"
    repository.mkdir()
    (repository / "sleeper.py").write_text(SLEEPER)
    root = tmp_path / "output"
    report = subprocess.Popen([sys.executable, "-c", DRIVER, str(repository), "--output-root", str(root), "--run", "quick"],
                              cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    pid_file = root / "sleeper" / "pid"
    try:
        assert wait_for(lambda: pid_file.is_file() and pid_file.read_text(), 60), report.stderr and report.poll()
        child = int(pid_file.read_text())
        assert alive(child) and "sleeper.py" in Path(f"/proc/{child}/cmdline").read_text()
        yield report, child, root
    finally:
        for pid in (report.pid, int(pid_file.read_text()) if pid_file.is_file() and pid_file.read_text() else None):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        report.wait(timeout=30)


def test_sigkill_of_the_report_alone_leaves_no_child_running(running):
    report, child, _ = running
    os.kill(report.pid, signal.SIGKILL)  # the report process only, not its group
    report.wait(timeout=30)
    assert wait_for(lambda: not alive(child), 10), f"the experiment {child} still runs after its report was killed"


def test_two_reports_into_one_folder_one_runs_the_other_exits_2(running):
    report, child, root = running
    for extra in (["--run", "quick"], []):
        second = subprocess.run([sys.executable, "-m", "pyimagesearch.report", "--output-root", str(root), *extra],
                                cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert second.stderr.startswith(f"error: {root}/report is being written by process {report.pid} on ")
        assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
        assert alive(child) and report.poll() is None  # the first one runs on
    assert not (root / "report" / "index.html").exists()

    os.kill(report.pid, signal.SIGKILL)
    report.wait(timeout=30)
    assert wait_for(lambda: not alive(child), 10)
    # The killed report's lock is taken over; the folder's config.json describes the run that wrote the report.
    rerun = subprocess.run([sys.executable, "-m", "pyimagesearch.report", "--output-root", str(root)], cwd=ROOT,
                           env=environment(), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    config = json.loads((root / "report" / "config.json").read_text())
    assert config["run"] is None and config["output_root"] == str(root)
    complete = json.loads((root / "report" / "complete.json").read_text())
    assert complete["kind"] == "report" and set(complete["summary"]["questions"].values()) == {"missing"}
    assert (root / "report" / "index.html").is_file()


def refused(capsys, *argv: str) -> str:
    """The one sentence a refused report prints (exit status 2)."""
    assert run(main, list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    return err.removeprefix("error: ").strip()


def test_an_output_root_that_is_not_a_results_folder_is_refused(tmp_path, capsys):
    missing = tmp_path / "nonexistent"
    assert refused(capsys, "--output-root", str(missing)) == (
        f"--output-root {missing} does not exist; name the folder the experiments wrote into (default output), or make "
        "the results first with python -m pyimagesearch.report --run quick")
    assert not missing.exists()
    other = tmp_path / "elsewhere"
    (other / "notes").mkdir(parents=True)
    (other / "notes.txt").write_text("not results\n")
    for extra in ([], ["--run", "quick"]):
        sentence = refused(capsys, "--output-root", str(other), *extra)
        assert sentence.startswith(f"--output-root {other} is not a results folder: it holds none of architectures/, "
                                   "batch_growth/, clr/")
    assert sorted(path.name for path in other.iterdir()) == ["notes", "notes.txt"]  # nothing written there
    assert refused(capsys, "--output-root", str(other / "notes.txt")).startswith(
        f"--output-root {other / 'notes.txt'} is a file, not a folder of results")
    assert refused(capsys, "--output-root", "").startswith("--output-root is empty")
    # With --run a new or empty folder is where the results will go.
    assert results_root(str(missing), "quick") == missing and results_root(str(other / "notes"), "full") == other / "notes"
    clone = tmp_path / "clone" / "output"  # a fresh clone's output/ holds only its .gitkeep
    clone.mkdir(parents=True)
    (clone / ".gitkeep").write_text("")
    assert results_root(str(clone), "quick") == clone
    assert refused(capsys, "--output-root", str(clone)).startswith(f"--output-root {clone} is not a results folder")


def test_an_empty_output_flag_and_a_folder_named_index_html_are_refused(tmp_path, capsys):
    (tmp_path / "clr").mkdir()
    assert refused(capsys, "--output-root", str(tmp_path), "--output", "") == (
        "--output is empty; name the folder the results go to, for example --output output/run")
    (tmp_path / "report" / "index.html").mkdir(parents=True)
    assert refused(capsys, "--output-root", str(tmp_path)) == (
        f"{tmp_path}/report/index.html is a folder, where the report writes its index.html; move it away, or choose "
        "another --output")
    assert sorted(path.name for path in (tmp_path / "report").iterdir()) == ["index.html"]
