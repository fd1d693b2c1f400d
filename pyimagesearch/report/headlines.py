"""The headline numbers of an experiment's finished results, read through their records, as Markdown lines.

``HEADLINES`` maps each question of the homework to its experiments and a
function ``(folder, record) -> lines`` for each: ``folder`` is the one whose
completion record (``record``) says the experiment finished. Every number
comes from a record class of ``pyimagesearch.records``; the architecture
calculator has none for its tables, so its totals come from its completion
record's summary, checked as counts here. A bad file raises its
``RecordError`` and a number that cannot be what it is shown as
``ImpossibleValue``; the results page then shows the sentence instead of
the numbers (``results_page``).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from pyimagesearch.core.run import COMPLETE_NAME
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.detection import DetectionCounts, RpnHead
from pyimagesearch.records.lenet import Comparison, SeedsAggregate, read_metrics
from pyimagesearch.records.lr_finder import LRRangeSuggestion, read_grid
from pyimagesearch.records.semisupervised import RESULTS
from pyimagesearch.records.transfer import DatasetDescription
from pyimagesearch.report.files import fmt, learning_rate, percent
from pyimagesearch.report.readers.transfer import runs_of
from pyimagesearch.report.render_markdown import code_span, escape

Headline = Callable[[Path, dict], list[str]]
TOTALS = (("parameters", "params"), ("weights", "weights"), ("biases", "biases"), ("multiply-adds", "macs"),
          ("activations", "activations"))


def cell(value: Any) -> str:
    """Text from a file as a literal table cell."""
    return escape(str(value)).replace("|", "\\|")


def table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """A Markdown table, its first ``left`` columns left-aligned and the others right-aligned."""
    rule = "| " + " | ".join(["---"] * left + ["---:"] * (len(header) - left)) + " |"
    return ["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(row) + " |" for row in rows)]


def values(rows: Sequence[tuple[str, str]]) -> list[str]:
    return table(["measured", "value"], rows)


def points(difference: float | None) -> str:
    """A difference of accuracies in percentage points: 0.0153 -> "+1.53 points"."""
    return "-" if difference is None else f"{fmt(100 * difference, '+.2f')} points"


def p_value(p: float | None) -> str:
    return "-" if p is None else "<0.001" if p < 0.001 else fmt(p, ".3f")


# -- Problem 1 --------------------------------------------------------------------------------------
def suggestion_rows(suggestion: LRRangeSuggestion) -> list[tuple[str, str]]:
    if not suggestion:
        return [("suggested range", f"none: {cell(suggestion.reason)}")]
    rows = [("lr_min", learning_rate(suggestion.lr_min)), ("lr_max", learning_rate(suggestion.lr_max))]
    if suggestion.lr_at_minimum is not None:
        rows.append(("LR at the loss's minimum", learning_rate(suggestion.lr_at_minimum)))
    if suggestion.rule:
        rows.append(("rule", cell(suggestion.rule)))
    return rows


def find_lr(folder: Path, record: dict) -> list[str]:
    suggestion = LRRangeSuggestion.read(folder)
    rows = suggestion_rows(suggestion)
    if suggestion.batches is not None:
        rows.append(("batches trained", f"{suggestion.batches:,}"))
    return values(rows)


def lr_grid(folder: Path, record: dict) -> list[str]:
    lines = values(suggestion_rows(LRRangeSuggestion.read(folder)))
    rows = [[fmt(row.lr, ".3g"), fmt(row.final_train_loss, ".4g"), percent(row.train_accuracy),
             f"yes, after {row.epochs_run} epoch(s)" if row.diverged else "no"] for row in read_grid(folder, history=False)]
    return lines + [""] + table(["learning rate", "final training loss", "training accuracy", "diverged"], rows)


def training(folder: Path, record: dict) -> list[str]:
    """``train_lenet.py``'s metrics.json: one run, or the seeds' aggregate with each seed's test accuracy."""
    metrics = read_metrics(folder)
    if isinstance(metrics, SeedsAggregate):
        test = metrics.test_accuracy
        spread = "sd undefined for one seed" if test.sd is None else f"sd {fmt(100 * test.sd, '.2f')} points"
        times = metrics.train_time_s.values
        return values([
            ("seeds", ", ".join(str(seed) for seed in metrics.seeds)),
            ("test accuracy, mean", f"**{percent(test.mean)}** ({spread})"),
            ("test accuracy per seed", ", ".join(percent(value) for value in test.values)),
            ("generalization gap (train - test accuracy), mean", points(metrics.generalization_gap.mean)),
            ("epochs", fmt(metrics.epochs.mean, "d")),
            ("optimizer steps, mean", fmt(metrics.optimizer_steps.mean, ",")),
            ("training time per seed", " to ".join(dict.fromkeys(fmt(t, ".0f") for t in (min(times), max(times)))) + " s"),
        ])
    return values([
        ("test accuracy", f"**{percent(metrics.test_accuracy)}**"),
        ("validation accuracy", percent(metrics.val_accuracy)),
        ("generalization gap (train - test accuracy)", points(metrics.generalization_gap)),
        ("epochs", fmt(metrics.epochs, "d")),
        ("optimizer steps", fmt(metrics.optimizer_steps, ",")),
        ("training time", f"{fmt(metrics.train_time_s, '.0f')} s"),
    ])


