"""Read everything under the output root into a ``Report``: one ``Question`` per computed question of the homework."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Callable

from pyimagesearch.records.base import RecordError
from pyimagesearch.report.document import Note, Question, ReadingQuestion, Report, Source, text
from pyimagesearch.report.files import load_dict
from pyimagesearch.report.questions import QUESTIONS, READING_QUESTIONS
from pyimagesearch.report.readers import calculators, lenet, semisupervised, transfer
from pyimagesearch.report.readers.common import Context

TITLE = "Homework 3: the project's results, question by question"
RUNS_FILE = "runs.json"  # what the report's runner last did per experiment, in the report's folder

# For each question, in order, the readers of its results: each returns one or more sources.
READERS: dict[str, tuple[Callable[[Context], list[Source]], ...]] = {
    "1.1": (lenet.read_lr_grid, lenet.read_find_lr),
    "1.2": (lenet.read_clr,),
    "1.3": (lenet.read_batch_growth, lenet.read_comparison),
    "2.1": (partial(calculators.read_architecture, key="alexnet"),),
    "2.2": (partial(calculators.read_architecture, key="vgg19"),),
    "2.3": (partial(calculators.read_architecture, key="receptive_field"),),
    "2.4 (b-d)": (partial(calculators.read_architecture, key="inception"),),
    "2.5 (c-d)": (calculators.read_detection,),
    "3.1 (a-c)": (partial(transfer.read_transfer, mode="finetune"),),
    "3.2 (a-b)": (partial(transfer.read_transfer, mode="feature"),),
    "4.2 (a-b)": (partial(semisupervised.read_semisupervised, key="label_noise"),
                  partial(semisupervised.read_semisupervised, key="resampling")),
    "4.3 (b-d)": (partial(semisupervised.read_semisupervised, key="teacher_student"),),
}


def read_sources(context: Context, reader: Callable[[Context], list[Source]]) -> list[Source]:
    """What ``reader`` finds; a result file failing its record's check is a source with that sentence as its caveat."""
    try:
        return reader(context)
    except RecordError as error:
        return [Source(title="A result file failed its check", folder=context.root, status="partial",
                       blocks=[Note("failed", text("Not shown: a result file failed its check (see the caveat)."))],
                       caveats=[text(str(error))])]


def collect(root: Path, report_folder: Path) -> Report:
    """The report of whatever results exist under ``root``; ``report_folder`` holds the runner's runs.json."""
    attempts = load_dict(Path(report_folder) / RUNS_FILE)
    context = Context(Path(root), {key: value for key, value in attempts.items() if isinstance(value, dict)})
    questions = []
    for spec in QUESTIONS:
        sources = [source for reader in READERS[spec.id] for source in read_sources(context, reader)]
        questions.append(Question(spec.id, spec.anchor, spec.title, spec.task, sources, list(spec.reading)))
    return Report(TITLE, datetime.now().strftime("%Y-%m-%d %H:%M"), Path(root), questions,
                  [ReadingQuestion(*entry) for entry in READING_QUESTIONS])
