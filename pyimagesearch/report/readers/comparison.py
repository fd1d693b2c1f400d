"""Problem 1.3's comparison (``train_lenet.py --compare``): comparison.md, its figure, and whether its runs were quick.

``comparison.json`` is read through its record (``records.lenet.Comparison``):
a bad file raises the record's ``RecordError``, which the report shows as
the question's caveat.
"""

from __future__ import annotations

from pathlib import Path

from pyimagesearch.records.lenet import Comparison
from pyimagesearch.report.document import Source, code, text
from pyimagesearch.report.files import load_dict, subfolders
from pyimagesearch.report.readers.common import Context, figures, finish, markdown_file, new_source
from pyimagesearch.report.readers.lenet_range import quick_shape

COMPARISON_FIGURES = {"comparison.png": "Both runs side by side: validation accuracy and training loss against epoch and "
                                      "against optimizer steps"}


def read_comparison(context: Context) -> list[Source]:
    source = new_source(context, "comparison")
    folder = source.folder
    if not (folder / "comparison.md").is_file():
        return [source]
    summary = Comparison.read(folder).to_json()
    source.status = "full"
    source.blocks = markdown_file(folder / "comparison.md") + figures(folder, COMPARISON_FIGURES)
    for label in ("A", "B"):
        run = summary.get(label)
        if not isinstance(run, str):
            continue
        run_folder = _run_folder(context.root, run)
        config = load_dict(run_folder / "config.json") if run_folder else {}
        if config.get("limit") or _has_quick_seed(run_folder):
            source.status = "quick"
            source.caveats.append(text(f"Run {label} (", code(run), ") was made at quick settings (",
                                       code(f"--limit {config.get('limit')}"), ")."))
        metrics = run_folder / "metrics.json" if run_folder else None
        if metrics and metrics.exists() and metrics.stat().st_mtime > (folder / "comparison.md").stat().st_mtime + 1:
            source.caveats.append(text(f"Run {label} (", code(run), ") finished after this comparison was written; run "
                                       "the command again to compare the newer results."))
    if source.status == "quick":
        source.caveats.append(quick_shape("comparison", {"limit": True}))
    # Its config.json holds train_lenet.py's training defaults, which a comparison does not use: no settings shown.
    return [finish(source, context, "comparison", [folder / "comparison.md"])]


def _run_folder(root: Path, recorded: str) -> Path | None:
    """The folder a comparison recorded, as written (relative to where it ran) or by its name under ``root``."""
    for candidate in (Path(recorded), root / Path(recorded).name):
        if candidate.is_dir():
            return candidate
    return None


def _has_quick_seed(folder: Path | None) -> bool:
    return bool(folder) and any(load_dict(d / "config.json").get("limit") for d in subfolders(folder)
                                if d.name.startswith("seed-"))
