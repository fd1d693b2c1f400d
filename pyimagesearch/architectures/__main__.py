"""``python -m pyimagesearch.architectures ...``: see ``command.py``."""

import sys

from pyimagesearch.core.cli import run
from pyimagesearch.architectures.command import main

if __name__ == "__main__":
    sys.exit(run(main))
