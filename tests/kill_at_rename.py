"""Run a script with ``os.replace``/``os.rename`` watched: record every rename, or die right before one.

    python tests/kill_at_rename.py SCRIPT [ARGS...]

``RENAME_TRACE=PATH`` appends the destination's name of every rename to PATH
(one per line). ``KILL_AT=NAME#K`` ends the process with ``os._exit(9)``
right before the K-th rename (1-based) whose destination is named NAME, as a
power cut or ``kill -9`` would: no cleanup runs.
"""

import os
import runpy
import sys

TRACE = os.environ.get("RENAME_TRACE")
NAME, _, COUNT = os.environ.get("KILL_AT", "").partition("#")
seen = {"count": 0}


def watched(original):
    def rename(source, destination, *args, **kwargs):
        name = os.path.basename(os.fspath(destination))
        if TRACE:
            with open(TRACE, "a", encoding="utf-8") as trace:
                trace.write(name + "\n")
        if name == NAME:
            seen["count"] += 1
            if seen["count"] == int(COUNT):
                os._exit(9)
        return original(source, destination, *args, **kwargs)

    return rename


os.replace = watched(os.replace)
os.rename = watched(os.rename)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
