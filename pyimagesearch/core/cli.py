"""What every script shares: user errors, argument types, quiet TensorFlow, seeds.

A ``UserError`` is a problem the person running a script can fix (a bad flag, a
missing file, an unwritable folder). ``run`` turns it into one sentence on
stderr and exit status 2, without a traceback. Programming errors still raise.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Callable, Sequence

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """An error caused by the user's input, reported as one sentence."""


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)`` and turn user errors into an exit status.

    Returns the status for ``sys.exit``: what ``main`` returned (0 if None),
    2 for a ``UserError`` or for a full disk or a permission refused on a
    named file that no writer of the project caught, 130 for Ctrl-C.
    """
    try:
        status = main(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:
        from pyimagesearch.core.outputs import DISK_ERRORS, output_error_message

        if error.errno not in DISK_ERRORS or not error.filename:
            raise
        print(f"error: {output_error_message(error.filename, error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted: files already written are complete and kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(status or 0)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up chatter; call before importing it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")


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


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return int(_number(int, text, lambda v: v >= 0, ">= 0"))


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
