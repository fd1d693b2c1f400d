"""Problem 3's results: the target data set and the fine-tuning runs (3.1), feature extraction and the winner (3.2).

``output/transfer/<dataset>/`` holds dataset.json and its figures, summary.md
and one ``<mode>_lr<lr>/`` folder per run (config.json, metrics.json,
history.csv, curves.png). Every data set folder found is reported.
"""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.report.document import Inline, Note, Paragraph, Source, code, text
from pyimagesearch.report.files import fmt, load_dict, number, percent, subfolders
from pyimagesearch.report.readers.common import Context, figure, figures, finish, markdown_file, new_source, table

# The learning rates the task asks for, per mode (transfer.settings.TASK_LRS, which imports Keras).
TASK_LRS = {"finetune": (0.001, 0.01, 0.1), "feature": (1.0, 0.1, 0.01, 0.001)}
MODE_NAMES = {"finetune": "Fine-tuning every layer", "feature": "Feature extraction: only the new last layer trained"}
TASK_EPOCHS = 50
OFFLINE = text("transfer.py needs a Visual Decathlon data set (TFDS ", code("visual_domain_decathlon"), ") and "
               "ResNet50's ImageNet weights. Without internet neither can be downloaded: transfer.py then stops within "
               "seconds and says which is missing, and the README's \"Offline\" paragraph says where to copy them. No "
               "stand-in result is shown here, since random weights or made-up images would not answer the question.")


def runs_of(folder: Path) -> list[dict]:
    """Every run folder in ``folder``: its name, mode, LR, metrics (empty while unfinished) and settings."""
    runs = []
    for run_dir in subfolders(folder):
        metrics, config = load_dict(run_dir / "metrics.json"), load_dict(run_dir / "config.json")
        if not metrics and not config:
            continue
        settings = metrics.get("settings") or config.get("resolved") or {}
        mode = metrics.get("mode") or config.get("mode") or run_dir.name.split("_lr")[0]
        lr = number(metrics.get("lr", config.get("lr")))
        runs.append({"folder": run_dir, "name": run_dir.name, "mode": mode, "lr": lr, "metrics": metrics,
                     "settings": settings if isinstance(settings, dict) else {}})
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
    source = new_source(context, "transfer", title=f"ResNet50 on {folder.name}", folder=folder)
    runs = [run for run in runs_of(folder) if run["mode"] == mode]
    finished = [run for run in runs if run["metrics"]]
    results = [run["folder"] / "metrics.json" for run in finished]
    if mode == "finetune":
        description = _description(folder)
        source.blocks += description
        if description:
            results.append(folder / "dataset.json")
    source.blocks.append(Paragraph(text(MODE_NAMES[mode] + ".")))
    if finished:
        source.blocks.append(table(
            ["learning rate", "best val. accuracy (epoch)", "final val. accuracy", "epochs", "wall time (s)", "weights", "note"],
            [[fmt(run["lr"], "g"), f"{percent(run['metrics'].get('best_val_accuracy'), 1)} "
                                   f"({fmt(run['metrics'].get('best_epoch'), 'd')})",
              percent(run["metrics"].get("final_val_accuracy"), 1), fmt(run["metrics"].get("epochs"), "d"),
              fmt(run["metrics"].get("wall_seconds"), ".0f"), _weights(run), _note(run)] for run in finished],
            caption="Accuracy on the validation split (the Decathlon's test labels are withheld)"))
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
    source.caveats = _caveats(finished, [run for run in runs if not run["metrics"]])
    if not results:
        source.status = "missing"
        return source
    stand_in = any(_weights(run) == "none" or (number(run["metrics"].get("epochs")) or 0) < TASK_EPOCHS for run in finished)
    source.status = "partial" if missing or not finished else ("quick" if stand_in else "full")
    config = finished[0]["folder"] / "config.json" if finished else None
    return finish(source, context, "transfer", results, config,
                  ("output", "overwrite", "describe", "summary", "save_weights", "resolved.data", "mode", "lr"))


def _description(folder: Path) -> list:
    info = load_dict(folder / "dataset.json")
    blocks = []
    if info:
        blocks.append(Paragraph(text(f"{info.get('name', folder.name)} ({info.get('origin', '?')}): "
                                     f"{fmt(info.get('num_classes'), 'd')} classes, evaluated on its "
                                     f"{info.get('evaluation_split', 'validation')} split.")))
        splits = info.get("splits") if isinstance(info.get("splits"), dict) else {}
        rows = []
        for split, entry in splits.items():
            entry = entry if isinstance(entry, dict) else {}
            per_class = entry.get("images_per_class") if isinstance(entry.get("images_per_class"), dict) else {}
            rows.append([split, fmt(entry.get("images"), ","), fmt(per_class.get("min"), "g"),
                         fmt(per_class.get("median"), "g"), fmt(per_class.get("max"), "g"),
                         fmt(entry.get("classes_without_images"), "d")])
        if rows:
            blocks.append(table(["split", "images", "per class: min", "median", "max", "classes without images"], rows,
                                caption="Images per split and per class (dataset.json)"))
        samples = info.get("samples")
        if isinstance(samples, list) and samples:
            blocks.append(Paragraph(text("The four sample images are of the classes ", ", ".join(map(str, samples)), ".")))
    blocks += figures(folder, {"class_distribution.png": "Images per class",
                               "samples.png": "Four sample images from two classes"},
                      [path for path in (folder / "class_distribution.png", folder / "samples.png") if path.is_file()])
    return blocks


def _weights(run: dict) -> str:
    weights = run["settings"].get("weights", "?")
    return Path(weights).name if isinstance(weights, str) and "/" in weights else str(weights)


def _note(run: dict) -> str:
    diverged = run["metrics"].get("diverged")
    return f"diverged: {diverged}" if diverged else ""


def _caveats(finished: list[dict], unfinished: list[dict]) -> list[Inline]:
    caveats = []
    if any(_weights(run) == "none" for run in finished):
        caveats.append(text("Random ResNet50 weights (", code("--weights none"), "): a stand-in, because ImageNet weights "
                            "cannot be downloaded here. These runs show that the pipeline works, not what ImageNet "
                            "pre-training gives."))
    short = sorted({int(number(run["metrics"].get("epochs")) or 0) for run in finished
                    if (number(run["metrics"].get("epochs")) or 0) < TASK_EPOCHS})
    if short:
        caveats.append(text(f"Trained {', '.join(map(str, short))} epoch(s), not the task's 50-60."))
    diverged = [run["name"] for run in finished if run["metrics"].get("diverged")]
    if diverged:
        caveats.append(text(f"Diverged and stopped: {', '.join(diverged)}; in an LR sweep a too-high LR is a result."))
    if unfinished:
        caveats.append(text(f"Unfinished (no metrics.json): {', '.join(run['name'] for run in unfinished)}; the same "
                            "command continues the sweep and keeps the finished runs."))
    return caveats
