"""Problem 4's results: label noise and resampling (4.2), teacher and student (4.3), at small scale.

``python -m pyimagesearch.semisupervised <experiment>`` writes into
``output/semisupervised/<experiment>/`` (``.../quick/`` with ``--quick``):
results.json (the points, a ``records.semisupervised`` record), results.md
with its tables and notes, the figures, config.json, log.txt and, once every
point has finished, its completion record (``core.run.completion``), which
says whether the folder is finished and at which settings. The full results
are shown when they are finished, else the quick ones, else whatever points
there are. A results.json that fails its record's validation raises the
record's ``RecordError``, whose sentence the report shows instead of the
results.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pyimagesearch.core.run import completion
from pyimagesearch.records.semisupervised import RESULTS
from pyimagesearch.report.document import Note, Source, code, text
from pyimagesearch.report.files import load_dict
from pyimagesearch.report.readers.common import Context, figures, finish, markdown_file, new_source

EXPERIMENTS = {"label_noise": "label-noise", "resampling": "resampling", "teacher_student": "teacher-student"}
FIGURES = {
    "accuracy_vs_noise.png": "Test accuracy against the share of training labels replaced",
    "per_class_accuracy.png": "Per-class test accuracy under natural, square-root and uniform sampling",
    "accuracy_vs_k.png": "Student test accuracy against K, one colour per P (compare Yalniz et al.'s Figure 5)",
    "precision_vs_k.png": "Precision of the teacher's pseudo-labels against K",
}
SCALE_CAVEAT = ("LeNet-5 on Fashion-MNIST, not the papers' ResNets on a billion images: these runs show the mechanism "
                "at small scale; the papers' own numbers are in the papers.")


def finished(folder: Path) -> bool:
    """Whether the experiment in ``folder`` finished every point: its completion record says so."""
    return completion(folder) is not None


def k_sweep_caveat_of(results, folder: Path, quick: bool) -> str | None:
    """The teacher/student sweep's Figure 5 caveat (``semisupervised.conclusions.k_sweep_caveat``) from its records."""
    from pyimagesearch.semisupervised.conclusions import k_sweep_caveat

    config = load_dict(folder / "config.json") or {}
    classes = len({row.class_index for row in results.selection}) or None
    most_k = None
    if classes and isinstance(config.get("train_images"), int) and isinstance(config.get("labelled"), int):
        most_k = (config["train_images"] - config["labelled"]) // classes
    return k_sweep_caveat([row for row in results.points if row.model == "student"], quick, most_k)


def read_semisupervised(context: Context, key: str) -> list[Source]:
    """The Source of experiment ``key``; ``RecordError`` when its results.json cannot be trusted."""
    source = new_source(context, key)
    full, quick = source.folder, source.folder / "quick"
    folder = next((f for f in (full, quick) if finished(f)), None) or next(
        (f for f in (full, quick) if (f / "results.json").is_file()), None)
    if folder is None:
        if importlib.util.find_spec("pyimagesearch.semisupervised") is None:
            source.attempt = source.attempt or text("This checkout has no pyimagesearch.semisupervised yet, so the "
                                                    "command cannot run here.")
        return [source]
    results = RESULTS[EXPERIMENTS[key]].read(folder)
    record = completion(folder)
    is_quick = record["quick"] if record else folder == quick
    source.folder = folder
    source.status = ("quick" if is_quick else "full") if record else "partial"
    caveat = k_sweep_caveat_of(results, folder, is_quick) if key == "teacher_student" else None
    captions = FIGURES if caveat is None else {**FIGURES, "accuracy_vs_k.png": (
        f"{FIGURES['accuracy_vs_k.png'].split(' (compare')[0]}. Against Yalniz et al.'s Figure 5: {caveat}")}
    source.blocks = markdown_file(folder / "results.md") + figures(folder, captions)
    if source.status == "partial":
        source.blocks.insert(0, Note("missing", text(f"Unfinished: the {len(results.points)} point(s) so far; the same "
                                                     "command continues and keeps the finished ones.")))
    source.caveats.append(text(SCALE_CAVEAT))
    if caveat:
        source.caveats.append(text(f"Figure 5: {caveat}"))
    if is_quick:
        source.caveats.append(text("Quick settings (--quick): a subset of the images and smaller budgets."))
        if folder == quick and (full / "config.json").is_file():
            source.caveats.append(text("A run at the task's settings is unfinished in ", code(str(full)),
                                       "; the same command continues it."))
    return [finish(source, context, key, [folder / "results.json"], folder / "config.json",
                   ("output", "overwrite", "quiet", "data_dir", "points", "settings_keys"))]
