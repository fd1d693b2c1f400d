"""Quiet TensorFlow and draw plots off-screen in every test process."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as core.cli.quiet_tensorflow sets it
os.environ.setdefault("MPLBACKEND", "Agg")

# With pytest-xdist (``-n 2 --dist loadgroup``): each file's tests stay in one worker, so a module's
# fixtures are built once, and the files that start a local Ray share one worker, one Ray at a time.
RAY_FILES = {"test_sweep_ray.py", "test_executor.py", "test_semisupervised_ray.py", "test_transfer_ray.py"}


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = "ray" if item.path.name in RAY_FILES else str(item.path)
            item.add_marker(pytest.mark.xdist_group(group))
