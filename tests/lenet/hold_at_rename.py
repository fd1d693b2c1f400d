"""Run a script that waits, right before its first rename onto a given name, until a file exists.

    HOLD_AT=NAME HOLD_UNTIL=PATH python tests/lenet/hold_at_rename.py SCRIPT [ARGS...]

So a test can start a second process while the first is known to hold its
results folder (it has taken the lock and written its config.json).
"""

import os
import runpy
import sys
import time

NAME, UNTIL = os.environ.get("HOLD_AT", ""), os.environ.get("HOLD_UNTIL", "")
held = {"done": False}


def watched(original):
    def rename(source, destination, *args, **kwargs):
        if not held["done"] and os.path.basename(os.fspath(destination)) == NAME:
            held["done"] = True
            deadline = time.monotonic() + 600
            while not os.path.exists(UNTIL) and time.monotonic() < deadline:
                time.sleep(0.1)
        return original(source, destination, *args, **kwargs)

    return rename


os.replace = watched(os.replace)
os.rename = watched(os.rename)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
