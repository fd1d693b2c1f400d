"""What every script shares: user errors, argument types, quiet TensorFlow, seeds.

A ``UserError`` is a problem the person running a script can fix (a bad flag, a
missing file, an unwritable folder). ``run`` turns it into one sentence on
stderr and exit status 2, without a traceback. Programming errors still raise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import warnings
from typing import Callable, Sequence

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """An error caused by the user's input, reported as one sentence."""


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)`` and turn user errors into an exit status.

    Returns the status for ``sys.exit``: what ``main`` returned (0 if None),
    2 for a ``UserError`` (a bad flag) or a ``core.errors.RunError`` that the
    library raised (a results folder that is busy or holds other settings, a
    result file that fails validation, a full disk, a peer that stopped), or for a full disk or a permission refused on a
    named file that no writer of the project caught, 130 for Ctrl-C.
    """
    from pyimagesearch.core.errors import RunError

    try:
        status = main(argv)
    except (UserError, RunError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:
        from pyimagesearch.core.outputs import DISK_ERRORS, output_error_message

        if error.errno not in DISK_ERRORS or not error.filename:
            raise
        print(f"error: {output_error_message(error.filename, error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ModuleNotFoundError as error:
        package = (error.name or "").split(".")[0]
        if package not in DEPENDENCIES:
            raise
        print(f"error: {missing_dependency_message(package)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SystemExit as stop:  # argparse's --help (0) or a bad flag (2), its one line already printed
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else EXIT_USER_ERROR)
    except KeyboardInterrupt:
        print("interrupted: files already written are complete and kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(status or 0)


# Import names of the packages the project installs (requirements.txt, pyproject.toml), with their PyPI names.
DEPENDENCIES = {"tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "matplotlib": "matplotlib",
                "sklearn": "scikit-learn", "scipy": "scipy", "tensorflow_datasets": "tensorflow-datasets",
                "PIL": "pillow", "absl": "absl-py", "h5py": "h5py", "tensorboard": "tensorboard"}
SETUP_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install -e ."


def missing_dependency_message(package: str) -> str:
    """The one sentence for a dependency that this Python cannot import."""
    return (f"{DEPENDENCIES.get(package, package)} is not installed for {sys.executable}; set the project up "
            f"first ({SETUP_COMMAND}, see README.md), or activate the environment where it is installed")


VERBOSE_VARIABLE = "PYIMAGESEARCH_VERBOSE"
# What TensorFlow's C++ libraries log while they load, before absl logging is set up (so before
# TF_CPP_MIN_LOG_LEVEL applies): "WARNING: All log messages before absl::InitializeLog() ...", then
# lines such as "I0000 00:00:1795804380.808965   22704 port.cc:153] oneDNN custom operations are on ...".
STARTUP_LINE = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} [\d:.]+ +\d+ \S+:\d+\] ")


def verbose_requested(verbose: bool = False) -> bool:
    """True for ``--verbose`` or the environment variable ``PYIMAGESEARCH_VERBOSE`` set to anything but 0 or empty."""
    return verbose or os.environ.get(VERBOSE_VARIABLE, "") not in ("", "0")


def quiet_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow without its start-up messages; the first call in every entry point's ``main``.

    - ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) hides TensorFlow's C++
      info, warning and error lines once it runs, such as "failed call to
      cuInit: UNKNOWN ERROR (303)" on a machine without a GPU;
    - the lines its libraries print while they load (oneDNN, "Could not find
      cuda drivers") come before that setting applies, so TensorFlow is
      imported here with stderr captured, and only those lines are dropped;
      anything else it printed is passed on;
    - absl's Python logger is set to errors only, which hides TensorFlow
      Datasets' warnings ("Variant folder ... has no dataset_info.json" before
      an offline error).

    TensorFlow's own Python warnings (for example tf.function retracing) stay
    visible. With ``verbose`` or ``PYIMAGESEARCH_VERBOSE=1`` nothing is hidden.
    """
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")
    if verbose_requested(verbose):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        printed: list[str] = []
        try:
            with captured_stderr(printed):
                import tensorflow  # noqa: F401
        finally:
            lines = "".join(printed).splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not STARTUP_LINE.match(line)))
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """``--verbose``: let TensorFlow print its start-up messages (see ``quiet_tensorflow``)."""
    parser.add_argument("--verbose", action="store_true",
                        help=f"show TensorFlow's start-up and log messages, hidden by default (or set {VERBOSE_VARIABLE}=1)")


