"""A result that fails its check is never shown: the question gets the one sentence naming file and field instead."""

from __future__ import annotations

import json
import math

import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.report import collect as collect_module
from pyimagesearch.report.files import ImpossibleValue, fmt, learning_rate, percent
from tests.report.conftest import build
from tests.report.test_report_build import Elements
from tests.report.tree import make_lenet


def test_an_accuracy_of_1_7_becomes_the_questions_caveat_not_170_percent(tmp_path):
    make_lenet(tmp_path)
    metrics = tmp_path / "batch_growth" / "metrics.json"
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "test_accuracy": 1.7}))
    built = build(tmp_path)
    page = Elements(built.html)
    growth = page.text_of("q1-3")
    assert "1.7 is not an accuracy (it must be in [0, 1])" in growth
    assert f"{tmp_path}/batch_growth" in growth
    assert "170.00%" not in built.html and "170.00%" not in built.markdown
    assert "83.39%" not in growth  # none of that run's other numbers either
    assert "not shown: a result file failed its check" in growth
    assert "1.7 is not an accuracy (it must be in" in built.markdown
    # The question's other experiment and the other questions are read as usual.
    assert "Batch growth against the cyclical LR (computed at quick settings)" in built.markdown
    assert "90.92%" in page.text_of("q1-2")
    assert "1.7 is not an accuracy" not in page.text_of("q1-2")


def test_a_record_error_is_shown_as_its_sentence_for_that_experiment_only(tmp_path, monkeypatch):
    make_lenet(tmp_path)
    sentence = f"{tmp_path}/find_lr/suggestion.json: lr_max = -0.01 is not a learning rate (it must be finite and > 0)"

    def bad_reader(context):
        raise RecordError(f"{tmp_path}/find_lr/suggestion.json", "lr_max",
                          "= -0.01 is not a learning rate (it must be finite and > 0)")

    readers = dict(collect_module.READERS)
    readers["1.1"] = (readers["1.1"][0], ("find_lr", bad_reader))
    monkeypatch.setattr(collect_module, "READERS", readers)
    built = build(tmp_path)
    question = Elements(built.html).text_of("q1-1")
    assert sentence in question
    assert "LR range test" in question and "-0.01" not in question.replace(sentence, "")
    assert "0.00464" in question  # the grid, the question's other experiment, is still shown
    assert built.html.count("is not a learning rate") == 1


@pytest.mark.parametrize("value", [1.7, -0.1, math.nan, math.inf, "1.7", "nan", "abc", True])
def test_percent_refuses_what_cannot_be_an_accuracy(value):
    with pytest.raises(ImpossibleValue, match=r"^Argument `value` is not an accuracy \(it must be in \[0, 1\]\)\. "
                                              r"Received: value="):
        percent(value)


def test_percent_shows_accuracies_and_absent_values():
    assert [percent(0.8734), percent("0.5"), percent(0), percent(1), percent(None), percent("")] == [
        "87.34%", "50.00%", "0.00%", "100.00%", "-", "-"]
    assert percent(0.91234, 1) == "91.2%"


@pytest.mark.parametrize("value", [-0.01, 0, math.nan, math.inf, "-1e-3", "x"])
def test_learning_rate_refuses_what_cannot_be_a_learning_rate(value):
    with pytest.raises(ImpossibleValue, match="is not a learning rate"):
        learning_rate(value)


def test_learning_rate_and_fmt_show_finite_values():
    assert [learning_rate(0.00073), learning_rate("0.022"), learning_rate(None)] == ["0.00073", "0.022", "-"]
    assert [fmt(0.31, ".4f"), fmt(16880, ","), fmt(None), fmt(""), fmt("exp_range")] == [
        "0.3100", "16,880", "-", "-", "exp_range"]
    for value in (math.nan, -math.inf, "nan", "inf"):
        with pytest.raises(ImpossibleValue, match="is not a finite number"):
            fmt(value)
