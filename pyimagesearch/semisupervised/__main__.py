"""``python -m pyimagesearch.semisupervised {teacher-student,label-noise,resampling}``: see ``command.py``."""

import sys

from pyimagesearch.core.cli import run
from pyimagesearch.semisupervised.command import main

if __name__ == "__main__":
    sys.exit(run(main))
