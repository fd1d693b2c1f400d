"""Benchmark steps 8 and 9: the offline stand-in of Problem 3 on its real base.

8. ``precision``: ResNet50 pretrained on Fashion-MNIST (``transfer.pretrain``,
   32x32, batch 64) in float32 against ``mixed_bfloat16`` (what
   ``--mixed-precision`` sets on a CPU): training images per second, the
   pretraining record's own figure (an epoch with its validation pass, the
   epochs after the first), and the held-out accuracy each reaches, per round,
   the two dtypes alternating. A small pretraining (quick: 1,000 images, else
   3,000; 2 epochs), the same images and seed for both.
9. ``standin_transfer``: ``transfer.py --dataset digits --mode both --lr 0.01``
   on the float32 base of step 8 (a real pretraining, small), as a user runs
   it: the epoch time of feature extraction (a Dense layer on the cached
   features) against fine-tuning (every layer, with its BatchNorm
   re-estimation), each the median of the run's epochs after the first.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from pyimagesearch.records.benchmark import PretrainPrecision, Spread, StandinTransfer

ROOT = Path(__file__).resolve().parents[1]
STANDIN_STEPS = ("precision", "standin_transfer")
DTYPES = ("float32", "mixed_bfloat16")


def pretrain_settings(quick: bool, dtype: str):
    from pyimagesearch.transfer.pretrain import PretrainSettings

    images = 1_000 if quick else 3_000
    return PretrainSettings(train_images=images, val_images=500, test_images=500, epochs=2, lr=0.003,
                            milestones=(1,), dtype_policy=dtype)


def pretrain(quick: bool, dtype: str, folder: Path):
    """A pretraining into ``folder``; its ``Pretraining`` record and the base file."""
    from pyimagesearch.records.standin import Pretraining
    from pyimagesearch.transfer.pretrain import pretrain_folder, pretrained_base_weights

    settings = pretrain_settings(quick, dtype)
    base = pretrained_base_weights(settings, folder, say=lambda line: None)
    return Pretraining.read(pretrain_folder(settings, folder)), base


def bench_precision(quick: bool, rounds: int, bases: dict) -> PretrainPrecision:
    images_per_second: dict[str, list[float]] = {dtype: [] for dtype in DTYPES}
    accuracy: dict[str, list[float]] = {dtype: [] for dtype in DTYPES}
    for index in range(rounds):
        for dtype in DTYPES if index % 2 == 0 else DTYPES[::-1]:
            folder = Path(tempfile.mkdtemp(prefix=f"pretrain-{dtype}-"))
            record, base = pretrain(quick, dtype, folder)
            images_per_second[dtype].append(record.images_per_second)
            accuracy[dtype].append(record.val_accuracy)
            if dtype == "float32" and "float32" not in bases:
                bases["float32"] = base  # step 9 trains on it
            else:
                shutil.rmtree(folder, ignore_errors=True)  # a pretrained model and its checkpoints: about 200 MB
    ratios = [b / f for f, b in zip(images_per_second["float32"], images_per_second["mixed_bfloat16"])]
    return PretrainPrecision(
        train_images=pretrain_settings(quick, "float32").train_images, epochs=2, rounds=rounds,
        images_per_second=images_per_second, val_accuracy=accuracy,
        float32_ips=statistics.median(images_per_second["float32"]),
        bfloat16_ips=statistics.median(images_per_second["mixed_bfloat16"]),
        bfloat16_ratio=statistics.median(ratios),
        bfloat16_ratio_spread=Spread(min=min(ratios), median=statistics.median(ratios), max=max(ratios)),
    )


def bench_standin_transfer(quick: bool, bases: dict) -> StandinTransfer:
    from pyimagesearch.records.transfer import TransferRun

    base = bases.get("float32") or pretrain(quick, "float32", Path(tempfile.mkdtemp(prefix="pretrain-")))[1]
    out = Path(tempfile.mkdtemp(prefix="standin-"))
    epochs = 3 if quick else 5
    argv = ["--dataset", "digits", "--weights", str(base), "--image-size", "32", "--mode", "both", "--lr", "0.01",
            "--epochs", str(epochs), "--output", str(out)]
    result = subprocess.run([sys.executable, "transfer.py", *argv], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"transfer.py {' '.join(argv)} exited {result.returncode}: {result.stderr[-2000:]}")
    runs = {mode: TransferRun.read(out / "digits" / f"{mode}_lr0.01") for mode in ("feature", "finetune")}
    seconds = {mode: [float(row["seconds"]) for row in _history(out / "digits" / f"{mode}_lr0.01")][1:]
               for mode in runs}
    feature, finetune = statistics.median(seconds["feature"]), statistics.median(seconds["finetune"])
    return StandinTransfer(epochs=epochs, train_images=runs["finetune"].train_images, image_size=32,
                           epoch_seconds=seconds, feature_epoch_s=feature, finetune_epoch_s=finetune,
                           speedup=finetune / feature, feature_seconds=runs["feature"].feature_seconds or 0.0)


def _history(run_dir: Path) -> list[dict]:
    from pyimagesearch.core.history import read_history

    return read_history(run_dir / "history.csv")


def steps(quick: bool, rounds: int) -> dict[str, Callable]:
    bases: dict = {}  # the float32 base of step 8, for step 9
    return {"precision": lambda: bench_precision(quick, min(rounds, 2 if quick else 3), bases),
            "standin_transfer": lambda: bench_standin_transfer(quick, bases)}


def markdown_lines(results) -> list[str]:
    """The stand-in's tables, for the steps that ran; no lines when none did."""
    lines = []
    p, t = results.precision, results.standin_transfer
    if p is not None:
        spread = " / ".join(f"{v:.2f}" for v in (p.bfloat16_ratio_spread.min, p.bfloat16_ratio_spread.median,
                                                    p.bfloat16_ratio_spread.max))
        accuracy = {dtype: statistics.median(values) for dtype, values in p.val_accuracy.items()}
        lines += ["", "| stand-in pretraining (ResNet50 on Fashion-MNIST, 32x32, batch 64) | float32 | mixed_bfloat16 "
                      "| bfloat16 / float32 | spread of the ratio |", "| --- | ---: | ---: | ---: | ---: |",
                  f"| training images/s, {p.train_images:,} images, {p.epochs} epochs ({p.rounds} rounds) | "
                  f"{p.float32_ips:.1f} | {p.bfloat16_ips:.1f} | {p.bfloat16_ratio:.2f} | {spread} |",
                  f"| held-out accuracy after the pretraining (median) | {100 * accuracy['float32']:.1f}% | "
                  f"{100 * accuracy['mixed_bfloat16']:.1f}% | | |"]
    if t is not None:
        lines += ["", "| stand-in transfer (digits, the float32 base above) | feature extraction | fine-tuning | "
                      "fine-tuning / feature |", "| --- | ---: | ---: | ---: |",
                  f"| epoch after the first, s ({t.train_images:,} images, {t.image_size} px, {t.epochs} epochs) | "
                  f"{t.feature_epoch_s:.3f} | {t.finetune_epoch_s:.2f} | {t.speedup:.0f}x |",
                  "", f"Feature extraction computed the base's features once, in {t.feature_seconds:.1f} s, before "
                      "its first epoch."]
    return lines
