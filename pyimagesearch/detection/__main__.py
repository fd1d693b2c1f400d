"""``python -m pyimagesearch.detection ...``: see ``command.py``."""

import sys

from pyimagesearch.core.cli import run
from pyimagesearch.detection.command import main

if __name__ == "__main__":
    sys.exit(run(main))
