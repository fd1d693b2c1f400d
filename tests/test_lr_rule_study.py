"""benchmarks/lr_rule_study.py's table on synthetic results (the study itself trains 12 runs)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lr_rule_study", ROOT / "benchmarks" / "lr_rule_study.py")
study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study)


def test_rule_folders_and_the_table_with_paired_differences():
    assert study.folder_name("steepest*10") == "steepest-x10" and study.folder_name("minimum/3") == "minimum-div3"
    seeds = [42, 1, 2]
    scores = {"minimum/3": [0.9082, 0.9042, 0.9097], "drop90": [0.8939, 0.9029, 0.9018], "minimum": [0.90, None, None]}
    rows = [{"rule": rule, "seed": seed, "lr_min": 5e-4, "lr_max": 0.029, "test_accuracy": score}
            for rule, values in scores.items() for seed, score in zip(seeds, values)]
    text = study.summary_markdown(rows, list(scores), seeds, "python benchmarks/lr_rule_study.py")
    lines = {line.split(" |")[0]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| minimum/3 (default) | 0.0005 - 0.029 |" in lines["| minimum/3 (default)"]
    assert "| 0.9082 | 0.9042 | 0.9097 | 0.9074 | 0.0028 |  |" in lines["| minimum/3 (default)"]
    d = np.subtract(scores["drop90"], scores["minimum/3"])
    half = t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    assert f"| {d.mean():+.4f} ({d.mean() - half:+.4f} to {d.mean() + half:+.4f}) |" in lines["| drop90"]
    assert lines["| minimum"].endswith("| 0.9000 |  |  | 0.9000 |  |  |")  # one seed: no sd, no interval
    assert "minus minimum/3, paired by seed" in text


@pytest.mark.parametrize("text, error", [("a,b", "integers"), ("median", "rules are")])
def test_bad_lists_are_refused(text, error):
    import argparse

    parse = study.int_list if error == "integers" else study.rule_list
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        parse(text)
