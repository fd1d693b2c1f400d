"""summary.md of a transfer-learning sweep: every run, the best LR per mode, the winner, the comparison.

One split discipline (Reference section 9): the selection images, held out
of the training split, make every choice (a mode's best LR, the winner, which
mode is ahead, which depends more on the LR); the validation images report
the chosen runs' figures, read once, after the choice (the Decathlon's test
labels are withheld). Every sentence of the kind "the winner is", "tied",
"ahead", "depends more" comes from ``pyimagesearch.verdicts``: exact McNemar
on the runs' per-image correctness (correctness.json), the chance check first
(no winner among runs that do not beat 1 / classes by more than their
standard error), a diverged run never ranked, and learning-rate sensitivity
over the LRs both modes share. A sweep of runs without a selection split
(written before it existed) is ranked on validation, and the summary says
that those figures are then optimistic.

The runs are read through their records (``records.transfer``): a file that
fails validation raises ``RecordError``, one sentence naming the file and the
field, and no summary is written from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from pyimagesearch import verdicts
from pyimagesearch.core.outputs import prepare_dir, write_text
from pyimagesearch.records.transfer import DatasetDescription, ImageCorrectness, TransferRun
from pyimagesearch.stats import binomial_standard_error
from pyimagesearch.transfer.settings import MODE_NAMES, MODES, run_name


def load_finished_runs(folder: Path) -> list[TransferRun]:
    """The ``TransferRun`` of every run folder in ``folder`` with a metrics.json, ordered by mode and LR."""
    runs = [TransferRun.read(path) for path in sorted(Path(folder).glob(f"*/{TransferRun.FILE}"))]
    return sorted(runs, key=lambda m: (m.mode, m.lr))


def load_correctness(folder: Path, runs: Sequence[TransferRun]) -> dict[str, ImageCorrectness]:
    """``{run name: ImageCorrectness}`` of the runs whose folder holds a correctness.json."""
    paths = {run_name(m.mode, m.lr): Path(folder) / run_name(m.mode, m.lr) / ImageCorrectness.FILE for m in runs}
    return {name: ImageCorrectness.read(path) for name, path in paths.items() if path.is_file()}


def chance_level(folder: Path) -> float | None:
    """1 / classes from the sweep's dataset.json, or None without it."""
    description = read_description(folder)
    return None if description is None else 1 / description.num_classes


def read_description(folder: Path) -> DatasetDescription | None:
    path = Path(folder) / DatasetDescription.FILE
    return DatasetDescription.read(path) if path.exists() else None


def percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def label(m: TransferRun) -> str:
    return f"{m.mode} at lr {m.lr:g}"


class Choices:
    """What the choices are made on: each run's selection correctness, else its selection or validation accuracy.

    ``on_selection`` is False for runs without a selection split (older
    records): the choices then fall back to the validation accuracy.
    """

    def __init__(self, runs: Sequence[TransferRun], correctness: Mapping[str, ImageCorrectness] | None = None):
        self.runs, self.correctness = list(runs), dict(correctness or {})
        finished = [m for m in self.runs if not m.diverged]
        self.on_selection = bool(finished) and all(m.selection_images for m in finished)
        self.images = (finished[0].selection_images if self.on_selection else finished[0].val_images) if finished else 0
        self.split = "selection" if self.on_selection else "validation"

    def accuracy(self, m: TransferRun) -> float | None:
        return m.selection_accuracy if self.on_selection else m.final_val_accuracy

    def score(self, m: TransferRun):
        """Per-image correctness when every finished run has it, else the accuracy."""
        finished = [r for r in self.runs if not r.diverged]
        if self.on_selection and all(run_name(r.mode, r.lr) in self.correctness for r in finished):
            return self.correctness[run_name(m.mode, m.lr)].correct("selection")
        return self.accuracy(m)

    def best_runs(self) -> dict[str, TransferRun]:
        """Per mode, the finished run with the highest accuracy on the choice split (the first on a tie)."""
        best = {}
        for m in self.runs:
            if m.diverged or self.accuracy(m) is None:
                continue
            if m.mode not in best or self.accuracy(m) > self.accuracy(best[m.mode]):
                best[m.mode] = m
        return best

    def verdict_of_winner(self, chance: float | None) -> verdicts.Verdict:
        entries = [(label(m), None if m.diverged else self.score(m), m.diverged) for m in self.runs]
        images = None if any(e[1] is not None and not isinstance(e[1], float) for e in entries) else self.images
        return verdicts.winner(entries, chance=chance, images=images)


