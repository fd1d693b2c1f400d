"""``python -m pyimagesearch.architectures ...``: see ``command.py``."""

import sys

from ..cli import run
from .command import main

if __name__ == "__main__":
    sys.exit(run(main))
