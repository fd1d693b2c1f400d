"""Read everything under the output root into a ``Report``: one ``Question`` per computed question of the homework.

A reader that meets a result file failing its check (``RecordError``, raised
by the file's record) or a number that cannot be what it is shown as
(``ImpossibleValue``, raised by a formatter) does not show that experiment's
numbers: its source says "not shown" and carries the one sentence naming the
file and field as its caveat. The other experiments of the question, and the
other questions, are read as usual.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Callable

from pyimagesearch.records.base import RecordError
from pyimagesearch.report.document import Note, Question, ReadingQuestion, Report, Source, code, text
from pyimagesearch.report.files import ImpossibleValue, load_dict
from pyimagesearch.report.questions import EXPERIMENTS, QUESTIONS, READING_QUESTIONS
from pyimagesearch.report.readers import calculators, lenet, semisupervised, transfer
from pyimagesearch.report.readers.common import Context, new_source

TITLE = "Homework 3: the project's results, question by question"
RUNS_FILE = "runs.json"  # what the report's runner last did per experiment, in the report's folder

Reader = Callable[[Context], list[Source]]

# For each question, in order, its experiments and their readers: each reader returns one or more sources.
READERS: dict[str, tuple[tuple[str, Reader], ...]] = {
    "1.1": (("lr_grid", lenet.read_lr_grid), ("find_lr", lenet.read_find_lr)),
    "1.2": (("clr", lenet.read_clr),),
    "1.3": (("batch_growth", lenet.read_batch_growth), ("comparison", lenet.read_comparison)),
    "2.1": (("alexnet", partial(calculators.read_architecture, key="alexnet")),),
    "2.2": (("vgg19", partial(calculators.read_architecture, key="vgg19")),),
    "2.3": (("receptive_field", partial(calculators.read_architecture, key="receptive_field")),),
    "2.4 (b-d)": (("inception", partial(calculators.read_architecture, key="inception")),),
    "2.5 (c-d)": (("detection", calculators.read_detection),),
    "3.1 (a-c)": (("transfer", partial(transfer.read_transfer, mode="finetune")),),
    "3.2 (a-b)": (("transfer", partial(transfer.read_transfer, mode="feature")),),
    "4.2 (a-b)": (("label_noise", partial(semisupervised.read_semisupervised, key="label_noise")),
                  ("resampling", partial(semisupervised.read_semisupervised, key="resampling"))),
    "4.3 (b-d)": (("teacher_student", partial(semisupervised.read_semisupervised, key="teacher_student")),),
}


def read_sources(context: Context, key: str, reader: Reader) -> list[Source]:
    """What ``reader`` finds for experiment ``key``; one "not shown" source with the sentence when a result is bad."""
    try:
        return reader(context)
    except RecordError as error:
        return [refused(context, key, str(error))]
    except ImpossibleValue as error:
        folder = context.root / EXPERIMENTS[key].folder
        return [refused(context, key, f"{folder}: a result {error.shown} {error.problem}, so its numbers are not shown")]


def refused(context: Context, key: str, sentence: str) -> Source:
    """The source of an experiment whose results cannot be trusted: the sentence as its caveat, no numbers."""
    source = new_source(context, key)
    source.status = "invalid"
    source.caveats = [text(sentence)]
    source.blocks = [Note("failed", text("Not shown: a result file failed its check (see the caveat). Run the command "
                                         "again with ", code("--overwrite"), " to make it anew."))]
    return source


def collect(root: Path, report_folder: Path) -> Report:
    """The report of whatever results exist under ``root``; ``report_folder`` holds the runner's runs.json."""
    attempts = load_dict(Path(report_folder) / RUNS_FILE)
    context = Context(Path(root), {key: value for key, value in attempts.items() if isinstance(value, dict)})
    questions = []
    for spec in QUESTIONS:
        sources = [source for key, reader in READERS[spec.id] for source in read_sources(context, key, reader)]
        questions.append(Question(spec.id, spec.anchor, spec.title, spec.task, sources, list(spec.reading)))
    return Report(TITLE, datetime.now().strftime("%Y-%m-%d %H:%M"), Path(root), questions,
                  [ReadingQuestion(*entry) for entry in READING_QUESTIONS])
