"""Quiet TensorFlow and draw plots off-screen in every test process."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as core.cli.quiet_tensorflow sets it
os.environ.setdefault("MPLBACKEND", "Agg")
