"""--run quick|full: which experiments run, their subprocesses, runs.json, and what the report then shows."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from pyimagesearch.architectures.command import main as architectures
from pyimagesearch.core.run import RunFolder
from pyimagesearch.report import runner
from pyimagesearch.report.collect import collect
from pyimagesearch.report.console import Console
from pyimagesearch.report.files import load_dict
from pyimagesearch.report.questions import EXPERIMENTS, Experiment
from pyimagesearch.report.readers.common import Context, new_source
from tests.report.tree import write_json, write_text


def state(root: Path, key: str) -> str:
    return runner.state(EXPERIMENTS[key], root)


def begin(folder: Path, **settings) -> None:
    """A run that began in ``folder`` (its RunFolder wrote config.json) and was stopped before it finished."""
    with RunFolder(folder, "test", settings):
        pass


def finish(folder: Path, quick: bool, **settings) -> None:
    """A run that finished in ``folder``: config.json, then complete.json (quick or full)."""
    with RunFolder(folder, "test", settings) as run:
        run.complete(quick=quick)


def test_finished_comes_from_the_completion_record_only(tmp_path):
    folder = tmp_path / "find_lr"
    assert state(tmp_path, "find_lr") == "missing"
    begin(folder, limit=None)
    write_json(folder / "suggestion.json", {"lr_min": 1e-3})  # results, but the run never wrote its completion record
    assert state(tmp_path, "find_lr") == "unfinished"
    finish(folder, quick=True, limit=None)  # quick or full is the record's word, not a guess from --limit
    assert state(tmp_path, "find_lr") == "quick"
    finish(tmp_path / "lr_grid", quick=False, limit=10000)
    assert state(tmp_path, "lr_grid") == "full"
    write_json(tmp_path / "lr_grid" / "config.json", {"limit": 5})  # a config.json that is not the record's
    assert state(tmp_path, "lr_grid") == "unfinished"


def test_a_detection_folder_cut_short_is_not_computed(tmp_path):
    folder = tmp_path / "detection"
    write_text(folder / "counts.md", "# Counts\n")  # a full disk stopped it: no config.json, no figures
    assert state(tmp_path, "detection") == "missing"
    begin(folder, short_side=600)
    assert state(tmp_path, "detection") == "unfinished"
    assert runner.wanted("quick", "unfinished") and runner.wanted("full", "unfinished")
    finish(folder, quick=False, short_side=600)
    assert state(tmp_path, "detection") == "full"


def test_states_of_the_training_folders(tmp_path):
    begin(tmp_path / "clr" / "seed-1", seed=1)
    assert state(tmp_path, "clr") == "unfinished"
    finish(tmp_path / "clr" / "seed-1", quick=False, seed=1)
    assert state(tmp_path, "clr") == "unfinished"  # the seeds' aggregate is not finished
    finish(tmp_path / "clr", quick=False, seeds=[1, 2])
    assert state(tmp_path, "clr") == "full"
    finish(tmp_path / "batch_growth", quick=True, limit=10000)
    assert state(tmp_path, "batch_growth") == "quick"

    assert state(tmp_path, "comparison") == "missing"
    finish(tmp_path / "comparison", quick=False, runs=["clr", "batch_growth"])
    os.utime(tmp_path / "comparison" / "complete.json", (1_000_000, 1_000_000))
    assert state(tmp_path, "comparison") == "stale"  # its runs finished after it was written
    os.utime(tmp_path / "comparison" / "complete.json")
    assert state(tmp_path, "comparison") == "quick"  # batch_growth is a quick run


def test_a_transfer_sweep_with_6_of_7_full_runs_is_unfinished(tmp_path):
    target = tmp_path / "transfer" / "digits"  # questions.TRANSFER_DATASET: the offline stand-in
    target.mkdir(parents=True)  # transfer.py makes the folder before it finds out it is offline
    assert state(tmp_path, "transfer") == "missing"
    write_json(target / "dataset.json", {})
    for index in range(6):
        finish(target / f"run{index}", quick=False, lr=10.0 ** -index)
    begin(target / "run6", lr=1e-6)
    assert state(tmp_path, "transfer") == "unfinished"
    finish(target / "run6", quick=False, lr=1e-6)
    assert state(tmp_path, "transfer") == "full"
    finish(tmp_path / "other" / "vgg-flowers", quick=True, epochs=2)
    assert runner._transfer_state(tmp_path / "other" / "vgg-flowers") == "quick"


def test_states_of_semisupervised_and_calculators(tmp_path):
    folder = tmp_path / "semisupervised" / "label-noise"
    begin(folder / "quick", limit=10000)
    write_text(folder / "quick" / "results.md", "# Label noise\n")
    assert state(tmp_path, "label_noise") == "unfinished-quick"
    finish(folder / "quick", quick=True, limit=10000)
    assert state(tmp_path, "label_noise") == "quick"
    begin(folder, limit=None)
    assert state(tmp_path, "label_noise") == "unfinished-full"
    finish(folder, quick=False, limit=None)
    assert state(tmp_path, "label_noise") == "full"

    assert state(tmp_path, "vgg19") == "missing"
    write_text(tmp_path / "architectures" / "vgg19" / "vgg19.md", "# VGG19\n")
    assert state(tmp_path, "vgg19") == "missing"  # a page without its completion record is not finished
    assert architectures(["vgg19", "--output", str(tmp_path / "architectures"), "--overwrite"]) == 0
    assert state(tmp_path, "vgg19") == "full" and state(tmp_path, "alexnet") == "missing"


@pytest.mark.parametrize("current, quick, full", [
    ("missing", True, True), ("unfinished", True, True), ("unfinished-quick", True, True), ("stale", True, True),
    ("quick", False, True), ("unfinished-full", False, True), ("full", False, False)])
def test_which_states_each_mode_runs(current, quick, full):
    assert runner.wanted("quick", current) is quick and runner.wanted("full", current) is full


def test_run_missing_runs_records_skips_and_keeps(tmp_path, monkeypatch):
    bad = Experiment("bad", "A refused flag", "architectures",
                     ("-m", "pyimagesearch.architectures", "receptive-field", "--layers", "0", "--output", "{root}/architectures"),
                     ("-m", "pyimagesearch.architectures", "receptive-field", "--layers", "0", "--output", "{root}/architectures"),
                     "1 s", "1 s")
    experiments = {"inception": EXPERIMENTS["inception"], "bad": bad, "clr": EXPERIMENTS["clr"]}
    monkeypatch.setattr(runner, "EXPERIMENTS", experiments)
    monkeypatch.setattr(runner, "state", lambda e, root: "full" if e.key == "inception" and (
        root / "architectures" / "inception" / "inception.md").is_file() else "missing")
    root, folder, stream = tmp_path / "output", tmp_path / "output" / "report", io.StringIO()
    records = runner.run_missing("quick", root, folder, "runs.json", Console(stream, tty=False))
    lines = stream.getvalue().splitlines()

    assert records == load_dict(folder / "runs.json")
    assert records["inception"]["status"] == "ok" and records["inception"]["exit_status"] == 0
    assert records["inception"]["command"] == f"python -m pyimagesearch.architectures inception --output {root}/architectures"
    assert (root / "architectures" / "inception" / "inception.md").is_file()
    assert "Output after filter concatenation" in (folder / "logs" / "inception.log").read_text()
    assert records["bad"]["status"] == "failed" and records["bad"]["exit_status"] == 2
    assert records["bad"]["reason"].startswith("argument --layers: '0' must be > 0 (see ")
    assert records["clr"] == {**records["clr"], "status": "skipped",
                              "reason": f"it needs {root}/lr_grid/suggestion.json, which an earlier step did not write"}
    assert lines[0].startswith("[1/3] 2.4 (b-d) Inception modules at 32x32x256, quick settings, about 1 s, estimate; ")
    assert lines[0].endswith(" left in all ... finished in 0 s: naive macs 1,115,684,864, reduction macs 354,418,688, "
                             "macs saved percent 68.2")  # 2.4's answer, from the completion record
    assert lines[1].startswith("[2/3] A refused flag, quick settings") and " ... failed after " in lines[1]
    assert lines[1].endswith("argument --layers: '0' must be > 0 (see python -m pyimagesearch.architectures receptive-field --help)")
    assert lines[2].endswith(f"... skipped: it needs {root}/lr_grid/suggestion.json, which an earlier step did not write")
    assert lines[3].startswith("--run quick: 1 finished, 1 failed, 1 skipped, 0 kept from earlier runs; ")
    assert lines[4:] == ["  failed: A refused flag: argument --layers: '0' must be > 0 (see python -m "
                         "pyimagesearch.architectures receptive-field --help)",
                         f"  skipped: 1.2 Cyclical LR, exp_range: it needs {root}/lr_grid/suggestion.json, which an "
                         "earlier step did not write"]

    stream.truncate(0)
    stream.seek(0)
    again = runner.run_missing("quick", root, folder, "runs.json", Console(stream, tty=False))
    assert sorted(again) == ["bad", "clr"]
    assert stream.getvalue().splitlines()[2].startswith("--run quick: 0 finished, 1 failed, 1 skipped, 1 kept")

    context = Context(root, load_dict(folder / "runs.json"))
    made = collect(root, folder).questions[6].sources[0]
    assert made.title == "Inception modules at 32x32x256" and made.command == records["inception"]["command"]
    assert "".join(span.text for span in new_source(context, "clr").attempt) == (
        f"The report's runner skipped it: it needs {root}/lr_grid/suggestion.json, which an earlier step did not write")


def test_a_command_that_cannot_run_here_is_skipped_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "REPOSITORY", tmp_path)
    argv, reason = runner.command_line(EXPERIMENTS["find_lr"], "quick", Path("output"))
    assert argv is None and reason == f"find_lr.py is not in {tmp_path}; run the report from a clone of the project"
    argv, reason = runner.command_line(EXPERIMENTS["detection"], "full", Path("out"))
    assert argv == [sys.executable, "-m", "pyimagesearch.detection", "--output", "out/detection"] and reason == ""
