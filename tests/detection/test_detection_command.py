"""``python -m pyimagesearch.detection`` end to end: files, consistent counts, and one-sentence user errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.detection.command import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
ALWAYS = ("counts.json", "counts.md", "nms_example.md", "rpn_head.md", "rpn_head.json", "config.json", "log.txt",
          "anchors_at_centre.png", "anchor_centres.png", "proposals_before_nms.png", "proposals_after_nms.png",
          "step_counts.png", "nms_example.png")


def check_consistent(counts: dict) -> None:
    anchors = counts["anchors"]
    fmap = anchors["feature_map"]
    rescaled = counts["image"]["rescaled"]
    assert (fmap["height"], fmap["width"]) == (rescaled["height"] // anchors["stride"],
                                               rescaled["width"] // anchors["stride"])
    assert anchors["k"] == len(anchors["scales"]) * len(anchors["ratios"])
    assert anchors["total"] == fmap["height"] * fmap["width"] * anchors["k"]
    assert 0 < anchors["inside"] <= anchors["total"]
    steps = list(counts["steps"].values())
    assert steps[0] == anchors["total"]
    assert all(later <= earlier for earlier, later in zip(steps, steps[1:]))
    settings = counts["settings"]
    assert counts["steps"]["pre-NMS top-N"] <= settings["pre_nms_top_n"]
    assert counts["steps"]["post-NMS top-N"] == min(settings["post_nms_top_n"], counts["steps"]["after NMS"])
    assert counts["test"]["count"] == min(counts["test"]["post_nms_top_n"], counts["steps"]["after NMS"])


def test_default_image(tmp_path, capsys):
    assert run(main, ["--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for name in ALWAYS + ("edge_map.png",):
        assert (tmp_path / name).stat().st_size > 0, name
    counts = json.loads((tmp_path / "counts.json").read_text())
    check_consistent(counts)
    assert counts["image"]["original"] == {"height": 427, "width": 640}
    assert counts["image"]["rescaled"] == {"height": 600, "width": 899}
    assert counts["anchors"]["feature_map"] == {"height": 37, "width": 56}
    assert (counts["anchors"]["total"], counts["anchors"]["inside"]) == (18648, 6928)
    assert counts["steps"]["pre-NMS top-N"] == 12000
    assert counts["steps"]["post-NMS top-N"] == 2000 and counts["test"]["count"] == 300
    assert counts["scores"] == "edges" and counts["deltas"] == "zero"
    assert "stand in for a trained RPN" in counts["stand_in"]
    assert counts["reference_sizes"][0]["total"] == 20646
    markdown = (tmp_path / "counts.md").read_text()
    assert "| anchors | 18,648 |" in markdown and "37*56*9 = 18,648" in markdown
    assert "stand in for a trained RPN" in markdown
    assert (tmp_path / "log.txt").read_text() == printed
    head = json.loads((tmp_path / "rpn_head.json").read_text())
    assert head["totals"]["params"] == 2_387_510
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["iou"] == 0.7 and config["image"].endswith("china.jpg") and "numpy" in config["environment"]


def test_png_written_here_with_random_stand_ins(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = np.full((160, 240, 3), 200, np.uint8)
    pixels[40:120, 60:140] = rng.integers(0, 256, (80, 80, 3))
    photo = tmp_path / "photo.png"
    Image.fromarray(pixels).save(photo)
    out = tmp_path / "out"
    argv = ["--image", str(photo), "--short-side", "320", "--scores", "random", "--deltas", "random", "--seed", "3",
            "--iou", "0.5", "--post-nms-top-n", "100", "--test-post-nms-top-n", "30", "--output", str(out)]
    assert run(main, argv) == 0
    for name in ALWAYS:
        assert (out / name).stat().st_size > 0, name
    assert not (out / "edge_map.png").exists()
    counts = json.loads((out / "counts.json").read_text())
    check_consistent(counts)
    assert counts["image"]["rescaled"] == {"height": 320, "width": 480}
    assert counts["anchors"]["total"] == 20 * 30 * 9
    assert counts["scores"] == "random" and counts["deltas"] == "random"
    assert "seed 3" in counts["stand_in"]
    assert counts["test"]["count"] == 30
    assert "Objectness scores: random" in (out / "counts.md").read_text()
    # The same seed gives the same proposals.
    again = tmp_path / "again"
    assert run(main, argv[:-1] + [str(again)]) == 0
    assert json.loads((again / "counts.json").read_text())["steps"] == counts["steps"]


@pytest.fixture()
def not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not a picture\n")
    return path


@pytest.mark.parametrize("argv, words", [
    (["--image", "missing.jpg"], "does not exist"),
    (["--image", "NOT_AN_IMAGE"], "cannot be read"),
    (["--short-side", "10"], "smaller than one --stride"),
    (["--short-side", "80"], "no anchor fits inside"),
    (["--iou", "0"], "must be in (0, 1]"),
    (["--iou", "1.5"], "must be in (0, 1]"),
    (["--scales", "128", "-256"], "'-256' is out of range: a scale must be in (0, 16000]"),
    (["--scales", "0"], "'0' is out of range: a scale must be in (0, 16000]"),
    (["--stride", "0"], "--stride must be between 1 and 256"),
    (["--ratios", "abc"], "is not a float"),
])
def test_user_errors_are_one_sentence_with_status_2(argv, words, not_an_image, tmp_path, capsys):
    argv = [str(not_an_image) if arg == "NOT_AN_IMAGE" else arg for arg in argv]
    assert run(main, argv + ["--output", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], captured.err
    assert "Traceback" not in captured.err


def test_subprocess_error_help_and_no_framework_import(not_an_image, tmp_path):
    result = subprocess.run([sys.executable, "-m", "pyimagesearch.detection", "--image", str(not_an_image),
                             "--output", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: image ") and result.stderr.count("\n") == 1
    assert result.stdout == ""

    code = ("import sys, pyimagesearch.detection, pyimagesearch.detection.command; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_help_explains_every_flag(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for action in parser._actions:
        assert action.help, action.option_strings
        for option in action.option_strings:
            assert option in text


def test_every_flag_is_on_the_problem_2_5_page():
    section = (ROOT / "docs" / "problem2-5.md").read_text()
    flags = [flag for action in build_parser()._actions for flag in action.option_strings
             if flag.startswith("--") and flag != "--help"]
    assert flags and [flag for flag in flags if f"`{flag}" not in section] == []