def best_runs(runs: Sequence[TransferRun], correctness=None) -> dict[str, TransferRun]:
    """Per mode, the best finished run on the selection images (validation for older records)."""
    return Choices(runs, correctness).best_runs()


def reported(m: TransferRun) -> str:
    """A chosen run's validation figure, with its binomial standard error."""
    final = m.final_val_accuracy
    if final is None:
        return "n/a"
    error = binomial_standard_error(final, m.val_images)
    return f"{percent(final)} (standard error {100 * error:.1f} points on {m.val_images:,} validation images)"


def split_sentence(choices: Choices, runs: Sequence[TransferRun]) -> str:
    if choices.on_selection:
        return (f"The choices (each mode's best learning rate, the winner, the comparisons) are made on the "
                f"{choices.images:,} selection images held out of the training split; the figures reported for the "
                "chosen runs are their validation accuracy, read once, after the choice.")
    return ("These runs have no selection split, so the choices below are made on the validation images that also "
            "report them: their figures are optimistic.")


def comparison(runs: Sequence[TransferRun], correctness=None) -> str:
    """A paragraph comparing fine-tuning with feature extraction, every claim from ``verdicts``."""
    choices = Choices(runs, correctness)
    best = choices.best_runs()
    if set(best) != set(MODES):
        if not best:
            return "Every run diverged, so the two modes cannot be compared."
        present, missing = next(iter(best)), next(m for m in MODES if m not in best)
        if any(m.mode == missing for m in runs):
            return (f"Every {MODE_NAMES[missing]} run diverged, so only {MODE_NAMES[present]} has a result; train "
                    f"{MODE_NAMES[missing]} with lower learning rates to compare the two.")
        return f"Only {MODE_NAMES[present]} runs are finished; train with --mode {missing} as well to compare the two."
    ft, fe = best["finetune"], best["feature"]
    names = (f"fine-tuning (lr {ft.lr:g})", f"feature extraction (lr {fe.lr:g})")
    a, b = choices.score(ft), choices.score(fe)
    if isinstance(a, float):
        verdict = verdicts.winner([(names[0], a, None), (names[1], b, None)], images=choices.images)
        said = verdict.sentence()
    else:
        said = verdicts.compare_paired_images(a, b, names).sentence()
    text = (f"On the {choices.split} images, {said[0].lower() + said[1:]}. Their validation accuracy: fine-tuning "
            f"{percent(ft.final_val_accuracy)}, feature extraction {percent(fe.final_val_accuracy)}.")
    if ft.wall_seconds > 0 and fe.wall_seconds > 0:
        text += (" Seconds per run, fine-tuning against feature extraction: "
                 f"{verdicts.ratio_sentence(round(ft.wall_seconds, 1), round(fe.wall_seconds, 1), 'seconds')}.")
    results = {mode: [(m.lr, None if m.diverged else choices.accuracy(m)) for m in runs if m.mode == mode]
               for mode in MODES}
    sensitivity = verdicts.sensitivity([lr for lr, _ in results["finetune"]], [acc for _, acc in results["finetune"]],
                                       [lr for lr, _ in results["feature"]], [acc for _, acc in results["feature"]],
                                       ("fine-tuning", "feature extraction"), images=choices.images)
    return text + f" Learning-rate sensitivity on the {choices.split} images: {sensitivity.sentence()}."


def winner_lines(runs: Sequence[TransferRun], chance: float | None, correctness=None) -> list[str]:
    """The winner paragraph: the verdict on the choice split, then the winner's validation figure."""
    choices = Choices(runs, correctness)
    verdict = choices.verdict_of_winner(chance)
    by_label = {label(m): m for m in runs}
    if verdict.leader is not None:
        return [f"**Winner: {verdict.leader}**, chosen on the {choices.split} images ({verdict.sentence()}). Its "
                f"validation accuracy, read after the choice: {reported(by_label[verdict.leader])}."]
    if verdict.outcome == "no difference detected":
        shown = "; ".join(f"{name} {reported(by_label[name])}" for name in verdict.names)
        return [f"**No winner: {verdict.sentence()}** on the {choices.split} images. Validation accuracy of the two, "
                f"read after the choice: {shown}."]
    return [f"**No winner**: {verdict.reason}."]


def chance_paragraph(runs: Sequence[TransferRun], chance: float, correctness=None) -> str:
    """The warning that opens summary.md when no finished run beats chance (the winner's own check), or ""."""
    verdict = Choices(runs, correctness).verdict_of_winner(chance)
    if verdict.outcome != "not comparable" or "chance" not in verdict.reason:
        return ""
    return (f"**No run beats chance.** With {round(1 / chance)} classes chance is {percent(chance)}: {verdict.reason}, "
            "so the ranking below does not separate the learning rates or the modes.")


