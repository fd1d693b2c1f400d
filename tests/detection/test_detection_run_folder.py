"""The detection folder's life: one writer, settings kept, finished only with its completion record, bounds."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.run import RunFolder, completion
from pyimagesearch.detection.command import main
from pyimagesearch.detection.image import ImageFileError, load_image, rescale_factor
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.detection import DetectionCounts, RpnHead

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--short-side", "200", "--plot-top", "3"]


def digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())
            if path.is_file() and path.name != ".lock"}


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "pyimagesearch.detection", *argv]


def test_two_processes_into_one_folder_one_runs_and_the_other_exits_2(tmp_path):
    out = tmp_path / "out"
    first = subprocess.Popen(command("--iou", "0.5", "--output", str(out)), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command("--iou", "0.7", "--scores", "random", "--output", str(out)), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [(process.wait(timeout=120), *process.communicate()) for process in (first, second)]
    assert sorted(status for status, _, _ in results) == [0, 2]
    winner = 0 if results[0][0] == 0 else 1
    line = one_error(results[1 - winner][2])
    # Refused while the other writes (busy, naming it), or after it finished (its settings kept).
    assert "is being written by process" in line or "holds results of other settings" in line, line
    config = json.loads((out / "config.json").read_text())
    counts = DetectionCounts.read(out)
    assert (config["iou"], config["scores"]) == ((0.5, "edges"), (0.7, "random"))[winner]
    assert (counts.settings.iou, counts.scores) == (config["iou"], config["scores"])
    assert completion(out) is not None


def test_a_held_folder_is_refused_naming_the_process(tmp_path, capsys):
    with RunFolder(tmp_path, "detection", {"anything": 1}):
        assert run(main, [*FAST, "--output", str(tmp_path)]) == 2
    line = one_error(capsys.readouterr().err)
    assert f"is being written by process {os.getpid()} on " in line and "choose another --output" in line
    assert not (tmp_path / "counts.json").exists()


def test_rerun_keeps_a_finished_folder_and_refuses_other_settings_unless_overwrite(tmp_path, capsys):
    assert run(main, [*FAST, "--output", str(tmp_path)]) == 0
    before = digests(tmp_path)
    assert run(main, [*FAST, "--output", str(tmp_path)]) == 0
    assert "already holds this run, finished" in capsys.readouterr().out
    assert digests(tmp_path) == before
    assert run(main, [*FAST, "--iou", "0.5", "--output", str(tmp_path)]) == 2
    line = one_error(capsys.readouterr().err)
    assert "iou 0.7 then, 0.5 now" in line and "--overwrite" in line
    assert digests(tmp_path) == before
    assert run(main, [*FAST, "--iou", "0.5", "--output", str(tmp_path), "--overwrite"]) == 0
    assert DetectionCounts.read(tmp_path).settings.iou == 0.5
    assert json.loads((tmp_path / "config.json").read_text())["iou"] == 0.5


def test_a_run_killed_before_its_completion_record_is_not_finished(tmp_path):
    from pyimagesearch.report.readers.calculators import read_detection
    from pyimagesearch.report.readers.common import Context

    out = tmp_path / "detection"
    environment = {**os.environ, "KILL_AT": "complete.json#1", "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, str(ROOT / "tests" / "kill_at_rename.py"),
                             str(ROOT / "pyimagesearch" / "detection" / "__main__.py"), *FAST, "--output", str(out)],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    assert (out / "counts.json").is_file() and (out / "log.txt").is_file() and not (out / "complete.json").exists()
    assert completion(out) is None
    assert [source.status for source in read_detection(Context(tmp_path))] == ["partial"]
    # The same settings again finish the run.
    again = subprocess.run(command(*FAST, "--output", str(out)), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert completion(out) is not None
    assert [source.status for source in read_detection(Context(tmp_path))] == ["full"]


def test_a_folder_without_config_or_figures_is_not_finished(tmp_path):
    from pyimagesearch.report.readers.calculators import read_detection
    from pyimagesearch.report.readers.common import Context

    out = tmp_path / "detection"
    assert run(main, [*FAST, "--output", str(out)]) == 0
    for name in ("config.json", "anchors_at_centre.png", "step_counts.png"):
        (out / name).unlink()
    assert completion(out) is None
    assert [source.status for source in read_detection(Context(tmp_path))] == ["missing"]


def test_the_report_names_a_bad_counts_file_in_one_sentence(tmp_path):
    from pyimagesearch.report.readers.calculators import read_detection
    from pyimagesearch.report.readers.common import Context

    out = tmp_path / "detection"
    assert run(main, [*FAST, "--output", str(out)]) == 0
    data = json.loads((out / "counts.json").read_text())
    data["anchors"]["total"] = -1
    (out / "counts.json").write_text(json.dumps(data))
    with pytest.raises(RecordError) as caught:
        read_detection(Context(tmp_path))
    assert str(caught.value).startswith(f"{out / 'counts.json'} (anchors): total = -1 is not a count")


@pytest.fixture()
def huge_png(tmp_path):
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("1", (14000, 14000)).save(path)  # 196 million pixels, 24 kB on disk
    return path


@pytest.mark.parametrize("argv, words", [
    (["--short-side", "100000", "--max-size", "100000"], "--short-side must be between 1 and 4,000"),
    (["--max-size", "100000"], "--max-size must be between 1 and 4,000"),
    (["--output", ""], "--output is empty"),
    (["--pre-nms-top-n", "1000000"], "a top-N must be between 1 and 30,000"),
    (["--post-nms-top-n", "0"], "a top-N must be between 1 and 30,000"),
    (["--plot-top", "100000"], "--plot-top must be between 1 and 1,000"),
    (["--seed", "99999999999999999999999", "--scores", "random"], "--seed must be between 0 and 4,294,967,295"),
    (["--seed", "3"], "--seed seeds only --scores random and --deltas random"),
    (["--min-size", "1e9"], "--min-size must be in [0, 4000]"),
    (["--ratios", "1000"], "a ratio must be in [0.015625, 64]"),
    (["--scales", *[str(s) for s in range(10, 180, 10)]], "--scales lists 17 values, more than 16"),
    (["--short-side", "4000", "--max-size", "4000", "--stride", "2"], "anchors, more than 2,000,000"),
    (["--min-size", "500"], "no box is at least --min-size 500 px of the original image"),
    (["--image", "HUGE"], "has more than 178,956,970 pixels"),
])
def test_bounds_and_refusals_are_one_sentence_before_the_folder_is_touched(argv, words, huge_png, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [str(huge_png) if arg == "HUGE" else arg for arg in argv]
    if "--output" not in argv:
        argv += ["--output", str(out)]
    assert run(main, argv) == 2
    assert words in one_error(capsys.readouterr().err)
    assert not out.exists()


def test_library_errors_are_value_errors_not_user_errors(tmp_path, huge_png):
    from pyimagesearch.core.cli import UserError

    with pytest.raises(ImageFileError) as caught:
        load_image(tmp_path / "missing.png")
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, UserError)
    assert str(caught.value) == f"The image does not exist. Received: path={str(tmp_path / 'missing.png')!r}"
    with pytest.raises(ImageFileError, match="more than the 1,000 this command decodes"):
        from PIL import Image

        small = tmp_path / "small.png"
        Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(small)
        load_image(small, max_pixels=1000)
    with pytest.raises(ImageFileError, match="possible decompression bomb"):
        load_image(huge_png)
    with pytest.raises(ValueError, match=r"Argument `short_side` must be an integer > 0. Received: short_side=0"):
        rescale_factor(100, 200, 0)


def test_counts_and_rpn_head_records(tmp_path):
    assert run(main, [*FAST, "--output", str(tmp_path)]) == 0
    counts, head = DetectionCounts.read(tmp_path), RpnHead.read(tmp_path)
    assert DetectionCounts.from_json(counts.to_json()) == counts
    assert RpnHead.from_json(head.to_json()) == head
    assert head.totals["params"] == 2_387_510 and head.k == counts.anchors.k == 9
    good = json.loads((tmp_path / "counts.json").read_text())
    path = tmp_path / "bad.json"

    def problem(edit) -> str:
        data = json.loads(json.dumps(good))
        edit(data)
        path.write_text(json.dumps(data))
        with pytest.raises(RecordError) as caught:
            DetectionCounts.read(path)
        return str(caught.value)

    assert problem(lambda d: d["settings"].update(iou=1.5)) == f"{path} (settings): iou = 1.5 must be in (0, 1]"
    assert problem(lambda d: d["image"].update(scale=float("nan"))) == f"{path} (image): scale = nan is not a finite number"
    assert problem(lambda d: d.pop("steps")) == f"{path}: steps is missing"
    assert "none larger than the one before" in problem(lambda d: d["steps"].update({"after NMS": 10**9}))
    assert problem(lambda d: d["anchors"].update(k=8)).endswith("k = 8 is not 3 scales x 3 ratios")
    path.write_text((tmp_path / "counts.json").read_text()[:200])
    with pytest.raises(RecordError, match=r"bad.json: is not valid JSON \(truncated or damaged"):
        DetectionCounts.read(path)
    head_data = head.to_json()
    head_data["outputs_per_image"]["scores"] += 1
    with pytest.raises(RecordError, match="outputs_per_image"):
        RpnHead.from_json(head_data, "rpn_head.json")
