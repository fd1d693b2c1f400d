"""What defines a transfer-learning run besides its mode and LR: settings, milestones, weights, precision.

Bad values raise ``ValueError`` with Keras-style messages ("Argument
`milestones` must ... Received: milestones=[2, 4]"); transfer.py turns them
into its one-sentence error.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import keras

from pyimagesearch.lr_policies import default_milestones

MODES = ("finetune", "feature")
MODE_NAMES = {"finetune": "fine-tuning", "feature": "feature extraction"}
# The learning rates the task compares: all layers fine-tuned, and only the new last layer trained.
TASK_LRS = {"finetune": (0.1, 0.01, 0.001), "feature": (1.0, 0.1, 0.01, 0.001)}
TASK_EPOCHS = 50  # the task trains 50-60 epochs; fewer make a quick (stand-in) sweep
IMAGENET_NOTOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"  # Keras' file, also passed as a PATH


def run_name(mode: str, lr: float) -> str:
    """Folder of one run: ``finetune_lr0.001``, ``feature_lr1e-05``."""
    return f"{mode}_lr{lr:g}"


def resolve_milestones(epochs: int, milestones: Sequence[int] | None = None) -> list[int]:
    """The epochs at which the LR drops, checked against ``epochs``.

    Without ``milestones``: ``default_milestones(epochs)`` (1/4, 1/2 and 3/4 of
    the epochs), keeping only distinct values in 1..epochs-1, so fewer than
    three drops when ``epochs`` < 4. Given milestones must be strictly
    increasing and inside 1..epochs-1 (a drop at epoch 0 or at or after the
    last epoch would never shape the training).
    """
    if milestones is None:
        return sorted({m for m in default_milestones(epochs) if 1 <= m <= epochs - 1})
    milestones = list(milestones)
    outside = [m for m in milestones if not 1 <= m <= epochs - 1]
    if outside:
        raise ValueError(
            f"Argument `milestones` must each be between 1 and epochs - 1 = {epochs - 1} (the 0-based epoch at which "
            f"the LR drops), and {outside[0]} is not. Received: milestones={milestones}, epochs={epochs}"
        )
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise ValueError(f"Argument `milestones` must be strictly increasing. Received: milestones={milestones}")
    return milestones


def check_weights(weights: str) -> str:
    """``"imagenet"``, ``"none"`` or the absolute path of an existing weights file."""
    if weights in ("imagenet", "none"):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(f"Argument `weights` must be imagenet, none or a ResNet50 notop weights file, and the file "
                         f"{path} does not exist. Received: weights={weights!r}")
    return str(path.resolve())


def quick_reasons(settings: "TransferSettings", finished: set[tuple[str, float]]) -> list[str]:
    """Why a finished sweep is not the task's full answer (empty when it is).

    The task's answer is the seven runs of ``TASK_LRS`` (both modes) trained
    for at least ``TASK_EPOCHS`` epochs from ImageNet's weights, or from the
    stand-in's base pretrained at its full settings; ``finished`` holds the
    (mode, LR) of the sweep's finished runs.
    """
    from pyimagesearch.transfer.pretrain import pretraining_of

    reasons = []
    standin = pretraining_of(settings.weights)
    if standin is not None:  # the offline stand-in's base, which every output names: full once it is fully pretrained
        if standin.quick:
            reasons.append("the stand-in base's quick pretraining on Fashion-MNIST")
    elif settings.weights != "imagenet" and Path(settings.weights).name != IMAGENET_NOTOP_FILE:
        reasons.append(f"weights {settings.weights}, not ImageNet's")
    if settings.epochs < TASK_EPOCHS:
        reasons.append(f"{settings.epochs} epochs, fewer than the task's {TASK_EPOCHS}")
    missing = [run_name(mode, lr) for mode in MODES for lr in TASK_LRS[mode] if (mode, lr) not in finished]
    if missing:
        reasons.append(f"the task's runs {', '.join(missing)} not trained")
    return reasons


def dtype_policy_name(mixed_precision: bool) -> str:
    """``float32``, or with mixed precision ``mixed_float16`` on a GPU and ``mixed_bfloat16`` on a CPU.

    CPUs have no fast float16 arithmetic; bfloat16 keeps float32's exponent
    range, so it also needs no loss scaling.
    """
    if not mixed_precision:
        return "float32"
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextmanager
def dtype_policy(name: str):
    """Build layers under the Keras dtype policy ``name``, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@dataclass(frozen=True)
class TransferSettings:
    """Everything besides mode and LR that defines a run; a kept run must match it.

    ``bn_images``: training images whose batch statistics replace the
    BatchNorm statistics of a fine-tuning run before each evaluation
    (``batchnorm.BatchNormRefresh``); 0 keeps the moving averages.
    """

    data: str
    epochs: int
    milestones: tuple[int, ...]
    gamma: float
    batch_size: int
    image_size: int
    augment: str
    weights: str
    dtype_policy: str
    seed: int
    bn_images: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "milestones": list(self.milestones)}
