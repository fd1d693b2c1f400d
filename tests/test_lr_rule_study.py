"""benchmarks/lr_rule_study.py's table on synthetic results (the study itself trains 12 runs): ranked and chosen on validation."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lr_rule_study", ROOT / "benchmarks" / "lr_rule_study.py")
study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study)

SEEDS = [42, 1, 2]
# Validation picks drop90; test would pick minimum/3 (the rule the earlier study chose on test accuracy).
VALIDATION = {"minimum/3": [0.9050, 0.9010, 0.9060], "drop90": [0.9110, 0.9120, 0.9105], "minimum": [0.90, None, None]}
TEST = {"minimum/3": [0.9082, 0.9042, 0.9097], "drop90": [0.8939, 0.9029, 0.9018], "minimum": [0.95, None, None]}


def study_rows():
    return [{"variant": rule, "rule": rule, "seed": seed, "lr_min": 5e-4, "lr_max": 0.029, "val_accuracy": val, "test_accuracy": test}
            for rule in VALIDATION for seed, val, test in zip(SEEDS, VALIDATION[rule], TEST[rule])]


def interval_cell(a, b):
    d = np.subtract(a, b)
    half = t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"| {d.mean():+.4f} ({d.mean() - half:+.4f} to {d.mean() + half:+.4f}) |"


def table_lines(text):
    return {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| ") and " | " in line}


def test_rules_are_ranked_and_chosen_on_validation_with_both_columns_shown():
    assert study.folder_name("steepest*10") == "steepest-x10" and study.folder_name("minimum/3") == "minimum-div3"
    text = study.summary_markdown(study_rows(), list(VALIDATION), SEEDS, "python benchmarks/lr_rule_study.py")
    assert "Split discipline: training data trains; validation data makes every choice" in text
    header = next(line for line in text.splitlines() if line.startswith("| rank |"))
    assert header == ("| rank | lr_max rule | seed 42 val | seed 1 val | seed 2 val | val mean | val sd | val minus drop90, "
                      "paired by seed (95% t interval) | seed 42 test | seed 1 test | seed 2 test | test mean | test sd | "
                      "test minus drop90, paired by seed (95% t interval) |")
    lines = table_lines(text)
    assert lines["drop90 (chosen)"].startswith("| 1 | drop90 (chosen) | 0.9110 | 0.9120 | 0.9105 | 0.9112 | 0.0008 |  | "
                                               "0.8939 | 0.9029 | 0.9018 | 0.8995 | 0.0049 |  |")
    default = lines["minimum/3 (default)"]
    assert default.startswith("| 2 | minimum/3 (default) | 0.9050 | 0.9010 | 0.9060 | 0.9040 | 0.0026 | ")
    validation_cell = interval_cell(VALIDATION["minimum/3"], VALIDATION["drop90"])
    test_cell = interval_cell(TEST["minimum/3"], TEST["drop90"])
    assert validation_cell in default and default.endswith(test_cell)
    assert "0.9082 | 0.9042 | 0.9097 | 0.9074 | 0.0028" in default  # the test column, shown beside
    # One seed of three: no sd, no interval, not ranked, not chosen from (its 0.95 test accuracy would win).
    assert lines["minimum"] == "|  | minimum | 0.9000 |  |  | 0.9000 |  |  | 0.9500 |  |  | 0.9500 |  |  |"
    assert "| minimum/3 | 0.0005 - 0.029 | 0.0005 - 0.029 | 0.0005 - 0.029 |" in text
    d = np.subtract(VALIDATION["drop90"], VALIDATION["minimum/3"])
    half = t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert ("Chosen: drop90, the highest mean validation accuracy (91.12% over seeds 42, 1, 2; minimum left out: no "
            "result at every seed), not a settled choice: against the next, tied within noise: drop90 91.1%, minimum/3 "
            f"90.4% (drop90 minus minimum/3: 95% interval {100 * (d.mean() - half):+.2f} to {100 * (d.mean() + half):+.2f} "
            "points, paired t over 3 seeds, on validation accuracy).") in text
    assert "The default, `lr_range.DEFAULT_LR_MAX_RULE`, is minimum/3: not the rule chosen here; set it to drop90." in text


def test_the_choice_is_given_the_validation_column_only(monkeypatch):
    given = []
    real = study.choose_by_validation
    monkeypatch.setattr(study, "choose_by_validation", lambda validation, seeds: given.append(validation) or real(validation, seeds))
    rows = study_rows()
    first = study.summary_markdown(rows, list(VALIDATION), SEEDS, "command")
    assert given == [{rule: {s: v for s, v in zip(SEEDS, values) if v is not None} for rule, values in VALIDATION.items()}]
    test_values = {value for values in TEST.values() for value in values if value is not None}
    assert not test_values & {v for table in given for values in table.values() for v in values.values()}
    # Any test column gives the same ranking and choice: only the test cells change.
    shuffled = [{**row, "test_accuracy": None if row["test_accuracy"] is None else 1 - row["test_accuracy"]} for row in rows]
    second = study.summary_markdown(shuffled, list(VALIDATION), SEEDS, "command")
    assert [line.split(" | ")[:2] for line in first.splitlines() if line.startswith("| ")] == \
           [line.split(" | ")[:2] for line in second.splitlines() if line.startswith("| ")]
    assert first.split("Chosen:")[1] == second.split("Chosen:")[1]


def test_a_study_without_a_rule_finished_at_every_seed_chooses_none():
    rows = [row for row in study_rows() if row["rule"] == "minimum"]
    text = study.summary_markdown(rows, ["minimum"], SEEDS, "command")
    assert "No lr_max rule has a finished run at every seed yet, so none is chosen." in text and "Chosen" not in text
    ranked, choice = study.rank_rules([{**row, "val_accuracy": 0.9} for row in study_rows()], ["minimum"], [42])
    assert choice.chosen == "minimum" and choice.verdict is None and ranked == ["minimum"]


@pytest.mark.parametrize("text, error", [("a,b", "integers"), ("median", "rules are")])
def test_bad_lists_are_refused(text, error):
    import argparse

    parse = study.int_list if error == "integers" else study.rule_list
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        parse(text)


def test_step_sizes_are_ranked_and_chosen_on_validation_at_one_rule(monkeypatch):
    default = study.step_label(study.DEFAULT_STEP_SIZE)
    steps = {default: [0.9050, 0.9010, 0.9060], "step 5": [0.9110, 0.9120, 0.9105]}
    rows = [{"variant": label, "rule": "minimum/3", "seed": seed, "lr_min": 5e-4, "lr_max": 0.029, "val_accuracy": val,
             "test_accuracy": 0.95 + seed / 1000} for label, values in steps.items() for seed, val in zip(SEEDS, values)]
    given = []
    real = study.choose_by_validation
    monkeypatch.setattr(study, "choose_by_validation", lambda validation, seeds: given.append(validation) or real(validation, seeds))
    text = study.summary_markdown(rows, list(steps), SEEDS, "command", step_rule="minimum/3")
    assert given == [{label: dict(zip(SEEDS, values)) for label, values in steps.items()}]  # validation, never test
    assert text.startswith("# CLR step sizes: exp_range on the range of the minimum/3 rule")
    assert "| every step size | 0.0005 - 0.029 | 0.0005 - 0.029 | 0.0005 - 0.029 |" in text
    lines = table_lines(text)
    assert lines["step 5 (chosen)"].startswith("| 1 | step 5 (chosen) | 0.9110 |")
    assert lines[f"{default} (default)"].startswith(f"| 2 | {default} (default) | 0.9050 |")
    assert (f"The default, train_lenet.py's --step-size, is {study.DEFAULT_STEP_SIZE:g} epochs: not the step size "
            "chosen here (step 5).") in text
    assert study.variants(["minimum/3"], [2.5, 5]) == [("step 2.5", "minimum/3", 2.5), ("step 5", "minimum/3", 5)]
    assert study.run_folder(Path("out"), "minimum/3", 2.5, 1) == Path("out/step-2.5/seed-1")
    assert study.run_folder(Path("out"), "minimum/3", None, 1) == Path("out/minimum-div3/seed-1")


@pytest.mark.parametrize("argv, error", [
    (["--step-sizes", "2,0"], "step sizes in epochs"),
    (["--step-sizes", "2,5", "--rules", "minimum,drop90"], "give one rule"),
])
def test_bad_step_sizes_are_refused(argv, error, tmp_path, capsys):
    from pyimagesearch.core.cli import run

    assert run(study.main, [*argv, "--output", str(tmp_path / "study")]) == 2
    assert error in capsys.readouterr().err and not (tmp_path / "study").exists()
