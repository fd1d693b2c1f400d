"""tf.distribute: strategy choice, TF_CONFIG checks, MirroredStrategy over two logical CPUs."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyimagesearch.core.checkpoints import ResumeError
from pyimagesearch.core.distribute import StrategyError, Worker, parse_tf_config

ROOT = Path(__file__).resolve().parents[2]


def tf_config(workers=2, index=0, task_type="worker"):
    return json.dumps({"cluster": {"worker": [f"localhost:{20000 + i}" for i in range(workers)]},
                       "task": {"type": task_type, "index": index}})


def test_tf_config_ok():
    assert parse_tf_config(tf_config(3, 2)) == Worker("worker", 2, 3)
    assert parse_tf_config(tf_config(3, 0)).is_chief and not parse_tf_config(tf_config(3, 1)).is_chief


@pytest.mark.parametrize("text, message", [
    (None, "needs the TF_CONFIG environment variable"),
    ("{cluster:", "not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', '"cluster"'),
    ('{"cluster": {"worker": ["a:1"]}}', '"task"'),
    (tf_config(2, 2), "task index 2 is out of range: cluster.worker lists 2 address(es), so the index must be 0-1"),
    (tf_config(2, -1), "index -1 is out of range"),
    (tf_config(2, "0"), 'TF_CONFIG task index "0" is not an integer; write it without quotes, as in "index": 0'),
    (tf_config(2, 0, "ps"), 'task type "ps" is not in its cluster'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', '"localhost" is not host:port'),
])
def test_tf_config_errors(text, message):
    with pytest.raises(StrategyError) as error:
        parse_tf_config(text)
    assert message in str(error.value)


MIRRORED = textwrap.dedent("""
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, tensorflow as tf, keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from pyimagesearch.core.distribute import make_strategy
    from pyimagesearch.lenet.data import load_splits
    from pyimagesearch.learningratefinder import LearningRateFinder
    from pyimagesearch.lenet.model import build_lenet5
    from pyimagesearch.core.training import compile_classifier

    mirrored, _ = make_strategy("mirrored")
    single = tf.distribute.OneDeviceStrategy("/cpu:0")
    data = load_splits(limit=1100, seed=0)
    x, y = data.x_train[:640], data.y_train[:640]

    def build(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = build_lenet5()
            compile_classifier(model, keras.optimizers.SGD(0.05, momentum=0.9))
        return model

    def train(strategy):
        model = build(strategy)
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(64), epochs=2, verbose=0)
        return model.get_weights()

    def finder(strategy):
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
        return LearningRateFinder(build(strategy)).find(dataset, 1e-4, 1.0, epochs=2, verbose=0).raw_losses

    weights = [train(s) for s in (single, mirrored)]
    losses = [finder(s) for s in (single, mirrored)]
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(*weights)),
        "weight_change": max(float(np.max(np.abs(a - b))) for a, b in zip(weights[0], build(single).get_weights())),
        "finder_batches": [len(l) for l in losses],
        "finder_diff": float(np.max(np.abs(np.array(losses[0]) - np.array(losses[1])))),
    }))
