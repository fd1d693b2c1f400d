"""Problem 1's results: the LR range test and grid (1.1), the cyclical LR (1.2), batch growth and the comparison (1.3).

A training folder holds one run (config.json, metrics.json, history.csv,
log.txt, figures) or one run per seed in ``seed-<s>/`` with an aggregate
metrics.json beside them; both are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from pyimagesearch.report.document import Inline, Note, Paragraph, Source, code, strong, text
from pyimagesearch.report.files import (
    fmt, last_line, load_dict, number, percent, pngs, readable, scalar_settings, subfolders,
)
from pyimagesearch.records.lenet import read_history, read_metrics
from pyimagesearch.records.lr_finder import LRRangeSuggestion, read_grid
from pyimagesearch.report.readers.comparison import read_comparison  # noqa: F401 (1.3's comparison, by this name)
from pyimagesearch.report.readers.lenet_range import quick_shape, range_story
from pyimagesearch.report.readers.common import (
    Context, figures, finish, key_value_table, new_source, quick_caveat, table,
)

HIDDEN_SETTINGS = ("compare", "quiet", "output", "resume", "overwrite", "settings_keys", "data_dir", "description",
                   "distribution", "stages", "strategy")

METRIC_ROWS = (
    ("test accuracy", "test_accuracy", percent),
    ("test loss", "test_loss", lambda v: fmt(v, ".4f")),
    ("validation accuracy", "val_accuracy", percent),
    ("training accuracy (whole training split, after training)", "train_accuracy", percent),
    ("final training loss (last epoch)", "final_train_loss", lambda v: fmt(v, ".4f")),
    ("generalization gap (training - test accuracy)", "generalization_gap", lambda v: fmt(100 * number(v), "+.2f") + " points"
     if number(v) is not None else "-"),
    ("best validation accuracy", "best_val_accuracy", percent),
    ("epochs", "epochs", lambda v: fmt(v, "d")),
    ("optimizer steps", "optimizer_steps", lambda v: fmt(v, ",")),
    ("training time (s)", "train_time_s", lambda v: fmt(v, ".1f")),
)

SEEDS_FIGURES = {"curves.png": "Mean training and validation curves over the seeds, with a band from the lowest to the "
                                "highest seed"}
RUN_FIGURES = {
    "clr": {"curves.png": "Training and validation loss and accuracy per epoch (compare Smith's Figure 4)",
            "lr_trace.png": "The learning rate at every iteration: the exp_range cycles"},
    "batch_growth": {"loss_vs_log2_batch.png": "Training loss against log2(batch size)",
                     "curves.png": "Training and validation loss and accuracy per epoch"},
}


def task_differences(config: dict, checks: Sequence[tuple[str, str, Any]]) -> list[Inline]:
    """A caveat for every setting in ``checks`` ((config key, flag, the task's value)) that the run changed."""
    caveats = []
    for key, flag, expected in checks:
        value = config.get(key)
        if value is not None and (number(value) != number(expected) if number(expected) is not None else value != expected):
            caveats.append(text("Not the task's setting: ", code(f"{flag} {value}"), f" (the task: {expected})."))
    return caveats


def read_find_lr(context: Context) -> list[Source]:
    source = new_source(context, "find_lr")
    folder = source.folder
    config = load_dict(folder / "config.json")
    if not (folder / "suggestion.json").is_file():
        return [_unfinished(source, config, "no suggestion.json: the range test did not finish")]
    suggestion = _plain(LRRangeSuggestion.read(folder))
    source.status = "quick" if config.get("limit") else "full"
    source.blocks = [_suggestion_paragraph(suggestion, "The range test, the alternative to the grid's range (1.2 and "
                                                       "1.3 train from the grid's), suggests")]
    source.blocks.append(key_value_table([(key, readable(value) if number(value) is not None else value)
                                          for key, value in scalar_settings(suggestion) if key != "reason"],
                                         ("suggestion.json", "value")))
    source.blocks += figures(folder, {"lr_finder.png": "LR range test: smoothed training loss against the learning rate "
                                                       "(log axis), lr_min and lr_max marked"})
    source.caveats += _suggestion_caveats(suggestion)
    if config.get("limit"):
        source.caveats.append(quick_caveat(config))
    source.caveats += task_differences(config, [("batch", "--batch", 64)])
    source.title = "LR range test: one run, the LR growing every batch"
    return [finish(source, context, "find_lr", [folder / "suggestion.json"], folder / "config.json", HIDDEN_SETTINGS)]


def read_lr_grid(context: Context) -> list[Source]:
    source = new_source(context, "lr_grid")
    folder = source.folder
    config = load_dict(folder / "config.json")
    rows = [_plain(row) for row in read_grid(folder, history=False)] if (folder / "lr_grid.csv").is_file() else []
    suggestion = _plain(LRRangeSuggestion.read(folder)) if (folder / "suggestion.json").is_file() else {}
    if not rows:
        return [_unfinished(source, config, "no lr_grid.csv: no learning rate of the grid has finished")]
    source.status = ("quick" if config.get("limit") else "full") if suggestion else "partial"
    if suggestion:
        source.blocks.append(_suggestion_paragraph(suggestion, "1.1's range, which 1.2 and 1.3 train from: the grid's "
                                                               "final training losses suggest"))
    else:
        source.blocks.append(Note("missing", text(f"Unfinished: {len(rows)} learning rates so far and no suggestion.json; "
                                                  "run the command again.")))
    source.blocks.append(table(
        ["learning rate", "final training loss", "training accuracy", "diverged", "epochs run", "seconds"],
        [[fmt(r.get("lr"), ".3g"), fmt(r.get("final_train_loss"), ".4g"), percent(r.get("train_accuracy")),
          "yes" if r["diverged"] else "no", fmt(r.get("epochs_run"), "d"), fmt(r.get("seconds"), ".1f")] for r in rows],
        caption="One fresh LeNet-5 per learning rate, from the same initial weights"))
    source.blocks += figures(folder, {"lr_grid.png": "Final training loss against the learning rate (like Smith's Figure 3)"})
    diverged = [r for r in rows if r["diverged"]]
    if diverged:
        lrs = ", ".join(fmt(r.get("lr"), ".3g") for r in diverged)
        epochs = ", ".join(fmt(r.get("epochs_run"), "d") for r in diverged)
        source.caveats.append(text(f"Diverged and stopped: LR {lrs} (after {epochs} epoch(s)); their losses are not "
                                   "comparable and the suggestion leaves them out."))
    source.caveats += _suggestion_caveats(suggestion)
    if config.get("limit"):
        source.caveats += [quick_caveat(config)] + [note for note in [quick_shape("lr_grid", config)] if note]
    source.caveats += task_differences(config, [("grid", "--grid", 10), ("epochs", "--epochs", 5), ("batch", "--batch", 64),
                                                ("start_lr", "--start-lr", 1e-9), ("end_lr", "--end-lr", 10)])
    return [finish(source, context, "lr_grid", [folder / "lr_grid.csv", folder / "suggestion.json"], folder / "config.json",
                   HIDDEN_SETTINGS)]


def _suggestion_paragraph(suggestion: dict, lead: str) -> Paragraph:
    if number(suggestion.get("lr_min")) is None or number(suggestion.get("lr_max")) is None:
        return Paragraph(text(f"{lead} no range: ", suggestion.get("reason") or "the loss never fell", "."))
    return Paragraph(text(f"{lead} ", strong(f"lr_min = {fmt(suggestion['lr_min'], '.3g')}"), " and ",
                          strong(f"lr_max = {fmt(suggestion['lr_max'], '.3g')}"),
                          f" ({suggestion['rule']})." if suggestion.get("rule") else "."))


def _suggestion_caveats(suggestion: dict) -> list[Inline]:
    caveats = []
    if suggestion.get("still_decreasing") and suggestion.get("reason"):
        caveats.append(text(suggestion["reason"]))
    if suggestion.get("stop_reason"):
        caveats.append(text("The sweep stopped early: ", str(suggestion["stop_reason"])))
    return caveats


def _unfinished(source: Source, config: dict, what: str) -> Source:
    """A folder with a config.json but no results: a run that was interrupted or failed."""
    if config:
        source.status = "partial"
        source.blocks = [Note("missing", text(f"Unfinished: {what}; run the command again."))]
        source.date = None
    return source


def _metrics_table(metrics: dict):
    rows = [(label, form(metrics[key])) for label, key, form in METRIC_ROWS if key in metrics]
    return key_value_table(rows, ("metrics.json", "value"))


def _run_blocks(folder: Path, key: str, config: dict, metrics: dict) -> list:
    blocks = []
    if config.get("description"):
        blocks.append(Paragraph(text("The run: ", str(config["description"]), ".")))
    if metrics:
        blocks.append(_metrics_table(metrics))
    if key == "batch_growth":
        blocks += _stage_table(folder)
    return blocks


def _stage_table(folder: Path) -> list:
    """Per batch size: the epochs trained at it and the training loss its last epoch ended with."""
    stages: dict[int, list[dict]] = {}
    for row in read_history(folder / "history.csv", finished=False) if (folder / "history.csv").is_file() else []:
        size = number(row.get("batch_size"))
        if size is not None:
            stages.setdefault(int(size), []).append(row)
    if not stages:
        return []
    import math

    return [table(["batch size", "log2(batch size)", "epochs", "training loss (last epoch)", "validation accuracy"],
                  [[f"{size:,}", fmt(math.log2(size), ".0f"), len(rows), fmt(rows[-1].get("loss"), ".4f"),
                    percent(rows[-1].get("val_accuracy"))] for size, rows in stages.items()],
                  caption="The training loss at the end of each batch size (history.csv)")]


def _run_caveats(folder: Path, config: dict, seeds: Sequence[str], key: str = "") -> list[Inline]:
    caveats = []
    if config.get("limit"):
        caveats += [quick_caveat(config)] + [note for note in [quick_shape(key, config)] if note]
    note = last_line(folder / "log.txt", "note:")
    if note:
        caveats.append(text(note.removeprefix("note: ").capitalize()))
    if len(seeds) > 1:
        caveats.append(text(f"{len(seeds)} seeds ({', '.join(seeds)}): the table shows each; the spread between seeds "
                            "is the uncertainty of these numbers."))
    elif config.get("seed") is not None:
        caveats.append(text(f"One seed ({config['seed']}): the spread between seeds, usually larger than the "
                            "test-set noise, is not measured here."))
    return caveats


def read_training(context: Context, key: str) -> list[Source]:
    """A train_lenet.py folder (``clr`` or ``batch_growth``): one run, or one run per ``seed-<s>/`` subfolder."""
    source = new_source(context, key)
    folder = source.folder
    seed_dirs = [d for d in subfolders(folder) if d.name.startswith("seed-")]
    top_config, top_metrics = load_dict(folder / "config.json"), _metrics(folder)
    checks = {"clr": [("mode", "--mode", "exp_range")],
              "batch_growth": [("batch_start", "--batch-start", 32), ("batch_end", "--batch-end", 4096)]}[key]
    if seed_dirs:
        return [_read_seeds(context, key, source, seed_dirs, top_config, top_metrics, checks)]
    if not top_metrics:
        reason = last_line(folder / "log.txt", "error")
        what = f"the run stopped: {reason.removeprefix('error: ')}" if reason else "no metrics.json"
        done = len(read_history(folder / "history.csv", finished=False)) if (folder / "history.csv").is_file() else 0
        source = _unfinished(source, top_config, f"{done} epoch(s) in history.csv, {what}")
        if top_config:
            source.blocks += _run_blocks(folder, key, top_config, {}) + figures(folder, RUN_FIGURES[key])
            source.caveats += _run_caveats(folder, top_config, [])
        return [source]
    source.status = "quick" if top_config.get("limit") else "full"
    story, story_caveats = range_story(context.root, key, top_config)
    source.blocks = story + _run_blocks(folder, key, top_config, top_metrics) + figures(folder, RUN_FIGURES[key])
    source.caveats = _run_caveats(folder, top_config, [], key) + story_caveats + task_differences(top_config, checks)
    return [finish(source, context, key, [folder / "metrics.json"], folder / "config.json", HIDDEN_SETTINGS)]


def _read_seeds(context, key, source, seed_dirs, top_config, aggregate, checks) -> Source:
    seed_dirs = sorted(seed_dirs, key=lambda d: (not d.name[5:].isdigit(), int(d.name[5:]) if d.name[5:].isdigit() else d.name))
    runs = [(d.name.removeprefix("seed-"), d, _metrics(d), load_dict(d / "config.json")) for d in seed_dirs]
    config = top_config or next((c for _, _, _, c in runs if c), {})
    finished = [run for run in runs if run[2]]
    unfinished = [seed for seed, _, metrics, _ in runs if not metrics]
    if not finished:
        return _unfinished(source, config, f"no seed has finished ({', '.join(unfinished)} started)")
    source.status = "partial" if unfinished else ("quick" if config.get("limit") else "full")
    story, story_caveats = range_story(context.root, key, config)
    source.blocks += story
    if config.get("description"):
        source.blocks.append(Paragraph(text("Each run: ", str(config["description"]), ".")))
    source.blocks.append(table(
        ["seed", "test accuracy", "validation accuracy", "training accuracy", "gap (points)", "epochs", "steps", "time (s)"],
        [[seed, percent(m.get("test_accuracy")), percent(m.get("val_accuracy")), percent(m.get("train_accuracy")),
          fmt(100 * number(m["generalization_gap"]), "+.2f") if number(m.get("generalization_gap")) is not None else "-",
          fmt(m.get("epochs"), "d"), fmt(m.get("optimizer_steps"), ","), fmt(m.get("train_time_s"), ".1f")]
         for seed, _, m, _ in finished],
        caption="One row per seed (seed-<s>/metrics.json)"))
    if aggregate:
        source.blocks.append(_aggregate_table(aggregate))
    source.blocks += figures(source.folder, SEEDS_FIGURES)
    # One seed's curves stand for all of them: the first seed that has figures.
    first_seed, first_dir = next(((seed, d) for seed, d, _, _ in finished if pngs(d)), finished[0][:2])
    source.blocks += figures(first_dir, RUN_FIGURES[key], prefix=f"Seed {first_seed}: ")
    if unfinished:
        source.blocks.append(Note("missing", text(f"Unfinished seeds: {', '.join(unfinished)}; run the command again.")))
    source.caveats = (_run_caveats(first_dir, config, [seed for seed, *_ in runs], key) + story_caveats
                      + task_differences(config, checks))
    results = [d / "metrics.json" for _, d, m, _ in finished] + ([source.folder / "metrics.json"] if aggregate else [])
    config_path = source.folder / "config.json" if top_config else first_dir / "config.json"
    return finish(source, context, key, results, config_path, HIDDEN_SETTINGS)


def _aggregate_table(aggregate: dict):
    """The seeds' metrics.json: a metric's ``{"mean", "sd", "values"}`` as a row, other entries as they are."""
    forms = {key: form for _, key, form in METRIC_ROWS}
    labels = {key: label for label, key, _ in METRIC_ROWS}
    spread = [key for key, value in aggregate.items() if isinstance(value, dict) and "mean" in value]
    spread.sort(key=lambda key: list(forms).index(key) if key in forms else len(forms))
    rows = []
    for key in spread:
        form = forms.get(key, readable)
        sd = aggregate[key].get("sd")
        shown_sd = (f"{100 * number(sd):.2f} points" if form is percent and number(sd) is not None
                    else fmt(100 * number(sd), ".2f") + " points" if key == "generalization_gap" and number(sd) is not None
                    else readable(sd) if number(sd) == 0 else fmt(sd, ".3g"))
        rows.append([labels.get(key, key), form(aggregate[key].get("mean")), shown_sd])
    others = [(key, value) for key, value in scalar_settings({k: v for k, v in aggregate.items() if k not in spread})]
    return table(["over the seeds (metrics.json)", "mean", "standard deviation"],
                 rows + [[key, value, ""] for key, value in others])


def _plain(record) -> dict:
    """A record's fields as the tables here read them (JSON data without ``kind`` and ``schema``)."""
    return {key: value for key, value in record.to_json().items() if key not in ("kind", "schema")}


def _metrics(folder: Path) -> dict:
    """``metrics.json`` of a run or of a ``--seeds`` folder, validated (``RecordError`` names a bad one); {} when absent."""
    return _plain(read_metrics(folder)) if (folder / "metrics.json").is_file() else {}


def read_clr(context: Context) -> list[Source]:
    return read_training(context, "clr")


def read_batch_growth(context: Context) -> list[Source]:
    return read_training(context, "batch_growth")
