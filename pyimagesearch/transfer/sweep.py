"""An LR sweep of transfer-learning runs in one data set folder, which keeps the runs already finished.

``run_sweep`` owns the data set folder through ``core.run.RunFolder``: one
process at a time (a second stops at once, naming the first), the settings
it was made with (``TransferSettings``; other settings are refused, and only
``overwrite`` deletes), seeds set before any checkpoint is looked up, and
complete.json written last, once every run in the folder is finished, saying
whether the sweep is quick or the task's full one (``settings.quick_reasons``).
A finished folder asked for runs it holds is left byte for byte as it is;
asked for more, it is reopened, and finished again when they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from pyimagesearch.core.run import CONFIG_NAME, LOCK_NAME, RunFolder, RunFolderError
from pyimagesearch.records.transfer import TransferRun
from pyimagesearch.transfer.features import FeatureExtractor
from pyimagesearch.transfer.models import ModelPool
from pyimagesearch.transfer.run import train_run
from pyimagesearch.transfer.settings import TransferSettings, quick_reasons, run_name
from pyimagesearch.transfer.summary import load_finished_runs, percent, write_summary

KIND = "transfer-sweep"  # the kind of the data set folder's completion record


def finished_run(run_dir: Path, settings: TransferSettings) -> TransferRun | None:
    """The record of a finished run in ``run_dir`` made with ``settings``, or None if unfinished.

    A metrics.json that fails validation raises ``RecordError``; a finished
    run made with other settings raises ``RunFolderError`` (a folder of runs
    written before the sweep's folder recorded its settings): keeping it
    would mix different experiments in one summary.
    """
    path = Path(run_dir) / TransferRun.FILE
    if not path.exists():
        return None
    metrics = TransferRun.read(path)
    kept = metrics.settings
    differences = [f"{key} {kept.get(key)!r} vs {value!r}" for key, value in settings.as_dict().items() if kept.get(key) != value]
    if differences:
        raise RunFolderError(
            f"{run_dir} holds a finished run made with other settings ({'; '.join(differences)}); "
            "pass --overwrite to replace it or --output to train elsewhere"
        )
    return metrics


def sweep(image_set, modes: Sequence[str], lrs: Sequence[float] | Mapping[str, Sequence[float]],
          settings: TransferSettings, folder: Path, say: Callable[[str], None], config: dict, overwrite: bool = False, save_weights: bool = False,
          progress: bool = False, distribution=None, tensorboard: bool = False, executor=None,
          target: Mapping[str, Any] | None = None) -> list[Path]:
    """Train every (mode, LR) run not yet finished; return the run folders, in order.

    ``lrs`` is one list for every mode, or a list per mode. ``executor``
    (the command's parsed ``--executor`` flags, ``core.sweep``): with
    ``ray`` the unfinished runs are trials (``transfer.trials``), each
    loading the images from ``target`` (``targets.load_target``'s arguments)
    in a process of its own; otherwise they run here, one after another.

    Finished runs are checked first (``finished_run``), so a mismatch stops
    the sweep before any training; an unfinished fine-tuning run resumes
    from its last checkpoint. Feature-extraction runs share one frozen base
    (and, without augmentation, its cached features); the runs of a mode
    share its models, restored before each (``models.ModelPool``).
    ``tensorboard``: every run trained also writes TensorBoard logs into its folder.
    """
    lrs_of = lrs if isinstance(lrs, Mapping) else {mode: lrs for mode in modes}
    runs = [(mode, lr, Path(folder) / run_name(mode, lr)) for mode in modes for lr in lrs_of[mode]]
    kept = {} if overwrite else {run_dir.name: finished_run(run_dir, settings) for _, _, run_dir in runs}
    for mode, lr, run_dir in runs:
        if kept.get(run_dir.name):
            say(f"{run_dir.name} finished earlier (final val accuracy {percent(kept[run_dir.name].final_val_accuracy)}); "
                "kept, --overwrite runs the whole sweep again")
            shutil.rmtree(run_dir / "checkpoint", ignore_errors=True)  # left by a run killed as it finished
    pending = [(mode, lr, run_dir) for mode, lr, run_dir in runs if not kept.get(run_dir.name)]
    if executor is not None and executor.executor == "ray":
        from pyimagesearch.transfer.trials import run_sweep_trials, sweep_trials

        if pending:
            strategy = getattr(executor, "strategy", "auto")
            run_sweep_trials(sweep_trials(pending, settings, target, config, strategy=strategy,
                                          save_weights=save_weights, tensorboard=tensorboard,
                                          verbose=getattr(executor, "verbose", False)), executor, folder, say)
        return [run_dir for _, _, run_dir in runs]
    extractor, pool = None, ModelPool()
    for mode, lr, run_dir in pending:
        if mode == "feature" and extractor is None:
            extractor = FeatureExtractor(image_set, settings.image_size, settings.batch_size, settings.augment,
                                         settings.seed, progress)
        say(f"{run_dir.name}: training {settings.epochs} epochs on {image_set.size('train'):,} images")
        train_run(image_set, mode, lr, settings, run_dir, say, extractor if mode == "feature" else None,
                  save_weights, progress, distribution=distribution,
                  config={**config, "mode": mode, "lr": lr, "resolved": settings.as_dict()},
                  overwrite=overwrite, tensorboard=tensorboard, pool=pool)
    return [run_dir for _, _, run_dir in runs]


def run_sweep(folder: Path, name: str, settings: TransferSettings, requested: Sequence[tuple[str, float]],
              load_images: Callable[[], Any], config: Mapping[str, Any], *, describe: bool = False,
              overwrite: bool = False, distribution=None, save_weights: bool = False,
              tensorboard: bool = False, progress: bool = False, echo: Callable[[str], None] = print,
              note: str | None = None, executor=None, target: Mapping[str, Any] | None = None) -> None:
    """Describe the data set in ``folder`` and train the ``requested`` (mode, LR) runs not yet finished.

    ``load_images()`` gives the ``ImageSet``; it is called once the folder is
    this process's, so a second process stops before reading any data. A
    start that fails there leaves no folder it created behind. ``describe``
    trains nothing: a new folder holding only the description is finished
    at quick settings. ``distribution`` (a ``distribute.Distribution``, None
    for one device) trains the fine-tuning runs; under multi-worker its
    worker keeps the other workers' folders inside a chief's out of ``overwrite``.
    ``note``: the stand-in's sentence, said first in transfer.log and dataset.json.
    ``executor`` and ``target``: where the runs go (``sweep``).
    """
    folder = Path(folder)
    created = not folder.exists()
    worker = distribution.worker if distribution is not None else None
    workers = {f"worker-{index}" for index in range(worker.count)} if worker else set()
    try:
        with RunFolder(folder, KIND, settings.as_dict(), overwrite=overwrite, seed=settings.seed, tensorflow=True,
                       config={"dataset": name}, keep=workers) as run:
            if run.finished:
                finished = {(m.mode, m.lr) for m in load_finished_runs(folder)}
                if set(requested) <= finished:
                    echo(f"{folder} is finished with these settings ({len(finished)} run(s)); kept as it is "
                         "(--overwrite trains the sweep again)")
                    return
                run.reopen()  # more runs for a finished sweep: it is finished again once they are
            try:
                image_set = load_images()
            except BaseException:
                if created:  # nothing was written but the folder's own files: take them back
                    for entry in (CONFIG_NAME, LOCK_NAME):
                        (folder / entry).unlink(missing_ok=True)
                raise
            _describe_and_train(run, folder, name, settings, image_set, requested, config, describe, workers, note,
                                dict(overwrite=overwrite, save_weights=save_weights, progress=progress,
                                     distribution=distribution, tensorboard=tensorboard, executor=executor,
                                     target=target))
    finally:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _describe_and_train(run: RunFolder, folder: Path, name: str, settings: TransferSettings, image_set,
                        requested: Sequence[tuple[str, float]], config: Mapping[str, Any], describe: bool,
                        workers: set[str], note: str | None, options: dict) -> None:
    """Write the description, train, write summary.md, then complete.json when every run folder is finished.

    A run left unfinished by an earlier command keeps the sweep unfinished;
    --describe completes only a folder that held no unfinished sweep.
    """
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.transfer.describe import write_description

    say = RunLog(folder / "transfer.log", append=True)
    write_description(image_set, folder, say, note)
    if describe:
        if not run.resumed:
            run.complete(quick=True, summary={"dataset": name, "runs": [], "quick_because": ["the description only"]})
        return
    say(f"milestones {list(settings.milestones)}, gamma {settings.gamma:g}, dtype policy {settings.dtype_policy}, "
        f"weights {settings.weights}")
    options["distribution"] = options["distribution"] or Distribution.local()
    if options["executor"] is not None and options["executor"].executor == "ray":
        say(f"each run a Ray Tune trial (--executor ray) on its own CPUs and GPUs, batch {settings.batch_size}, "
            f"learning rates used as given; its lines in {folder / 'logs'}")
    else:
        described = options["distribution"].describe(settings.batch_size)
        say(f"finetune: {described['strategy']}, {described['replicas']} replica(s), global batch "
            f"{described['global_batch']}, learning rates used as given; feature: one device, batch {settings.batch_size}")
    modes = list(dict.fromkeys(mode for mode, _ in requested))
    lrs = {mode: [lr for m, lr in requested if m == mode] for mode in modes}
    sweep(image_set, modes, lrs, settings, folder, say, dict(config), **options)
    runs = load_finished_runs(folder)
    write_summary(folder, name, runs)
    say(f"summary: {folder / 'summary.md'}")
    started = {path.parent.name for path in folder.glob(f"*/{CONFIG_NAME}")} - workers  # the other workers' own folders
    finished = {run_name(m.mode, m.lr) for m in runs}
    if started <= finished:
        reasons = quick_reasons(settings, {(m.mode, m.lr) for m in runs})
        run.complete(quick=bool(reasons), summary={"dataset": name, "winner": winner_of(folder, runs),
                                                   "runs": sorted(finished), "quick_because": reasons})


def winner_of(folder: Path, runs) -> str:
    """summary.md's verdict in a few words: the winner's label, or "none: tied within noise" / "none: <reason>"."""
    from pyimagesearch.transfer.summary import Choices, chance_level, load_correctness

    verdict = Choices(runs, load_correctness(folder, runs)).verdict_of_winner(chance_level(folder))
    if verdict.leader is not None:
        return verdict.leader
    return "none: tied within noise" if verdict.outcome == "no difference detected" else f"none: {verdict.reason}"
