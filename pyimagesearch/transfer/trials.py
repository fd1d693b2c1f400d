"""The transfer sweep's runs as ``core.sweep`` trials: ``transfer.py --executor ray``.

Each (mode, LR) run not yet finished is one ``Trial`` whose settings hold,
plainly, all the run needs: the mode and LR, the sweep's ``TransferSettings``,
where the target's images come from (``targets.load_target``'s arguments)
and the flags that shape its files. ``run_trial`` loads the target, builds
the run's models and calls ``run.train_run``, the function the serial sweep
calls, into the same folder: its lock, settings check, seeds, checkpoints
and exact resume are the run's own, so a trial whose worker died resumes
where it stopped, and the numbers are those of the serial sweep (at equal
TensorFlow thread counts). The serial sweep lends one model per mode and one
feature cache to all its runs; a trial builds its own, from the same seed.

The process that holds the data set folder writes the description before the
trials and summary.md and complete.json after them; each trial's progress lines
go to ``<data set folder>/logs/<run>.log``, and one line per trial to transfer.log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from pyimagesearch.core.sweep import Trial, run_trials
from pyimagesearch.transfer.settings import TransferSettings, run_name

LOG_FOLDER = "logs"


def sweep_trials(runs: Sequence[tuple[str, float, Path]], settings: TransferSettings, target: Mapping[str, Any],
                 config: Mapping[str, Any], *, strategy: str = "auto", save_weights: bool = False,
                 tensorboard: bool = False, verbose: bool = False) -> list[Trial]:
    """One trial per (mode, LR, run folder) of ``runs``; ``target``: ``targets.load_target``'s keyword arguments."""
    return [Trial(run_dir.name, run_dir, {
        "mode": mode, "lr": lr, "settings": settings.as_dict(), "target": dict(target),
        "config": {**config, "mode": mode, "lr": lr, "resolved": settings.as_dict()}, "strategy": strategy,
        "save_weights": save_weights, "tensorboard": tensorboard, "verbose": verbose,
    }) for mode, lr, run_dir in runs]


def run_sweep_trials(trials: Sequence[Trial], args, folder: Path, say: Callable[[str], None]) -> None:
    """Run ``trials`` on ``args.executor`` (``core.sweep.run_trials``); Ray's own records in ``folder/ray_tune``."""
    run_trials(trials, run_trial, args, name=f"transfer-{Path(folder).name}", storage=Path(folder) / "ray_tune",
               log=say)


def run_trial(trial: Trial) -> None:
    """One run of the sweep in a process of its own: the target loaded, then ``run.train_run`` into its folder."""
    from pyimagesearch.core.cli import quiet_tensorflow

    options = trial.settings
    quiet_tensorflow(options["verbose"])
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.transfer import targets
    from pyimagesearch.transfer.features import FeatureExtractor
    from pyimagesearch.transfer.run import train_run

    settings = TransferSettings(**{**options["settings"], "milestones": tuple(options["settings"]["milestones"])})
    mode, lr, run_dir = options["mode"], options["lr"], Path(trial.folder)
    log_path = run_dir.parent / LOG_FOLDER / f"{run_name(mode, lr)}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    say = RunLog(log_path, echo=False, append=True)
    image_set = targets.load_target(**options["target"])
    extractor = None
    if mode == "feature":
        extractor = FeatureExtractor(image_set, settings.image_size, settings.batch_size, settings.augment,
                                     settings.seed)
    distribution = Distribution.create(options["strategy"]) if mode == "finetune" else None
    say(f"{run_dir.name}: training {settings.epochs} epochs on {image_set.size('train'):,} images")
    train_run(image_set, mode, lr, settings, run_dir, say, extractor, options["save_weights"], progress=False,
              distribution=distribution, config=options["config"], tensorboard=options["tensorboard"])
