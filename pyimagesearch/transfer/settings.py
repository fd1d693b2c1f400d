"""What defines a transfer-learning run besides its mode and LR: settings, milestones, weights, precision."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import keras

from pyimagesearch.core.cli import UserError
from pyimagesearch.lr_policies import default_milestones

MODES = ("finetune", "feature")
MODE_NAMES = {"finetune": "fine-tuning", "feature": "feature extraction"}
# The learning rates the task compares: all layers fine-tuned, and only the new last layer trained.
TASK_LRS = {"finetune": (0.1, 0.01, 0.001), "feature": (1.0, 0.1, 0.01, 0.001)}


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
        raise UserError(
            f"--milestones {outside[0]} is outside the epochs: each milestone must be between 1 and "
            f"epochs - 1 = {epochs - 1} (the 0-based epoch at which the LR drops)"
        )
    if any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise UserError(f"--milestones {','.join(map(str, milestones))} must be strictly increasing")
    return milestones


def check_weights(weights: str) -> str:
    """``"imagenet"``, ``"none"`` or the absolute path of an existing weights file."""
    if weights in ("imagenet", "none"):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise UserError(f"weights file {path} does not exist; pass a ResNet50 notop weights file, imagenet or none to --weights")
    return str(path.resolve())


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
    """Everything besides mode and LR that defines a run; a kept run must match it."""

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

    def as_dict(self) -> dict:
        return {**asdict(self), "milestones": list(self.milestones)}
