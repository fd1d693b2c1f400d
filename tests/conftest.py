"""Quiet TensorFlow and draw plots off-screen in every test process."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as core.cli.quiet_tensorflow sets it
os.environ.setdefault("MPLBACKEND", "Agg")

# With pytest-xdist (``-n auto --dist loadgroup``, pyproject.toml): each file's tests stay in one worker, so a
# module's fixtures are built once. Files that start a local Ray may run side by side: each ray.init() without an
# address starts a cluster of its own (only `ray start` writes the address that a later ray.init() would join).


def pytest_collection_modifyitems(config, items):
    import pytest

    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(str(item.path)))
