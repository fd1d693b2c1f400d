"""Problem 3's results: the target data set and the fine-tuning runs (3.1), feature extraction and the winner (3.2).

``output/transfer/<dataset>/`` holds dataset.json and its figures, summary.md
and one ``<mode>_lr<lr>/`` folder per run (config.json, metrics.json,
history.csv, curves.png). Every data set folder found is reported, under
what its dataset.json says it is (``DatasetDescription.provenance``): a
Visual Decathlon target, a user's folder or the offline stand-in, whose
note (what stands in for what, and the command for the real target) opens
each question it answers.

metrics.json and dataset.json are read through their records
(``records.transfer``): a file that fails validation raises ``RecordError``,
whose one sentence (file and field) the report shows as the question's
caveat, never the value. Whether the sweep is finished, and at quick or full
settings, is its completion record (``core.run.completion``).
"""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.core.run import completion
from pyimagesearch.records.transfer import DatasetDescription, TransferRun
from pyimagesearch.report.document import Inline, Note, Paragraph, Source, code, text
from pyimagesearch.report.files import fmt, load_dict, number, percent, subfolders
from pyimagesearch.report.readers.common import Context, figure, figures, finish, markdown_file, new_source, table

# The learning rates the task asks for, per mode (transfer.settings.TASK_LRS, which imports Keras).
TASK_LRS = {"finetune": (0.001, 0.01, 0.1), "feature": (1.0, 0.1, 0.01, 0.001)}
MODE_NAMES = {"finetune": "Fine-tuning every layer", "feature": "Feature extraction: only the new last layer trained"}
TASK_EPOCHS = 50
OFFLINE = text("transfer.py needs a Visual Decathlon data set (TFDS ", code("visual_domain_decathlon"), ") and "
               "ResNet50's ImageNet weights, which cannot be downloaded without internet. Offline, the stated stand-in "
               "answers instead (scikit-learn's digits as the target, a ResNet50 pretrained here on Fashion-MNIST as "
               "the base): ", code("python transfer.py --dataset digits --weights fashion-mnist --mode both"),
               " (add ", code("--quick"), " for quick settings). No result of either is here yet.")
SOURCE_TITLES = {"decathlon": "a Visual Decathlon target", "folder": "a folder of the user's own images",
                 "standin": "computed on the offline stand-in"}
CAPTIONS = {"decathlon": "Accuracy on the validation split (the Decathlon's test labels are withheld)",
            "folder": "Accuracy on the validation images of the user's folder",
            "standin": "Accuracy on the validation split of scikit-learn's digits (the offline stand-in)"}


def runs_of(folder: Path) -> list[dict]:
    """Every run folder in ``folder``: its name, mode, LR, metrics (a ``TransferRun``, None while unfinished), settings.

    A finished run's metrics.json is read through ``TransferRun.read`` (a bad
    one raises ``RecordError``); an unfinished run is known by its config.json.
    """
    runs = []
    for run_dir in subfolders(folder):
        config = load_dict(run_dir / "config.json")
        metrics = TransferRun.read(run_dir) if (run_dir / TransferRun.FILE).exists() else None
        if metrics is None and "mode" not in config:
            continue  # not a run: another worker's own sweep folder (worker-N), or a folder of something else
        if metrics is not None:
            mode, lr, settings = metrics.mode, metrics.lr, metrics.settings
        else:
            mode, lr = config.get("mode") or run_dir.name.split("_lr")[0], number(config.get("lr"))
            settings = config.get("resolved") if isinstance(config.get("resolved"), dict) else {}
        runs.append({"folder": run_dir, "name": run_dir.name, "mode": mode, "lr": lr, "metrics": metrics,
                     "settings": settings})
    return sorted(runs, key=lambda run: (run["mode"], -(run["lr"] or 0)))


def dataset_folders(root: Path) -> list[Path]:
    """The data set folders under ``root/transfer`` that hold a description or a run."""
    return [folder for folder in subfolders(root / "transfer")
            if (folder / "dataset.json").is_file() or (folder / "summary.md").is_file() or runs_of(folder)]


def read_transfer(context: Context, mode: str) -> list[Source]:
    """One source per data set: for ``finetune`` with its description (3.1), for ``feature`` with the summary (3.2)."""
    folders = dataset_folders(context.root)
    if not folders:
        source = new_source(context, "transfer")
        source.blocks.append(Note("caveat", OFFLINE))
        return [source]
    return [_dataset_source(context, folder, mode) for folder in folders]


