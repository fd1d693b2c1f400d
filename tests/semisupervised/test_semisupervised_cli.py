"""Bad input ends in one sentence and exit status 2; every flag is explained in --help and in docs/problem4.md."""

import subprocess
import sys
from pathlib import Path

import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.lenet.data import DEBIAN_DIR
from pyimagesearch.semisupervised.command import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, message", [
    (["teacher-student", "--k", "0"], "--k 0 is out of range: U holds 800 images for 10 classes, so K must be between 1 and 80"),
    (["teacher-student", "--k", "30,81"], "--k 81 is out of range"),
    (["teacher-student", "--k", "ten"], "--k 'ten' is not a comma-separated list of integers"),
    (["teacher-student", "--p", "11"], "--p 11 is out of range: an image has 10 classes, so P must be between 1 and 10"),
    (["teacher-student", "--p", "0"], "--p 0 is out of range"),
    (["teacher-student", "--labelled", "901"], "--labelled 901 must be between 1 and 899"),
    (["teacher-student", "--labelled", "0"], "--labelled 0 must be between 1 and 899"),
    (["teacher-student", "--labelled", "800"], "needs 80 images of class Pullover but the training split holds 77"),
    (["label-noise", "--noise", "0,100"], "--noise 100 is out of range: p is a percentage of labels replaced, in [0, 100)"),
    (["label-noise", "--p", "-5"], "--noise -5 is out of range"),
    (["label-noise", "--noise", "0,nan"], "--noise '0,nan' is not a comma-separated list of percentages"),
    (["teacher-student", "--k", ",".join(map(str, range(1, 22)))], "--k lists 21 values; at most 20 are allowed"),
    (["teacher-student", "--k", "9" * 5000], "is not a comma-separated list of integers"),
    (["label-noise", "--output", ""], "--output is empty; name the folder the results go to"),
    (["teacher-student", "--finetune-lr-factors", "0.1,0"],
     "--finetune-lr-factors '0.1,0' is not a comma-separated list of factors in (0, 10]"),
    (["teacher-student", "--finetune-lr-factors", "nan"], "is not a comma-separated list of factors in (0, 10]"),
    (["resampling", "--sampling", "natural,inverse"], "--sampling 'natural,inverse' is not a comma-separated list of natural, sqrt, uniform"),
])
@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_bad_input_is_one_sentence_with_exit_status_2(argv, message, tmp_path, capsys):
    # --limit 1000 leaves 900 training images (77 to 106 per class); with --labelled 100, U holds 800: K <= 80.
    labelled = [] if "--labelled" in argv or argv[0] != "teacher-student" else ["--labelled", "100"]
    output = [] if "--output" in argv else ["--output", str(tmp_path / "out")]
    status = run(main, [*argv, *labelled, "--quick", "--limit", "1000", "--quiet", *output])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["resampling", "--imbalance", "0.5"], "argument --imbalance: '0.5' is out of range: the imbalance must be in [1, 1e+06]"),
    (["resampling", "--imbalance", "inf"], "argument --imbalance: 'inf' must be a finite number"),
    (["label-noise", "--lr", "1e-45"], "argument --lr: '1e-45' cannot be a learning rate: the optimizer keeps it as a float32"),
    (["label-noise", "--batch", "0"], "argument --batch: '0' is out of range: the batch size must be between 1 and 60,000"),
    (["label-noise", "--batch", "9" * 30], "is out of range: the batch size must be between 1 and 60,000"),
    (["teacher-student", "--labelled", "70000"], "the labelled set's size must be between 0 and 60,000"),
    (["label-noise", "--seed", "-1"], "argument --seed: '-1' is out of range: the seed must be between 0 and 4,294,967,295"),
    (["label-noise", "--seed", str(2**32)], "argument --seed: '4294967296' is out of range"),
])
def test_flags_out_of_their_bounds_are_refused_by_the_parser(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main([*argv, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith(f"error: {message}") or message in err.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_a_subset_without_validation_images_is_one_sentence(tmp_path, capsys):
    status = run(main, ["label-noise", "--quick", "--limit", "5", "--quiet", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert err == ("error: --limit 5 with --val-fraction 0.1 leaves no validation images (of 5 training images); "
                   "raise --limit or --val-fraction\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")
def test_the_module_entry_point_reports_errors_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pyimagesearch.semisupervised", "label-noise", "--noise", "150",
                             "--limit", "500", "--output", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --noise 150 is out of range: p is a percentage of labels replaced, in [0, 100)")


def flags_of(parser):
    commands = next(action for action in parser._actions if action.dest == "experiment")
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if "--help" not in action.option_strings:
                yield name, action


def test_every_flag_has_help_and_is_on_the_problem_4_page():
    section = (ROOT / "docs" / "problem4.md").read_text()
    for name, action in flags_of(build_parser()):
        assert action.help and len(action.help) > 15, (name, action.option_strings)
        for flag in action.option_strings:
            assert f"`{flag}" in section, f"{flag} of {name} is not on docs/problem4.md"