@contextlib.contextmanager
def captured_stderr(printed: list[str]):
    """Send file descriptor 2, where C and C++ code print too, to a temporary file during the block.

    What was printed is appended to ``printed`` when the block ends, also when it raises.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            printed.append(capture.read().decode(errors="replace"))


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(seed)


def _number(kind: type, text: str, test: Callable[[float], bool], rule: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
    if not test(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be {rule}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    return int(_number(int, text, lambda v: v > 0, "> 0"))


def bounded_int(low: int, high: int, what: str = "") -> Callable[[str], int]:
    """argparse type: an integer in [low, high]; the limit is stated in the message (it bounds work or memory).

    Parsed digit by digit only up to a sane length, so a 10,000-digit number is refused without being built.
    """
    def parse(text: str) -> int:
        stripped = text.strip().lstrip("+-")
        if len(stripped) > 18:
            raise argparse.ArgumentTypeError(f"{text[:24]!r}... is out of range: {what or 'the value'} must be "
                                             f"between {low:,} and {high:,}")
        value = int(_number(int, text, lambda v: True, ""))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: {what or 'the value'} must be between "
                                             f"{low:,} and {high:,}")
        return value

    parse.__name__ = "integer"
    return parse


def bounded_float(low: float, high: float, what: str = "", low_open: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float in [low, high] (``(low, high]`` with ``low_open``), the limit stated."""
    def parse(text: str) -> float:
        value = _number(float, text, lambda v: v == v and abs(v) != float("inf"), "a finite number")
        if not (low < value if low_open else low <= value) or value > high:
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: {what or 'the value'} must be in "
                                             f"{bracket}{low:g}, {high:g}]")
        return value

    parse.__name__ = "number"
    return parse


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    return _number(float, text, lambda v: 0 < v < float("inf"), "a finite number > 0")


def learning_rate(text: str) -> float:
    """argparse type: a learning rate, > 0 and a normal float32 number (what the optimizer stores).

    A value below float32's smallest normal number (about 1.18e-38) would be
    trained with as 0 or with a few bits of precision; one above its largest
    (about 3.4e38) as inf.
    """
    import numpy as np

    value = positive_float(text)
    tiny, huge = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
    if not tiny <= value <= huge:
        raise argparse.ArgumentTypeError(f"{text!r} cannot be a learning rate: the optimizer keeps it as a float32, "
                                         f"which holds {tiny:.3g} to {huge:.3g}")
    return value


def fraction(text: str) -> float:
    """argparse type: a float in the open interval (0, 1)."""
    return _number(float, text, lambda v: 0 < v < 1, "between 0 and 1 (exclusive)")


def unit_interval(text: str) -> float:
    """argparse type: a float in the half-open interval (0, 1] (a decay factor, an IoU threshold)."""
    return _number(float, text, lambda v: 0 < v <= 1, "in (0, 1]")


def nonnegative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    return _number(float, text, lambda v: 0 <= v < float("inf"), "a finite number >= 0")


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return int(_number(int, text, lambda v: v >= 0, ">= 0"))


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line, ``error: <what> (see <prog> --help)``, exit 2.

    argparse prints the whole usage (often 15 lines) before the sentence that
    matters; the usage stays one ``--help`` away. Subparsers made with
    ``add_subparsers`` are of this class too.
    """

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show defaults in ``--help`` and keep the description's line breaks.

    A default is not repeated when the help text already explains it, or when
    there is none to show (None or a switch's False).
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)
