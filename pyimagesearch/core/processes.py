"""Child processes that end with the process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
from typing import Sequence

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a child, before ``exec``: ask Linux to send SIGKILL when the parent dies (also by SIGKILL).

    A no-op where ``prctl`` is not available (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def start_child(command: Sequence[str], **options) -> subprocess.Popen:
    """``subprocess.Popen(command)`` for a child that is killed when this process dies, however it dies."""
    return subprocess.Popen(list(command), preexec_fn=die_with_parent, **options)