def summary_markdown(dataset: str, runs: Sequence[TransferRun], chance: float | None = None,
                     correctness: Mapping[str, ImageCorrectness] | None = None,
                     description: DatasetDescription | None = None, preface: Sequence[str] = ()) -> str:
    """summary.md: the stand-in note and data first, every run, the best LR per mode, the winner, the comparison.

    ``preface``: sentences that come before everything else (the stand-in's
    note, the pretraining); ``description`` gives the data set's provenance.
    """
    if not runs:
        raise ValueError("Argument `runs` must hold at least one run.")
    choices = Choices(runs, correctness)
    lines = [f"# Transfer learning on {dataset}", ""]
    for sentence in preface:
        lines += [sentence, ""]
    if description is not None:
        lines += [data_sentence(description), ""]
    warning = chance_paragraph(runs, chance, correctness) if chance else ""
    if warning:
        lines += [warning, ""]
    lines += [
        split_sentence(choices, runs) + " Diverged runs are listed, never ranked; the best validation accuracy picks "
        "its epoch on the validation images, so it is shown only as a curve's peak.",
        "",
        "| mode | lr | selection accuracy | final val accuracy | best val accuracy (epoch) | epochs | wall time (s) | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        note = f"diverged: {m.diverged}" if m.diverged else ""
        lines.append(
            f"| {m.mode} | {m.lr:g} | {percent(m.selection_accuracy)} | {percent(m.final_val_accuracy)} | "
            f"{percent(m.best_val_accuracy)} ({m.best_epoch}) | {m.epochs} | {m.wall_seconds:.1f} | {note} |"
        )
    best = choices.best_runs()
    lines += ["", f"## Best learning rate per mode (on the {choices.split} images)", ""]
    for mode in MODES:
        if mode in best:
            m = best[mode]
            chosen = f"selection {percent(m.selection_accuracy)}; " if choices.on_selection else ""
            lines.append(f"- {MODE_NAMES[mode]}: lr {m.lr:g}, {chosen}validation {percent(m.final_val_accuracy)}")
        elif any(m.mode == mode for m in runs):
            lines.append(f"- {MODE_NAMES[mode]}: none, every run diverged")
    lines += [""] + winner_lines(runs, chance, correctness)
    diverged = [m for m in runs if m.diverged]
    if diverged:
        lines += ["", "## Diverged runs (not ranked)", ""]
        lines += [f"- {label(m)}: stopped in epoch {m.epochs}, {m.diverged}" for m in diverged]
    lines += ["", "## Fine-tuning or feature extraction", "", comparison(runs, correctness), ""]
    return "\n".join(lines)


SOURCE_WORDS = {"decathlon": "a Visual Decathlon target", "folder": "a folder of the user's own images",
                "standin": "the offline stand-in for a Visual Decathlon target"}


def data_sentence(description: DatasetDescription) -> str:
    """Where the data come from, from dataset.json: the Decathlon, a user's folder or the stand-in."""
    kind = description.provenance
    withheld = " (the Decathlon's test labels are withheld)" if kind == "decathlon" else ""
    words = "" if kind == "standin" else f"{SOURCE_WORDS[kind]}, "  # the stand-in's origin says what it is
    return (f"Data: {description.name}, {words}{description.origin}, {description.num_classes} classes; figures are "
            f"reported on its {description.evaluation_split} split{withheld}.")


def write_summary(folder: Path, dataset: str, runs: Sequence[TransferRun] | None = None,
                  preface: Sequence[str] = ()) -> str:
    """Write ``folder/summary.md`` from ``runs`` (default: the finished runs in ``folder``) and return its text.

    It opens with the stand-in's note (dataset.json) and the pretraining of a
    stand-in base (its ``Pretraining`` record), then ``preface``.
    """
    from pyimagesearch.transfer.pretrain import describe_pretraining, pretraining_of

    runs = load_finished_runs(folder) if runs is None else runs
    description = read_description(folder)
    note = description.note if description is not None and description.note else None
    bases = [pretraining_of(weights) for weights in dict.fromkeys(m.settings.get("weights") for m in runs)
             if isinstance(weights, str)]
    preface = [*([note] if note else []), *(f"Base: {describe_pretraining(base)}." for base in bases if base), *preface]
    text = summary_markdown(dataset, runs, chance_level(folder), load_correctness(folder, runs), description, preface)
    write_text(prepare_dir(folder) / "summary.md", text)
    return text
