"""First contact: every command's --help and a short run print nothing on stderr, neither TensorFlow's start-up
lines (oneDNN, CUDA drivers, cuInit, absl::InitializeLog), TFDS's absl warnings nor tf.function retracing warnings.

The scripts run as a user runs them, in a subprocess with the environment of a fresh shell (no
TF_CPP_MIN_LOG_LEVEL), on small real Fashion-MNIST subsets and a few generated images.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.core.cli import STARTUP_LINE, quiet_tensorflow, run

ROOT = Path(__file__).resolve().parents[1]
NOISE = ("oneDNN", "cuda drivers", "cuInit", "absl::InitializeLog", "dataset_info.json", "retracing")


def user_environment(**extra) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "PYIMAGESEARCH_VERBOSE", "PYTEST_CURRENT_TEST")}
    return {**env, **extra}


def command(*argv, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, argv)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=user_environment(**env))


def test_the_filter_drops_tensorflows_loading_lines_only():
    dropped = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795804380.808965   22704 port.cc:153] oneDNN custom operations are on. You may see ...",
        "I0000 00:00:1795804380.809300   22704 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
        "E0000 00:00:1795804383.699373   22704 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)",
    ]
    kept = ["error: the training data folder does not exist", "UserWarning: something else",
            "Traceback (most recent call last):", "I0000 is not a log line"]
    assert all(STARTUP_LINE.match(line) for line in dropped)
    assert not any(STARTUP_LINE.match(line) for line in kept)


@pytest.mark.parametrize("argv, uses_tensorflow", [
    (["find_lr.py"], True), (["train_lenet.py"], True), (["transfer.py"], True), (["benchmarks/run.py"], True),
    (["-m", "pyimagesearch.architectures"], False), (["-m", "pyimagesearch.detection"], False),
    (["-m", "pyimagesearch.semisupervised", "resampling"], True),
])
def test_help_prints_only_the_help(argv, uses_tensorflow):
    result = command(*argv, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage:")
    assert result.stderr == ""
    assert ("--verbose" in result.stdout) == uses_tensorflow  # what brings TensorFlow's messages back


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("images") / "colours"
    rng = np.random.default_rng(0)
    for name, colour in {"red": (200, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 200)}.items():
        (root / name).mkdir(parents=True)
        for i in range(10):
            pixels = np.clip(rng.normal(colour, 30, (40, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name, argv", [
    ("range test", ["find_lr.py", "--limit", "2000", "--sample-size", "200", "--start-lr", "1e-4", "--end-lr", "10",
                    "--quiet"]),
    # Six fresh LeNet-5 runs of one short epoch each, two of them diverging at once: a new model per LR
    # traced its train step anew and TensorFlow warned about retracing.
    ("grid", ["find_lr.py", "--grid", "6", "--epochs", "1", "--start-lr", "1e-4", "--end-lr", "10", "--limit", "3000",
              "--quiet"]),
    ("batch growth", ["train_lenet.py", "--policy", "batch-growth", "--lr", "0.02", "--batch-start", "32",
                      "--batch-end", "128", "--epochs-per-stage", "1", "--limit", "1000"]),
    # Three feature-extraction runs that diverge in their first batch: the same for the transfer sweep.
    ("transfer sweep", ["transfer.py", "--data-dir", "{images}", "--mode", "feature", "--lr", "1,0.1,0.01",
                        "--epochs", "2", "--batch", "8", "--image-size", "32", "--weights", "none"]),
])
def test_a_short_run_prints_nothing_on_stderr(name, argv, images, tmp_path):
    argv = [arg.replace("{images}", str(images)) for arg in argv] + ["--output", tmp_path / "out"]
    result = command(*argv)
    assert result.returncode == 0, result.stderr[-2000:]
    noise = [line for line in result.stderr.splitlines() if any(word in line for word in NOISE)]
    assert not noise, noise
    assert result.stderr == ""
    assert result.stdout  # the run says what it did and where its results are


@pytest.mark.slow
def test_verbose_shows_what_tensorflow_prints():
    code = "from pyimagesearch.core.cli import quiet_tensorflow; quiet_tensorflow(); import tensorflow as tf; tf.constant(1)"
    assert command("-c", code).stderr == ""
    assert "absl::InitializeLog" in command("-c", code, PYIMAGESEARCH_VERBOSE="1").stderr


def test_offline_tfds_error_is_one_sentence_without_absl_warnings(capfd, tmp_path, monkeypatch):
    import absl.logging

    import transfer
    from pyimagesearch.transfer import data as decathlon

    quiet_tensorflow()
    absl.logging.set_verbosity(absl.logging.WARNING)  # as TensorFlow leaves it: the run must quiet it itself
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tensorflow_datasets"))
    monkeypatch.setattr(decathlon, "DOWNLOAD_HOST", ("host.invalid", 80))
    capfd.readouterr()
    assert run(transfer.main, ["--describe", "--dataset", "dtd", "--output", str(tmp_path / "out")]) == 2
    err = capfd.readouterr().err
    assert err.startswith("error: visual_domain_decathlon/dtd is not prepared in") and err.count("\n") == 1
