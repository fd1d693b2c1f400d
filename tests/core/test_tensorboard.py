"""--tensorboard: event files that TensorBoard reads, with the epoch metrics and the LR of every optimizer step."""

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.outputs import read_csv
from pyimagesearch.core.tensorboard import STEP_LR_TAG


def read_scalars(log_dir: Path) -> dict[tuple[str, str], dict[int, float]]:
    """{(run folder, tag): {step: value}} from every event file under ``log_dir``, read back as TensorBoard would."""
    import tensorflow as tf

    scalars = defaultdict(dict)
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalars[path.parent.name, value.tag][event.step] = float(tf.make_ndarray(value.tensor))
    return dict(scalars)


def reference_exp_range(t, lr_min, lr_max, step_size, gamma):
    """exp_range as a wave: the position in the cycle gives the triangle, gamma**t its height."""
    triangle = 1.0 - np.abs(2.0 * ((t / (2.0 * step_size)) % 1.0) - 1.0)
    return lr_min + (lr_max - lr_min) * triangle * gamma**t


def test_train_lenet_writes_epoch_metrics_and_the_lr_of_every_step(tmp_path):
    import train_lenet

    folder = tmp_path / "clr"
    argv = ["--policy", "clr", "--mode", "exp_range", "--lr-min", "0.004", "--lr-max", "0.04", "--step-size", "1",
            "--gamma", "0.99", "--epochs", "2", "--limit", "1000", "--tensorboard", "--quiet", "--output", str(folder)]
    assert run(train_lenet.main, argv) == 0
    history = read_csv(folder / "history.csv")
    scalars = read_scalars(folder / "tensorboard")

    for run_folder, prefix in (("train", ""), ("validation", "val_")):
        for metric in ("loss", "accuracy"):
            logged = scalars[run_folder, f"epoch_{metric}"]
            assert sorted(logged) == [0, 1]
            assert [logged[e] for e in (0, 1)] == pytest.approx([float(row[prefix + metric]) for row in history], rel=1e-6)
    # 900 training images at batch 64: 15 steps per epoch, the step size of 1 epoch is 15 iterations.
    steps = int(history[-1]["iterations"])
    assert steps == 30
    per_step = scalars["train", STEP_LR_TAG]
    assert sorted(per_step) == list(range(steps))
    expected = reference_exp_range(np.arange(steps), 0.004, 0.04, 15, 0.99)
    np.testing.assert_allclose([per_step[t] for t in range(steps)], expected, rtol=1e-5)
    assert max(per_step.values()) == pytest.approx(0.004 + 0.036 * 0.99**15, rel=1e-5)  # the first peak, below lr_max


def test_transfer_logs_the_lr_of_each_epoch_at_every_step(tmp_path):
    from PIL import Image

    import transfer

    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(8):
            Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8)).save(tmp_path / "images" / name / f"{i}.png")
    argv = ["--data-dir", str(tmp_path / "images"), "--mode", "feature", "--lr", "1e-5", "--epochs", "3",
            "--milestones", "1,2", "--batch", "4", "--image-size", "32", "--weights", "none", "--tensorboard",
            "--output", str(tmp_path / "out")]
    assert run(transfer.main, argv) == 0
    scalars = read_scalars(tmp_path / "out" / "images" / "feature_lr1e-05" / "tensorboard")
    # 12 training images at batch 4: 3 steps per epoch; the LR drops tenfold after epochs 1 and 2.
    per_step = scalars["train", STEP_LR_TAG]
    assert sorted(per_step) == list(range(9))
    np.testing.assert_allclose([per_step[t] for t in range(9)], np.repeat([1e-5, 1e-6, 1e-7], 3), rtol=1e-6)
    assert sorted(scalars["validation", "epoch_accuracy"]) == [0, 1, 2]
