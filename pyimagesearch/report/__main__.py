"""``python -m pyimagesearch.report ...``: see ``command.py``."""

import sys

from pyimagesearch.core.cli import run
from pyimagesearch.report.command import main

if __name__ == "__main__":
    sys.exit(run(main))