def _dataset_source(context: Context, folder: Path, mode: str) -> Source:
    info = DatasetDescription.read(folder) if (folder / DatasetDescription.FILE).exists() else None
    kind = info.provenance if info is not None else None
    title = f"ResNet50 on {folder.name}" + (f" ({SOURCE_TITLES[kind]})" if kind else "")
    source = new_source(context, "transfer", title=title, folder=folder)
    if info is not None and info.note:
        source.blocks.append(Note("caveat", text(info.note, ".")))  # "Offline stand-in: ...", the real command
    runs = [run for run in runs_of(folder) if run["mode"] == mode]
    finished = [run for run in runs if run["metrics"] is not None]
    results = [run["folder"] / "metrics.json" for run in finished]
    if mode == "finetune":
        description = _description(folder, info)
        source.blocks += description
        if description:
            results.append(folder / "dataset.json")
    source.blocks.append(Paragraph(text(MODE_NAMES[mode] + ".")))
    if finished:
        source.blocks.append(table(
            ["learning rate", "selection accuracy", "final val. accuracy", "best val. accuracy (epoch)", "epochs",
             "wall time (s)", "weights", "note"],
            [[fmt(run["lr"], "g"), percent(run["metrics"].selection_accuracy, 1),
              percent(run["metrics"].final_val_accuracy, 1),
              f"{percent(run['metrics'].best_val_accuracy, 1)} ({run['metrics'].best_epoch:d})",
              f"{run['metrics'].epochs:d}", f"{run['metrics'].wall_seconds:.0f}", _weights(run), _note(run)]
             for run in finished],
            caption=CAPTIONS.get(kind, "Accuracy on the validation split") + "; the choices are made on the selection "
                    "images held out of the training split"))
        for run in finished:
            source.blocks += figure(run["folder"] / "curves.png", f"{run['name']}: loss, accuracy and LR per epoch")
    missing = [lr for lr in TASK_LRS[mode] if not any(run["lr"] is not None and abs(run["lr"] - lr) <= 1e-12 * lr
                                                      for run in finished)]
    if missing:
        source.blocks.append(Note("missing", text("Not run yet at the task's learning rate(s) ",
                                                  ", ".join(f"{lr:g}" for lr in missing), ".")))
    if mode == "feature" and (folder / "summary.md").is_file():
        source.blocks += markdown_file(folder / "summary.md", drop_title=True)
        results.append(folder / "summary.md")
    unfinished = [run for run in runs if run["metrics"] is None]
    done = completion(folder)
    source.caveats = ([text(info.note, ".")] if info is not None and info.note else []) + _caveats(finished, unfinished)
    if finished and not unfinished and done is None:
        source.caveats.append(text("The sweep has no completion record (complete.json): it stopped before its last "
                                   "run or its summary; the same command continues it."))
    if not results:
        source.status = "missing"
        return source
    # A run stopped early (diverged) trained fewer epochs than its settings ask: that does not make the sweep quick.
    stand_in = any(_weights(run) == "none" or (run["metrics"].epochs < TASK_EPOCHS and not run["metrics"].diverged)
                   for run in finished)
    if missing or not finished or done is None:
        source.status = "partial"
    else:
        source.status = "quick" if stand_in or done.get("quick") else "full"
    config = finished[0]["folder"] / "config.json" if finished else None
    return finish(source, context, "transfer", results, config,
                  ("output", "overwrite", "describe", "summary", "save_weights", "resolved.data", "mode", "lr"))


def _description(folder: Path, info: DatasetDescription | None) -> list:
    """The data set's paragraph, table and figures, from dataset.json read through ``DatasetDescription``."""
    blocks = []
    if info is not None:
        withheld = " (the Decathlon's test labels are withheld)" if info.provenance == "decathlon" else ""
        selection = f"; {info.selection_split}, for the choices" if info.selection_split else ""
        words = "" if info.provenance == "standin" else f"{SOURCE_TITLES[info.provenance]}, "  # its origin says so
        blocks.append(Paragraph(text(f"{info.name}, {words}{info.origin}: {info.num_classes:d} classes, evaluated on "
                                     f"its {info.evaluation_split} split{withheld}{selection}.")))
        rows = []
        for split in ("train", "selection", "validation"):
            entry = getattr(info.splits, split)
            if entry is None:
                continue
            spread = entry.images_per_class
            rows.append([split, f"{entry.images:,}", f"{spread.min:d}", f"{spread.median:g}", f"{spread.max:d}",
                         f"{entry.classes_without_images:d}"])
        blocks.append(table(["split", "images", "per class: min", "median", "max", "classes without images"], rows,
                            caption="Images per split and per class (dataset.json)"))
        if info.samples:
            blocks.append(Paragraph(text("The four sample images are of the classes ", ", ".join(info.samples), ".")))
    blocks += figures(folder, {"class_distribution.png": "Images per class",
                               "samples.png": "Four sample images from two classes"},
                      [path for path in (folder / "class_distribution.png", folder / "samples.png") if path.is_file()])
    return blocks


def _weights(run: dict) -> str:
    weights = run["settings"].get("weights", "?")
    return Path(weights).name if isinstance(weights, str) and "/" in weights else str(weights)


def _note(run: dict) -> str:
    diverged = run["metrics"].diverged
    return f"diverged: {diverged}" if diverged else ""


def _caveats(finished: list[dict], unfinished: list[dict]) -> list[Inline]:
    caveats = []
    if any(_weights(run) == "none" for run in finished):
        caveats.append(text("Random ResNet50 weights (", code("--weights none"), "): a stand-in, because ImageNet weights "
                            "cannot be downloaded here. These runs show that the pipeline works, not what ImageNet "
                            "pre-training gives."))
    short = sorted({run["metrics"].epochs for run in finished
                    if run["metrics"].epochs < TASK_EPOCHS and not run["metrics"].diverged})  # not where one stopped
    if short:
        caveats.append(text(f"Trained {', '.join(map(str, short))} epoch(s), not the task's 50-60."))
    diverged = [run["name"] for run in finished if run["metrics"].diverged]
    if diverged:
        caveats.append(text(f"Diverged and stopped (the training loss became NaN or inf, or exceeded 4 x its starting "
                            f"value): {', '.join(diverged)}; listed with the epochs they trained, never ranked."))
    if unfinished:
        caveats.append(text(f"Unfinished (no metrics.json): {', '.join(run['name'] for run in unfinished)}; the same "
                            "command continues the sweep and keeps the finished runs."))
    return caveats
