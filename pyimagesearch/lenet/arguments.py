"""Argument types of Problem 1's commands (train_lenet.py, find_lr.py, the LR rule study), with their limits.

Every number that sizes work or memory has a stated limit, checked before
anything is allocated (``cli.bounded_int``); every LR goes through
``cli.learning_rate``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from pyimagesearch.core.cli import bounded_int, positive_int

MAX_EPOCHS = 10_000  # epochs of one run (the task's runs have 20)
MAX_BATCH = 2**20  # images per batch: a batch of LeNet-5 activations this size fills about 10 GB


def count_up_to(high: int, what: str) -> Callable[[str], int]:
    """argparse type: an integer > 0 and at most ``high`` (``cli.bounded_int``, with ``positive_int``'s message for < 1)."""
    bounded = bounded_int(1, high, what)

    def parse(text: str) -> int:
        if len(text.strip()) <= 18:
            positive_int(text)
        return bounded(text)

    parse.__name__ = "integer"
    return parse


def output_argument(text: str) -> Path:
    """argparse type of ``--output``: a folder name; an empty one (the current folder) is refused."""
    from pyimagesearch.core.run import RunFolderError, check_output_path

    try:
        return check_output_path(text)
    except RunFolderError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
