"""The calculator's folders (one per calculation, kept unless --overwrite) and GoogLeNet's inception (3a)."""

import hashlib
import json

import pytest

from pyimagesearch.architectures import inception_naive, inception_reduction, inception_saving
from pyimagesearch.architectures.command import main
from pyimagesearch.architectures.networks import INCEPTION_FILTERS
from pyimagesearch.core.cli import run
from pyimagesearch.core.run import RunFolder, completion


def digests(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir() if path.is_file()
            and path.name != ".lock"}


def test_each_calculation_has_its_own_folder_and_completion_record(tmp_path, capsys):
    for command in (["alexnet"], ["vgg19"], ["inception"], ["receptive-field", "--layers", "3", "--kernel", "5"]):
        assert run(main, [*command, "--output", str(tmp_path)]) == 0
    capsys.readouterr()
    for name in ("alexnet", "vgg19", "inception", "receptive-field"):
        record = completion(tmp_path / name)
        assert record is not None and record["kind"] == f"architecture-{name}"
        assert json.loads((tmp_path / name / "config.json").read_text())["command"] == name


def test_rerun_keeps_a_finished_calculation_and_refuses_other_settings(tmp_path, capsys):
    folder = tmp_path / "inception"
    assert run(main, ["inception", "--output", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    before = digests(folder)
    assert run(main, ["inception", "--output", str(tmp_path)]) == 0
    assert capsys.readouterr().out == first and digests(folder) == before
    assert run(main, ["inception", "--n1x1", "64", "--output", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "n1x1 128 then, 64 now" in error and "--overwrite" in error
    assert digests(folder) == before
    assert run(main, ["inception", "--n1x1", "64", "--output", str(tmp_path), "--overwrite"]) == 0
    assert json.loads((folder / "inception.json").read_text())["filters"]["n1x1"] == 64


def test_a_busy_folder_and_an_empty_output_are_refused(tmp_path, capsys):
    with RunFolder(tmp_path / "vgg19", "architecture-vgg19", {}):
        assert run(main, ["vgg19", "--output", str(tmp_path)]) == 2
    assert "is being written by process" in capsys.readouterr().err
    assert run(main, ["vgg19", "--output", ""]) == 2
    assert capsys.readouterr().err == ("error: --output is empty; name the folder the results go to, for example "
                                       "--output output/run\n")


def test_googlenet_3a_counts_and_the_defaults_source(tmp_path, capsys):
    assert run(main, ["inception", "--filters", "googlenet-3a", "--format", "json", "--output", str(tmp_path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["filters"] == {"preset": "googlenet-3a", **INCEPTION_FILTERS["googlenet-3a"],
                                  "source": payload["filters"]["source"]}
    assert "Table 1" in payload["filters"]["source"]
    reduction = payload["reduction"]
    assert reduction["layers"][0]["output_shape"] == [28, 28, 192]
    assert reduction["layers"][-1]["output_shape"] == [28, 28, 64 + 128 + 32 + 32]  # Table 1: 28x28x256
    assert payload["saving"]["reduction_macs"] == 128_049_152  # Table 1: 128M operations
    by_hand = (192 * 64 + 64) + (192 * 96 + 96) + (9 * 96 * 128 + 128) + (192 * 16 + 16) + (25 * 16 * 32 + 32) + (
        192 * 32 + 32)
    assert reduction["totals"]["params"] == by_hand == 163_696
    page = (tmp_path / "inception" / "inception.md").read_text()
    assert "Source: GoogLeNet's inception (3a), Szegedy et al. 2015, Table 1" in page
    assert run(main, ["inception", "--output", str(tmp_path / "homework")]) == 0
    page = capsys.readouterr().out
    assert "not GoogLeNet's" in page and "`--filters googlenet-3a`" in page
    assert "Filter counts: 1x1 128; 3x3 reduce 64 -> 3x3 192; 5x5 reduce 64 -> 5x5 96; pool proj 64" in page


def test_googlenet_3a_refuses_filter_flags_it_would_ignore(tmp_path, capsys):
    assert run(main, ["inception", "--filters", "googlenet-3a", "--n1x1", "10", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("error: --filters googlenet-3a sets every filter count, so --n1x1 would be "
                                       "ignored; drop them, or leave out --filters to give your own\n")
    assert not (tmp_path / "inception").exists()


def test_the_homework_defaults_are_unchanged():
    naive, reduction = inception_naive(), inception_reduction(**{"input_shape": (32, 32, 256),
                                                                 **INCEPTION_FILTERS["homework"]})
    assert inception_saving(naive, reduction)["saved_macs"] == 761_266_176
    with pytest.raises(ValueError, match=r"Argument `layers` must be an integer in \[1, 10000\]"):
        from pyimagesearch.architectures import convolution_stack

        convolution_stack(10_001, 3)


def test_each_run_ends_saying_where_its_files_are_as_absolute_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(main, ["lenet5", "--format", "json", "--output", "relative"]) == 0
    out, err = capsys.readouterr()
    folder = tmp_path / "relative" / "lenet5"
    assert json.loads(out) == json.loads((folder / "lenet5.json").read_text())  # stdout stays the JSON alone
    files = "lenet5.md, lenet5.json, lenet5.csv, config.json, complete.json"
    assert err == f"files written to {folder}: {files}\n"
    assert all((folder / name).is_file() for name in files.split(", "))
    assert run(main, ["lenet5", "--format", "json", "--output", "relative"]) == 0
    assert capsys.readouterr().err == f"already calculated with these settings, kept in {folder}: {files}\n"
