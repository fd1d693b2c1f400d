"""An LR sweep of transfer-learning runs that keeps the runs already finished."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Mapping, Sequence

from pyimagesearch.core.cli import UserError
from pyimagesearch.core.outputs import read_json
from pyimagesearch.transfer.features import FeatureExtractor
from pyimagesearch.transfer.models import ModelPool
from pyimagesearch.transfer.run import train_run
from pyimagesearch.transfer.settings import TransferSettings, run_name
from pyimagesearch.transfer.summary import percent


def finished_run(run_dir: Path, settings: TransferSettings) -> dict | None:
    """The metrics of a finished run in ``run_dir`` made with ``settings``, or None if unfinished.

    A finished run made with other settings raises ``UserError``: keeping it
    would mix different experiments in one summary.
    """
    path = Path(run_dir) / "metrics.json"
    if not path.exists():
        return None
    metrics = read_json(path, "metrics file")
    kept = metrics.get("settings", {})
    differences = [f"{key} {kept.get(key)!r} vs {value!r}" for key, value in settings.as_dict().items() if kept.get(key) != value]
    if differences:
        raise UserError(
            f"{run_dir} holds a finished run made with other settings ({'; '.join(differences)}); "
            "pass --overwrite to replace it or --output to train elsewhere"
        )
    return metrics


def sweep(image_set, modes: Sequence[str], lrs: Sequence[float] | Mapping[str, Sequence[float]], settings: TransferSettings,
          folder: Path,
          say: Callable[[str], None], config: dict, overwrite: bool = False, save_weights: bool = False,
          progress: bool = False, distribution=None, tensorboard: bool = False) -> list[dict]:
    """Train every (mode, LR) run not yet finished; return the metrics of all of them.

    ``lrs`` is one list for every mode, or a list per mode.

    Finished runs are checked first (``finished_run``), so a mismatch stops
    the sweep before any training; an unfinished fine-tuning run resumes
    from its last checkpoint. Feature-extraction runs share one frozen base
    (and, without augmentation, its cached features); the runs of a mode
    share its models, restored before each (``models.ModelPool``).
    ``distribution`` (a ``core.distribute.Distribution``) is how fine-tuning trains.
    ``tensorboard``: every run trained also writes TensorBoard logs into its folder.
    """
    lrs_of = lrs if isinstance(lrs, Mapping) else {mode: lrs for mode in modes}
    runs = [(mode, lr, Path(folder) / run_name(mode, lr)) for mode in modes for lr in lrs_of[mode]]
    kept = {} if overwrite else {run_dir.name: finished_run(run_dir, settings) for _, _, run_dir in runs}
    results, extractor, pool = [], None, ModelPool()
    for mode, lr, run_dir in runs:
        if kept.get(run_dir.name):
            metrics = kept[run_dir.name]
            say(f"{run_dir.name} finished earlier (final val accuracy {percent(metrics['final_val_accuracy'])}); "
                "kept, --overwrite runs it again")
            results.append(metrics)
            shutil.rmtree(run_dir / "checkpoint", ignore_errors=True)  # left by a run killed as it finished
            continue
        if mode == "feature" and extractor is None:
            extractor = FeatureExtractor(image_set, settings.image_size, settings.batch_size, settings.augment,
                                         settings.seed, progress)
        say(f"{run_dir.name}: training {settings.epochs} epochs on {image_set.size('train'):,} images")
        results.append(train_run(image_set, mode, lr, settings, run_dir, say, extractor if mode == "feature" else None,
                                 save_weights, progress, distribution=distribution,
                                 config={**config, "mode": mode, "lr": lr, "resolved": settings.as_dict()},
                                 overwrite=overwrite, tensorboard=tensorboard, pool=pool))
    return results
