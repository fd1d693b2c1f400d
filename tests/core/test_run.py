"""RunFolder: one writer, settings compared before anything is touched, seeds, the completion record."""

import json
import os
import random
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from pyimagesearch.core.processes import start_child
from pyimagesearch.core.run import (
    COMPLETE_NAME, CONFIG_NAME, FolderBusy, RunFolder, RunFolderError, check_output_path, completion,
)

SETTINGS = {"lr": 0.01, "epochs": 3, "seed": 1}


def finished_folder(tmp_path, settings=SETTINGS, quick=False):
    folder = tmp_path / "run"
    with RunFolder(folder, "toy", settings, config={"description": "a toy"}) as run:
        (folder / "metrics.json").write_text('{"test_accuracy": 0.5}\n')
        run.complete(quick=quick, summary={"test_accuracy": 0.5})
    return folder


def test_a_new_folder_gets_the_config_and_is_not_finished_before_complete(tmp_path):
    folder = tmp_path / "a" / "b"
    with RunFolder(folder, "toy", SETTINGS, config={"description": "x"}) as run:
        assert not run.finished and not run.resumed
        config = json.loads((folder / CONFIG_NAME).read_text())
        assert config["lr"] == 0.01 and config["description"] == "x" and "environment" in config
        assert config["settings_keys"] == ["epochs", "lr", "seed"]
        assert completion(folder) is None
        run.complete(quick=True)
    record = completion(folder)
    assert record["kind"] == "toy" and record["quick"] is True


def test_the_same_settings_keep_a_finished_folder_byte_identical(tmp_path):
    folder = finished_folder(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"}
    with RunFolder(folder, "toy", SETTINGS, config={"description": "a toy"}) as run:
        assert run.finished
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"}
    assert after == before


def test_other_settings_are_refused_naming_the_difference_and_nothing_changes(tmp_path):
    folder = finished_folder(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"}
    with pytest.raises(RunFolderError, match=r"other settings \(lr 0.01 then, 0.1 now\).*--overwrite"):
        with RunFolder(folder, "toy", {**SETTINGS, "lr": 0.1}):
            pass
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"} == before


def test_overwrite_empties_the_folder_first(tmp_path):
    folder = finished_folder(tmp_path)
    (folder / "sub").mkdir()
    with RunFolder(folder, "toy", {**SETTINGS, "lr": 0.1}, overwrite=True) as run:
        assert not run.finished
        assert sorted(p.name for p in folder.iterdir()) == [".lock", CONFIG_NAME]
    assert json.loads((folder / CONFIG_NAME).read_text())["lr"] == 0.1


def test_watching_flags_are_not_settings(tmp_path):
    folder = finished_folder(tmp_path, {**SETTINGS, "quiet": False, "verbose": False})
    with RunFolder(folder, "toy", {**SETTINGS, "quiet": True, "verbose": True}) as run:
        assert run.finished


def test_an_unfinished_folder_of_the_same_settings_resumes(tmp_path):
    folder = tmp_path / "run"
    with RunFolder(folder, "toy", SETTINGS):
        pass  # killed before complete()
    with RunFolder(folder, "toy", SETTINGS) as run:
        assert run.resumed and not run.finished


def test_a_completion_record_of_other_settings_does_not_count(tmp_path):
    folder = finished_folder(tmp_path)
    config = json.loads((folder / CONFIG_NAME).read_text())
    (folder / CONFIG_NAME).write_text(json.dumps({**config, "lr": 0.5}))
    assert completion(folder) is None
    (folder / COMPLETE_NAME).write_text("{not json")
    assert completion(folder) is None


def test_seeds_are_set_on_entering(tmp_path):
    with RunFolder(tmp_path / "a", "toy", SETTINGS, seed=7):
        first = (random.random(), np.random.rand())
    with RunFolder(tmp_path / "a", "toy", SETTINGS, seed=7):
        assert (random.random(), np.random.rand()) == first


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_output_is_refused(name):
    with pytest.raises(RunFolderError, match="--output is empty"):
        check_output_path(name)


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        with RunFolder(tmp_path / "file", "toy", SETTINGS):
            pass


HOLDER = textwrap.dedent("""
    import sys, time
    from pyimagesearch.core.run import RunFolder
    with RunFolder(sys.argv[1], "toy", {"lr": 0.01}):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_a_second_writer_stops_naming_the_first_and_a_dead_ones_lock_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusy, match=rf"is being written by process {holder.pid} on .*; wait for it"):
            with RunFolder(folder, "toy", {"lr": 0.01}):
                pass
    finally:
        holder.kill()
        holder.wait()
    with RunFolder(folder, "toy", {"lr": 0.01}) as run:  # SIGKILL left the lock file; the kernel freed the lock
        assert run.resumed


def test_a_child_dies_with_its_parent(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent = textwrap.dedent(f"""
        import sys, time
        from pyimagesearch.core.processes import start_child
        child = start_child([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen([sys.executable, "-c", parent], env=env)
    deadline = time.time() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # a zombie until init reaps it counts as ended
        status = open(f"/proc/{child}/stat").read().split()[2] if os.path.exists(f"/proc/{child}/stat") else "X"
        if status in ("Z", "X"):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"child {child} still runs after its parent was killed")


def test_start_child_runs_the_command():
    child = start_child([sys.executable, "-c", "print('hi')"], stdout=subprocess.PIPE, text=True)
    assert child.communicate()[0] == "hi\n"