def interval(record) -> str:
    """A t interval of a difference: "+1.53 points, 95% t interval -0.38 to +0.90"; one value has none."""
    if record.low is None:
        return f"{points(record.mean)} (one pair: no interval)"
    return (f"{points(record.mean)}, {fmt(100 * record.confidence, 'g')}% t interval {fmt(100 * record.low, '+.2f')} "
            f"to {fmt(100 * record.high, '+.2f')}")


def comparison(folder: Path, record: dict) -> list[str]:
    compared = Comparison.read(folder)
    verdict = compared.verdict
    rows = []
    for side in ("A", "B"):
        accuracy = verdict.sides.get(side, {}).get("test_accuracy", {})
        folder_shown = code_span(getattr(compared, side))
        rows.append((f"{side}: test accuracy, mean", f"{percent(accuracy.get('mean'))} ({folder_shown})"))
    rows += [("A - B, test accuracy", interval(verdict.test_difference)),
             ("A - B, generalization gap", interval(verdict.gap_difference)),
             ("paired runs", f"{len(verdict.per_seed)}")]
    if verdict.budget_differs:
        rows.append(("budgets differ in", cell(", ".join(verdict.budget_differs))))
    return values(rows)


# -- Problem 2 --------------------------------------------------------------------------------------
def architecture(folder: Path, record: dict) -> list[str]:
    """The calculator's totals, as its completion record's summary holds them."""
    summary = record.get("summary") or {}
    rows = []
    field = summary.get("receptive_field")
    if field is not None:
        if not isinstance(field, str) or not re.fullmatch(r"\d+x\d+", field):
            raise RecordError(str(folder / COMPLETE_NAME), "summary.receptive_field", f"= {field!r} is not a size "
                                                                                      "such as 13x13")
        rows.append(("receptive field of the stack", field))
    for label, key in (("multiply-adds, naive module", "naive_macs"),
                       ("multiply-adds, with 1x1 reductions", "reduction_macs"), *TOTALS):
        if key in summary:
            value = summary[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise RecordError(str(folder / COMPLETE_NAME), f"summary.{key}", f"= {value!r} is not a count "
                                                                                 "(an integer >= 0)")
            rows.append((label, f"{value:,}"))
    saved = summary.get("macs_saved_percent")
    if isinstance(saved, (int, float)) and not isinstance(saved, bool) and 0 <= saved <= 100:
        rows.append(("multiply-adds saved by the reductions", f"{saved:g}%"))
    if not rows:
        page = code_span(str(folder / f"{folder.name}.md"))
        return [f"Its completion record holds no totals; the calculation is in {page}."]
    return values(rows)


def detection(folder: Path, record: dict) -> list[str]:
    counts, head = DetectionCounts.read(folder), RpnHead.read(folder)
    image, anchors = counts.image, counts.anchors
    lines = values([
        ("image", f"{cell(Path(image.path).name)}, {image.original['width']} x {image.original['height']}, rescaled to "
                  f"{image.rescaled['width']} x {image.rescaled['height']}"),
        ("anchors", f"{anchors.feature_map['height']} x {anchors.feature_map['width']} positions x {anchors.k} = "
                    f"{anchors.total:,}"),
        ("anchors entirely inside the image", f"{anchors.inside:,}"),
        (f"proposals at test time (top {counts.test.post_nms_top_n:,})", f"{counts.test.count:,}"),
        ("RPN head: parameters", f"{head.totals['params']:,}"),
        ("RPN head: multiply-adds", f"{head.totals['macs']:,}"),
    ])
    steps = table(["step (training settings)", "boxes"], [[cell(step), f"{count:,}"] for step, count in counts.steps.items()])
    return lines + [""] + steps + ["", f"Stand-ins: {cell(counts.stand_in)}"]


# -- Problem 3 --------------------------------------------------------------------------------------
def transfer(folder: Path, record: dict, mode: str) -> list[str]:
    """3.1: the stand-in's note, the base, the data set and the fine-tuning runs; 3.2: the feature-extraction
    runs, then the winner and the comparison of the modes, in summary.md's words (``transfer.summary``)."""
    from pyimagesearch.transfer import summary
    from pyimagesearch.transfer.pretrain import describe_pretraining, pretraining_of

    lines = []
    finished = [run["metrics"] for run in runs_of(folder) if run["metrics"] is not None]
    if mode == "finetune" and (folder / DatasetDescription.FILE).exists():
        info = DatasetDescription.read(folder)
        train, validation = info.splits.train, info.splits.validation
        per_class = train.images_per_class
        bases = [pretraining_of(weights) for weights in dict.fromkeys(m.settings.get("weights") for m in finished)
                 if isinstance(weights, str)]
        lines = [escape(sentence) for sentence in ([info.note] if info.note else [])]
        lines += [f"Base: {escape(describe_pretraining(base))}." for base in bases if base]
        lines = [line for sentence in lines for line in (sentence, "")]
        selection = info.splits.selection.images if info.splits.selection is not None else 0
        lines += values([("data set", f"{cell(info.name)}: {info.num_classes:,} classes"),
                         ("training images", f"{train.images:,} ({per_class.min:,} to {per_class.max:,} per class, "
                                             f"median {per_class.median:g})"),
                         ("selection images (the choices)", f"{selection:,}"),
                         ("validation images (the figures)", f"{validation.images:,}")]) + [""]
    runs = [m for m in finished if m.mode == mode]
    if not runs:
        return lines + [f"No {mode} run in {code_span(str(folder))}."]
    rows = [[fmt(m.lr, "g"), percent(m.selection_accuracy, 1) if m.selection_accuracy is not None else "-",
             percent(m.final_val_accuracy, 1), f"{percent(m.best_val_accuracy, 1)} ({m.best_epoch})", f"{m.epochs}",
             fmt(m.wall_seconds, ".0f"), cell(weights_name(m.settings.get("weights", "?"))), cell(m.diverged or "")]
            for m in runs]
    lines += table(["learning rate", "selection accuracy", "final val. accuracy", "best val. accuracy (epoch)",
                    "epochs", "wall time (s)", "weights", "diverged"], rows)
    if mode == "feature":
        correctness = summary.load_correctness(folder, finished)
        # summary.md's own Markdown: its names are modes and learning rates, never text from a file
        lines += ["", *summary.winner_lines(finished, summary.chance_level(folder), correctness),
                  "", summary.comparison(finished, correctness)]
    return lines


def weights_name(weights: str) -> str:
    """A run's weights in a table cell: imagenet, none, "fashion-mnist base <digest>" or a weights file's name."""
    path = Path(str(weights))
    if len(path.parts) < 2:
        return str(weights)
    if path.parent.name.startswith("fashion-mnist-"):  # transfer.pretrain.pretrain_folder
        return f"fashion-mnist base {path.parent.name[len('fashion-mnist-'):]}"
    return path.name


# -- Problem 4 --------------------------------------------------------------------------------------
def label_noise(points_: list) -> list[str]:
    return table(["p %", "labels replaced", "test accuracy", "vs p = 0", "McNemar p"],
                 [[fmt(row.noise_percent, "g"), f"{row.changed:,}", percent(row.test_accuracy), points(row.drop_vs_clean),
                   p_value(row.mcnemar_p)] for row in points_])


def resampling(points_: list) -> list[str]:
    return table(["sampling", "test accuracy", "head classes", "tail classes", "vs natural", "McNemar p"],
                 [[cell(row.label), percent(row.test_accuracy), percent(row.head_accuracy), percent(row.tail_accuracy),
                   points(row.gain_vs_natural), p_value(row.mcnemar_p)] for row in points_])


def teacher_student(points_: list) -> list[str]:
    def model(row) -> str:
        return f"student K {row.k}, P {row.p}" if row.model == "student" else row.model

    return table(["model", "pairs", "precision", "pre-trained accuracy", "test accuracy", "vs teacher", "McNemar p"],
                 [[model(row), fmt(row.pairs, ","), percent(row.precision), percent(row.pretrained_test_accuracy),
                   percent(row.test_accuracy), points(row.gain_vs_teacher), p_value(row.mcnemar_p)] for row in points_])


SEMISUPERVISED_TABLES = {"label-noise": label_noise, "resampling": resampling, "teacher-student": teacher_student}


def semisupervised(folder: Path, record: dict, name: str) -> list[str]:
    results = RESULTS[name].read(folder)
    if not results.points:
        return [f"Its results.json holds no point: {code_span(str(folder))}."]
    return SEMISUPERVISED_TABLES[name](results.points)


HEADLINES: dict[str, tuple[tuple[str, Headline], ...]] = {
    "1.1": (("lr_grid", lr_grid), ("find_lr", find_lr)),
    "1.2": (("clr", training),),
    "1.3": (("batch_growth", training), ("comparison", comparison)),
    "2.1": (("alexnet", architecture),),
    "2.2": (("vgg19", architecture),),
    "2.3": (("receptive_field", architecture),),
    "2.4 (b-d)": (("inception", architecture),),
    "2.5 (c-d)": (("detection", detection),),
    "3.1 (a-c)": (("transfer", partial(transfer, mode="finetune")),),
    "3.2 (a-b)": (("transfer", partial(transfer, mode="feature")),),
    "4.2 (a-b)": (("label_noise", partial(semisupervised, name="label-noise")),
                  ("resampling", partial(semisupervised, name="resampling"))),
    "4.3 (b-d)": (("teacher_student", partial(semisupervised, name="teacher-student")),),
}
