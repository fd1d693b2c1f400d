"""The command line's own sentences: a missing dependency names the set-up command instead of a traceback."""

import subprocess
import sys

import pytest

from pyimagesearch.core.cli import missing_dependency_message, run

BLOCK_AND_RUN = """
import runpy, sys
sys.modules["tensorflow"] = None  # as if TensorFlow were not installed
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize("argv", [["find_lr.py", "--limit", "200"], ["train_lenet.py", "--policy", "fixed", "--lr", "0.01", "--limit", "200"]])
def test_a_missing_dependency_is_one_sentence_with_the_set_up_command(tmp_path, argv):
    done = subprocess.run([sys.executable, "-c", BLOCK_AND_RUN, *argv, "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: {missing_dependency_message('tensorflow')}"]
    assert "pip install -e ." in lines[0] and "Traceback" not in done.stderr


def test_a_missing_module_of_the_project_itself_still_raises():
    def main(argv):
        import pyimagesearch.no_such_module  # noqa: F401

    with pytest.raises(ModuleNotFoundError):
        run(main)


@pytest.mark.parametrize("argv, prog", [
    (["find_lr.py", "--grid", "-3"], "find_lr.py"),
    (["-m", "pyimagesearch.semisupervised", "label-noise", "--batch", "0"], "python -m pyimagesearch.semisupervised label-noise"),
    (["-m", "pyimagesearch.architectures", "vgg19", "--no-such-flag"], "python -m pyimagesearch.architectures"),
])
def test_a_bad_flag_is_one_line_pointing_to_help(argv, prog):
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(f"(see {prog} --help)"), lines