""")


def test_mirrored_over_two_logical_cpus_matches_one_device():
    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["weight_change"] > 1e-2
    assert report["weight_diff"] < 1e-4
    assert report["finder_batches"] == [20, 20]
    assert report["finder_diff"] < 1e-4


# --- train_lenet.py under a strategy, and resumed after SIGKILL ---------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import train_lenet  # noqa: E402
from pyimagesearch.core.cli import run  # noqa: E402
from pyimagesearch.core.outputs import read_csv  # noqa: E402

TRAIN = [sys.executable, str(ROOT / "train_lenet.py"), "--quiet"]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def model_weights(path):
    import keras

    return keras.models.load_model(path, compile=False).get_weights()


MULTIWORKER = TRAIN + ["--policy", "fixed", "--lr", "0.05", "--limit", "1500", "--epochs", "3", "--batch", "32",
                       "--strategy", "multiworker"]
WALL_CLOCK = {"time_s", "train_time_s"}


def start_workers(out, ports, kill_worker_1_at=""):
    """Both workers of a loopback cluster, as processes; worker 1 dies right before a rename if asked."""
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                                      "task": {"type": "worker", "index": index}}),
               "KILL_AT": kill_worker_1_at if index == 1 else ""}
        command = [sys.executable, str(ROOT / "tests" / "kill_at_rename.py"), *MULTIWORKER[1:], "--output", str(out)]
        workers.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))
    return [(worker, *worker.communicate(timeout=900)) for worker in workers]


def run_results(folder):
    history = [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in read_csv(folder / "history.csv")]
    metrics = {k: v for k, v in json.loads((folder / "metrics.json").read_text()).items() if k not in WALL_CLOCK}
    return history, metrics


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("mw")
    return out, start_workers(out, free_ports(2))


@pytest.mark.slow
def test_two_workers_on_loopback_finish_with_identical_weights(two_workers):
    out, results = two_workers
    for worker, _, stderr in results:
        assert worker.returncode == 0, stderr[-2000:]
    chief, other = model_weights(out / "model.keras"), model_weights(out / "worker-1" / "model.keras")
    for a, b in zip(chief, other, strict=True):
        np.testing.assert_array_equal(a, b)
    config = json.loads((out / "config.json").read_text())["distribution"]
    assert config["replicas"] == 2 and config["global_batch"] == 64 and config["workers"] == 2
    history = read_csv(out / "history.csv")
    # 1,350 training images in full global batches of 64: 21 steps per epoch.
    assert [int(row["iterations"]) for row in history] == [21, 42, 63]


@pytest.mark.slow
def test_a_worker_killed_between_checkpoints_stops_its_peer_and_both_resume_together(two_workers, tmp_path):
    ports = free_ports(2)
    out = tmp_path / "mw"
    # Worker 1 dies with epoch 2's checkpoint written but not yet in place: it holds epoch 1, the chief epoch 2.
    (chief, _, chief_err), (worker_1, _, _) = start_workers(out, ports, kill_worker_1_at="epoch-0002#1")
    assert worker_1.returncode == 9
    assert chief.returncode == 2 and "Traceback" not in chief_err, chief_err[-2000:]
    assert chief_err.strip().splitlines()[-1] == ("error: worker 1 stopped responding; start every worker again with "
                                                  "the same command to resume")
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == ["epoch-0001", "epoch-0002"]
    assert sorted(p.name for p in (out / "worker-1" / "checkpoint").iterdir()) == [".epoch-0002.partial", "epoch-0001"]

    restarted = start_workers(out, ports)
    for worker, _, stderr in restarted:
        assert worker.returncode == 0, stderr[-2000:]
    for folder in (out, out / "worker-1"):
        assert "resuming after epoch 1" in (folder / "log.txt").read_text()
        assert not (folder / "checkpoint").exists()
    assert run_results(out) == run_results(two_workers[0])
    for a, b in zip(model_weights(out / "model.keras"), model_weights(two_workers[0] / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


def train_command(out):
    return TRAIN + ["--policy", "clr", "--lr-min", "0.001", "--lr-max", "0.05", "--step-size", "1", "--limit", "6000",
                    "--epochs", "6", "--output", str(out)]


def test_killed_run_resumes_after_its_last_epoch(tmp_path):
    out = tmp_path / "killed"
    process = subprocess.Popen(train_command(out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = out / "checkpoint"
    deadline = time.time() + 300
    while not list(checkpoints.glob("epoch-*")) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = max(int(path.name.split("-")[1]) for path in checkpoints.glob("epoch-*"))
    assert 1 <= done < 6 and not (out / "metrics.json").exists()

    resumed = subprocess.run(train_command(out), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming after epoch {done}" in (out / "log.txt").read_text()
    uninterrupted = subprocess.run(train_command(tmp_path / "whole"), cwd=ROOT, capture_output=True, text=True,
                                   timeout=600)
    assert uninterrupted.returncode == 0
    a = json.loads((out / "metrics.json").read_text())
    b = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert a["epochs"] == b["epochs"] == 6
    assert a["optimizer_steps"] == b["optimizer_steps"] == 6 * 85
    assert [int(r["epoch"]) for r in read_csv(out / "history.csv")] == [1, 2, 3, 4, 5, 6]
    # Every epoch's batches depend on (seed, epoch) only: the resumed run is the uninterrupted one.
    assert (a["final_train_loss"], a["test_accuracy"]) == (b["final_train_loss"], b["test_accuracy"])
    assert not (out / "checkpoint").exists()


def test_checkpoint_of_other_settings_is_not_resumed(tmp_path, capsys):
    from pyimagesearch.core.checkpoints import RunCheckpoint

    folder = RunCheckpoint(tmp_path, {"lr": 0.1}).path(1)
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"")
    (folder / "state.json").write_text(json.dumps({"epochs_done": 1, "history": [], "iterations": 3,
                                                   "model_sha256": "", "key": {"lr": 0.2}}))
    with pytest.raises(ResumeError, match=r"unfinished run with other settings \(lr\); pass --no-resume"):
        RunCheckpoint(tmp_path, {"lr": 0.1}).find()


@pytest.mark.parametrize("strategy, tf_config, message", [
    ("multiworker", "{not json", "TF_CONFIG is not valid JSON"),
    ("multiworker", tf_config(2, 5), "task index 5 is out of range"),
    ("mirrored", None, "--strategy mirrored needs at least one GPU and TensorFlow sees none"),
])
def test_strategy_errors_are_one_sentence(strategy, tf_config, message, tmp_path, monkeypatch, capsys):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    status = run(train_lenet.main, ["--policy", "fixed", "--lr", "0.01", "--limit", "500", "--epochs", "1",
                                    "--strategy", strategy, "--output", str(tmp_path)])
    assert status == 2 and message in capsys.readouterr().err
