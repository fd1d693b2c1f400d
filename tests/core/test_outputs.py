"""Writes on a full disk: one sentence naming the folder, no temporary file, earlier results untouched."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from pyimagesearch.core import outputs
from pyimagesearch.core.cli import run
from pyimagesearch.core.outputs import OutputError, prepare_dir, write_json, write_text


@pytest.fixture
def full_disk(monkeypatch):
    """Temporary files are created as usual, but every byte written to them goes to /dev/full (ENOSPC)."""
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        handle, path = real_mkstemp(*args, **kwargs)
        os.close(handle)
        return os.open("/dev/full", os.O_WRONLY), path

    monkeypatch.setattr(outputs.tempfile, "mkstemp", mkstemp)


def test_a_write_on_a_full_disk_is_one_sentence_and_leaves_no_temporary_file(tmp_path, full_disk):
    (tmp_path / "history.csv").write_text("epoch\n1\n")
    with pytest.raises(OutputError) as error:
        write_text(tmp_path / "history.csv", "epoch\n1\n2\n")
    assert str(error.value) == (f"cannot write history.csv in {tmp_path}: No space left on device; free some space "
                                f"in {tmp_path} or choose another --output")
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]
    assert (tmp_path / "history.csv").read_text() == "epoch\n1\n"


def test_an_unwritable_folder_says_to_make_it_writable(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkstemp", refused)
    with pytest.raises(OutputError, match=f"cannot write a.json in {tmp_path}: Permission denied; make {tmp_path} "
                                          "writable or choose another --output"):
        write_json(tmp_path / "a.json", {})


def test_run_turns_a_disk_error_no_writer_caught_into_one_sentence_but_not_other_errors(capsys):
    def fills_the_disk(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "/out/run/model.weights.h5")

    assert run(fills_the_disk) == 2
    assert capsys.readouterr().err == ("error: cannot write model.weights.h5 in /out/run: No space left on device; "
                                       "free some space in /out/run or choose another --output\n")

    def missing(argv):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "x")

    with pytest.raises(FileNotFoundError):
        run(missing)


def test_prepare_dir_removes_what_killed_writes_left(tmp_path):
    for name in (".history.csv.k2j4h5g6.partial", ".model.partial.keras", "metrics.json", ".keep"):
        (tmp_path / name).write_text("x")
    prepare_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep", "metrics.json"]
