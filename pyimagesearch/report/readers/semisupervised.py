"""Problem 4's results: label noise and resampling (4.2), teacher and student (4.3), at small scale.

``python -m pyimagesearch.semisupervised <experiment>`` writes into
``output/semisupervised/<experiment>/`` (``.../quick/`` with ``--quick``):
results.md with its tables and notes, the figures, config.json and log.txt,
whose last line says where the results are once every point has finished.
The full results are shown when they exist, else the quick ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pyimagesearch.report.document import Note, Source, code, text
from pyimagesearch.report.files import last_line, load_dict
from pyimagesearch.report.readers.common import Context, figures, finish, markdown_file, new_source

FIGURES = {
    "accuracy_vs_noise.png": "Test accuracy against the share of training labels replaced",
    "per_class_accuracy.png": "Per-class test accuracy under natural, square-root and uniform sampling",
    "accuracy_vs_k.png": "Student test accuracy against K, one colour per P (compare Yalniz et al.'s Figure 5)",
    "precision_vs_k.png": "Precision of the teacher's pseudo-labels against K",
}
SCALE_CAVEAT = ("LeNet-5 on Fashion-MNIST, not the papers' ResNets on a billion images: these runs show the mechanism "
                "at small scale; the papers' own numbers are in the papers.")


def finished(folder: Path) -> bool:
    """Whether the experiment in ``folder`` finished every point (its log's last line names the results)."""
    line = last_line(folder / "log.txt")
    return (folder / "results.md").is_file() and (line is None or "results in" in line)


def read_semisupervised(context: Context, key: str) -> list[Source]:
    source = new_source(context, key)
    full, quick = source.folder, source.folder / "quick"
    folder = next((f for f in (full, quick) if finished(f)), None) or next(
        (f for f in (full, quick) if (f / "results.md").is_file()), None)
    if folder is None:
        if importlib.util.find_spec("pyimagesearch.semisupervised") is None:
            source.attempt = source.attempt or text("This checkout has no pyimagesearch.semisupervised yet, so the "
                                                    "command cannot run here.")
        return [source]
    config = load_dict(folder / "config.json")
    is_quick = folder == quick or bool(config.get("quick"))
    source.folder = folder
    source.status = ("quick" if is_quick else "full") if finished(folder) else "partial"
    source.blocks = markdown_file(folder / "results.md") + figures(folder, FIGURES)
    if source.status == "partial":
        source.blocks.insert(0, Note("missing", text("Unfinished: the points so far; the same command continues and keeps "
                                                     "the finished ones.")))
    source.caveats.append(text(SCALE_CAVEAT))
    if is_quick:
        source.caveats.append(text("Quick settings (--quick): a subset of the images and smaller budgets."))
        if folder == quick and (full / "config.json").is_file():
            source.caveats.append(text("A run at the task's settings is unfinished in ", code(str(full)),
                                       "; the same command continues it."))
    return [finish(source, context, key, [folder / "results.md"], folder / "config.json",
                   ("output", "overwrite", "quiet", "data_dir"))]
