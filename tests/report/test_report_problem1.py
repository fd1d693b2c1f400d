"""Problem 1 as one story in the report: 1.1's grid range drives 1.2 and 1.3, the range test beside it as the alternative."""

from __future__ import annotations

import json
import re

from pyimagesearch.report.questions import EXPERIMENTS
from tests.report.conftest import build
from tests.report.tree import make_lenet, write_json

GRID = {"lr_min": 2.78e-05, "lr_max": 0.00464}  # the fixture's grid suggestion
RANGE_TEST = {"lr_min": 0.00073, "lr_max": 0.022}  # the fixture's range test suggestion


def section(markdown: str, question: str) -> str:
    """The text of one question's section of report.md."""
    start = markdown.index(f"## {question} ")
    following = re.search(r"^## \d", markdown[start + 3:], re.M)
    return markdown[start:start + 3 + following.start()] if following else markdown[start:]


def set_config(path, **values):
    config = json.loads(path.read_text())
    write_json(path, {**config, **values})


def test_1_2_and_1_3_train_from_the_grid_as_the_homework_says():
    for key in ("clr", "batch_growth"):
        experiment = EXPERIMENTS[key]
        for mode in ("full", "quick"):
            arguments = experiment.arguments(mode, "out")
            assert arguments[arguments.index("--from-finder") + 1] == "out/lr_grid/suggestion.json"
        assert experiment.needs == ("lr_grid/suggestion.json",)


def test_the_grid_range_is_the_headline_and_the_range_test_is_the_alternative_with_the_reason(tmp_path):
    make_lenet(tmp_path)
    set_config(tmp_path / "clr" / "config.json", **GRID, lr_source=f"lr_min and lr_max from {tmp_path}/lr_grid/suggestion.json")
    set_config(tmp_path / "batch_growth" / "config.json", lr=GRID["lr_max"])
    markdown = build(tmp_path).markdown
    grid = section(markdown, "1.1")
    assert "1.1's range, which 1.2 and 1.3 train from: the grid's final training losses suggest **lr_min = 2.78e-05** " \
           "and **lr_max = 0.00464**" in grid
    assert "The range test, the alternative to the grid's range (1.2 and 1.3 train from the grid's), suggests " \
           "**lr_min = 0.00073** and **lr_max = 0.022**" in grid
    clr = section(markdown, "1.2")
    assert ("This run trains with **lr_min = 2.78e-05 and lr_max = 0.00464**, 1.1's range from the grid "
            "(`lr_grid/suggestion.json`), as the task asks: 1.2 trains between part 1's lr_min and lr_max.") in clr
    assert ("The alternative, the LR range test's range (`find_lr/suggestion.json`): lr_min = 0.00073 and lr_max = 0.022. "
            "They differ because they are read from two curves: the grid's is the final training loss after 5 epoch(s) "
            "at each of 10 learning rates, 12.9x apart, so its range is read at those rates (lr_max by rule "
            "minimum/3); the range test's is the loss over one sweep of 2,511 batches in which the "
            "learning rate grows every batch.") in clr
    assert "Not 1.1's range" not in clr
    growth = section(markdown, "1.3")
    assert ("This run trains with **a fixed lr = 0.00464**, 1.1's lr_max from the grid (`lr_grid/suggestion.json`), as "
            "the task asks: 1.3 fixes the learning rate to part 1's lr_max.") in growth
    # batch_growth is a quick run (--limit 10000): the comparison it enters says what quick runs cannot show.
    assert "whether growing the batch generalizes like the cyclical policy is answered by the full runs" in growth


def test_a_run_from_the_range_test_is_named_as_not_1_1s_range(tmp_path):
    make_lenet(tmp_path)
    set_config(tmp_path / "clr" / "config.json", **RANGE_TEST,
               lr_source=f"lr_min and lr_max from {tmp_path}/find_lr/suggestion.json")
    (tmp_path / "find_lr" / "suggestion.json").write_text("[1, 2]")  # and a bad alternative: its sentence, no blank
    clr = section(build(tmp_path).markdown, "1.2")
    assert ("Not 1.1's range: this run trains with lr_min = 0.00073 and lr_max = 0.022, from lr_min and lr_max from "
            f"{tmp_path}/find_lr/suggestion.json; 1.2 trains between part 1's lr_min and lr_max (1.1's grid: lr_min = "
            f"2.78e-05 and lr_max = 0.00464). Train again with `--from-finder {tmp_path}/lr_grid/suggestion.json`.") in clr
    assert f"{tmp_path}/find_lr/suggestion.json: holds list, not a lr-range-suggestion record" in clr
    assert "The alternative" not in clr


def test_quick_runs_say_what_they_cannot_show_where_a_comparison_is_invited(tmp_path):
    make_lenet(tmp_path)
    set_config(tmp_path / "lr_grid" / "config.json", limit=5000, epochs=1)
    set_config(tmp_path / "clr" / "config.json", limit=10000, epochs=5, **GRID)
    markdown = build(tmp_path).markdown
    assert ("1 epoch(s) per learning rate, not the task's 5: the curve need not have the shape of Smith's Figure 3, and "
            "the range read from it is the one the quick 1.2 and 1.3 train from.") in section(markdown, "1.1")
    assert "5 epochs, not 20: these curves show that the policy runs, and cannot be set beside Smith's Figure 4" \
           in section(markdown, "1.2")
