"""tf.distribute: strategy choice, TF_CONFIG checks, MirroredStrategy over two logical CPUs."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyimagesearch.cli import UserError
from pyimagesearch.distribute import Worker, parse_tf_config

ROOT = Path(__file__).resolve().parents[1]


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
    (tf_config(2, 0, "ps"), 'task type "ps" is not in its cluster'),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', '"localhost" is not host:port'),
])
def test_tf_config_errors(text, message):
    with pytest.raises(UserError) as error:
        parse_tf_config(text)
    assert message in str(error.value)


MIRRORED = textwrap.dedent("""
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, tensorflow as tf, keras
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from pyimagesearch.distribute import make_strategy
    from pyimagesearch.fashion_mnist import load_splits
    from pyimagesearch.learningratefinder import LearningRateFinder
    from pyimagesearch.lenet import build_lenet5
    from pyimagesearch.training import compile_classifier

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
