"""Problem 3's records: one transfer-learning run (``<dataset>/<mode>_lr<lr>/metrics.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import ACCURACY, COUNT, LR, NONNEGATIVE, POSITIVE_COUNT, SECONDS, Record, one_of


@dataclass(frozen=True)
class TransferRun(Record):
    """A finished (mode, LR) run of a transfer sweep; a diverged run keeps the epochs it trained."""

    KIND = "transfer-run"
    FILE = "metrics.json"

    mode: str = field(metadata=one_of("finetune", "feature"))
    lr: float = field(metadata=LR)
    best_val_accuracy: float | None = field(metadata=ACCURACY)
    best_epoch: int = field(metadata=COUNT)
    final_val_accuracy: float | None = field(metadata=ACCURACY)
    final_val_loss: float | None = field(metadata=NONNEGATIVE)
    final_accuracy: float | None = field(metadata=ACCURACY)
    epochs: int = field(metadata=COUNT)
    wall_seconds: float = field(metadata=SECONDS)
    seconds_per_epoch: float | None = field(metadata=SECONDS)
    steps_per_epoch: int = field(metadata=POSITIVE_COUNT)
    train_images: int = field(metadata=POSITIVE_COUNT)
    val_images: int = field(metadata=POSITIVE_COUNT)
    feature_cache: str | None = field(metadata=one_of("once", "per epoch"))
    feature_seconds: float | None = field(metadata=SECONDS)
    diverged: str | None
    settings: dict

    def check(self) -> str | None:
        if not self.diverged and None in (self.best_val_accuracy, self.final_val_accuracy, self.final_val_loss):
            return "has no validation accuracy or loss, though the run did not diverge"
        return None
