"""train_lenet.py without training: settings, batch-growth stages, finder file, comparison, bad input."""

import json
import math

import pytest

import train_lenet
from pyimagesearch.core.cli import UserError, run
from pyimagesearch.core.outputs import read_json
from pyimagesearch.lenet.compare import comparison_markdown, generalization_verdict, write_comparison
from pyimagesearch.lenet.settings import (
    Stage, batch_growth_stages, clr_step_size_iterations, cycle_note, read_finder_suggestion, resolve_settings,
)


def test_batch_growth_doubles_from_32_to_4096_every_k_epochs():
    stages = batch_growth_stages(32, 4096, epochs_per_stage=3, epochs=24)
    assert [s.batch_size for s in stages] == [32, 64, 128, 256, 512, 1024, 2048, 4096]
    assert [(s.first_epoch, s.end_epoch) for s in stages] == [(3 * k, 3 * k + 3) for k in range(8)]
    per_epoch = [s.batch_size for s in stages for _ in range(s.first_epoch, s.end_epoch)]
    assert per_epoch == [32 * 2 ** (epoch // 3) for epoch in range(24)]


def test_batch_growth_stays_at_batch_end_after_the_last_stage_and_stops_early_when_told():
    assert batch_growth_stages(32, 128, 2, 9) == [Stage(32, 0, 2), Stage(64, 2, 4), Stage(128, 4, 9)]
    assert batch_growth_stages(32, 4096, 2, 3) == [Stage(32, 0, 2), Stage(64, 2, 3)]


def test_default_batch_growth_is_eight_stages_of_two_epochs():
    settings = resolve_settings("batch-growth", {"lr": 0.01})
    assert settings.epochs == 16
    assert [s.batch_size for s in settings.stages] == [32 * 2**k for k in range(8)]
    assert settings.stages[-1] == Stage(4096, 14, 16)


def test_clr_settings_and_step_size_in_iterations():
    settings = resolve_settings("clr", {"lr_min": 0.001, "lr_max": 0.01})
    assert (settings.mode, settings.step_size, settings.gamma, settings.epochs) == ("exp_range", 2.5, 0.99994, 20)
    assert cycle_note(settings) == ""  # the defaults end at the end of a cycle
    settings.set_train_size(54_000)
    assert settings.step_size_iterations == 2.5 * 844 == clr_step_size_iterations(2.5, 54_000, 64)
    assert clr_step_size_iterations(4, 900, 64) == 4 * 15


@pytest.mark.parametrize("epochs, step_size, stops_mid_cycle", [(20, 5, False), (20, 2.5, False), (20, 4, True),
                                                                (20, 10, False), (20, 20, True), (12, 1.5, False)])
def test_note_when_clr_stops_mid_cycle(epochs, step_size, stops_mid_cycle):
    settings = resolve_settings("clr", {"lr_min": 0.001, "lr_max": 0.01, "epochs": epochs, "step_size": step_size})
    note = cycle_note(settings)
    assert bool(note) is stops_mid_cycle
    if stops_mid_cycle:
        assert f"{epochs / (2 * step_size):.3g} cycles" in note
    assert cycle_note(resolve_settings("fixed", {"lr": 0.01, "epochs": 7})) == ""


def write_suggestion(tmp_path, **values):
    path = tmp_path / "suggestion.json"
    path.write_text(json.dumps({"still_decreasing": False, **values}))
    return path


def test_finder_suggestion_feeds_clr_and_fixed_lr_and_explicit_flags_win(tmp_path):
    path = write_suggestion(tmp_path, lr_min=0.002, lr_max=0.03)
    assert read_finder_suggestion(path) == (0.002, 0.03)
    clr = resolve_settings("clr", {}, path)
    assert (clr.lr_min, clr.lr_max) == (0.002, 0.03)
    assert clr.lr_source == f"lr_min and lr_max from {path}"
    mixed = resolve_settings("clr", {"lr_min": 0.01}, path)
    assert (mixed.lr_min, mixed.lr_max, mixed.lr_source) == (0.01, 0.03, f"lr_min from --lr-min, lr_max from {path}")
    assert resolve_settings("batch-growth", {}, path).lr == 0.03
    assert resolve_settings("fixed", {"lr": 0.005}, path).lr == 0.005


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("{not json", "cannot be read as JSON"),
        (json.dumps({"lr_min": 0.01}), "lr_max=None"),
        (json.dumps({"lr_min": 0.05, "lr_max": 0.01}), "lr_min < lr_max"),
        (json.dumps({"lr_min": -1, "lr_max": 0.01}), "positive"),
        (json.dumps({"lr_min": "0.001", "lr_max": 0.01}), "positive numbers"),
        (json.dumps([0.001, 0.01]), "lr_min=None"),
    ],
)
def test_bad_finder_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "suggestion.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        read_finder_suggestion(path)


@pytest.mark.parametrize(
    "policy, given, message",
    [
        ("clr", {"lr_min": 0.01, "lr_max": 0.01}, "must be below lr_max"),
        ("clr", {"lr_min": 0.02, "lr_max": 0.01}, "must be below lr_max"),
        ("clr", {"lr_min": 0.01}, "needs --lr-min and --lr-max"),
        ("clr", {"lr_min": 0.001, "lr_max": 0.01, "lr": 0.1}, "--lr applies only to --policy batch-growth or --policy fixed"),
        ("clr", {"lr_min": 0.001, "lr_max": 0.01, "mode": "triangular2", "gamma": 0.9}, "--gamma applies only to --mode exp_range"),
        ("fixed", {}, "needs a learning rate"),
        ("fixed", {"lr": 0.01, "gamma": 0.9}, "--gamma applies only to --policy clr"),
        ("batch-growth", {"lr": 0.01, "batch": 64}, "--batch applies only"),
        ("batch-growth", {"lr": 0.01, "batch_start": 64, "batch_end": 32}, "cannot be reached by doubling"),
        ("batch-growth", {"lr": 0.01, "batch_start": 32, "batch_end": 1000}, "cannot be reached by doubling"),
    ],
)
def test_impossible_settings_are_user_errors(policy, given, message):
    with pytest.raises(UserError, match=message):
        resolve_settings(policy, given)


def run_script(argv, capsys):
    status = run(train_lenet.main, argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--policy", "clr", "--lr-min", "0.01", "--lr-max", "0.001"], "lr_min (0.01) must be below lr_max (0.001)"),
        (["--policy", "clr", "--from-finder", "no/such/suggestion.json"],
         "no/such/suggestion.json does not exist; run find_lr.py first"),
        (["--policy", "batch-growth", "--lr", "0.01", "--batch-start", "64", "--batch-end", "32"], "cannot be reached"),
        (["--policy", "batch-growth", "--lr", "0.01", "--batch-end", "3000"], "cannot be reached"),
        (["--policy", "fixed", "--lr", "0.01", "--mode", "triangular"], "--mode applies only to --policy clr"),
        (["--compare", "no/run/a", "no/run/b"], "metrics file no/run/a/metrics.json does not exist"),
        (["--compare", "a", "b", "--epochs", "3"], "--epochs set training, but --compare only reads finished runs"),
    ],
)
def test_script_user_errors_are_one_sentence_with_exit_status_2(argv, message, capsys, tmp_path):
    status, err = run_script([*argv, "--output", str(tmp_path / "out")], capsys)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--policy", "clr", "--lr-min", "0", "--lr-max", "0.1"], "--lr-min: '0' must be a finite number > 0"),
        (["--policy", "fixed", "--lr", "-0.1"], "--lr: '-0.1' must be a finite number > 0"),
        (["--policy", "clr", "--lr-min", "0.01", "--lr-max", "0.1", "--gamma", "1.5"], "--gamma: '1.5' must be in (0, 1]"),
        (["--policy", "clr", "--lr-min", "0.01", "--lr-max", "0.1", "--gamma", "0"], "--gamma: '0' must be in (0, 1]"),
        (["--policy", "clr", "--lr-min", "0.01", "--lr-max", "0.1", "--step-size", "0"], "--step-size: '0' must be"),
        (["--policy", "batch-growth", "--lr", "0.1", "--epochs-per-stage", "0"], "--epochs-per-stage: '0' must be > 0"),
        (["--policy", "fixed", "--lr", "0.1", "--momentum", "1"], "--momentum must be in [0, 1)"),
        (["--policy", "fixed", "--compare", "a", "b"], "not allowed with argument"),
        (["--policy", "clr", "--lr-min", "1e-300", "--lr-max", "1e-299"],
         "--lr-min: '1e-300' cannot be a learning rate: the optimizer keeps it as a float32, which holds 1.18e-38 to "
         "3.4e+38"),
        (["--policy", "fixed", "--lr", "1e39"], "--lr: '1e39' cannot be a learning rate"),
    ],
)
def test_bad_flag_values_exit_2_without_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_lenet.parse_args(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message in err and "Traceback" not in err


def fake_run(folder, policy, train_accuracy, test_accuracy, steps, seconds):
    folder.mkdir()
    metrics = {
        "final_train_loss": 0.2, "final_train_accuracy": train_accuracy - 0.01, "train_accuracy": train_accuracy,
        "val_accuracy": test_accuracy + 0.002, "test_accuracy": test_accuracy,
        "generalization_gap": train_accuracy - test_accuracy, "epochs": 20, "optimizer_steps": steps,
        "train_time_s": seconds, "train_images": 54_000, "test_images": 10_000,
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "config.json").write_text(json.dumps({"policy": policy, "description": f"{policy} run"}))
    return folder


def test_comparison_judges_the_gap_against_two_standard_errors(tmp_path):
    a = fake_run(tmp_path / "a", "clr", 0.95, 0.91, 16_880, 120.0)
    b = fake_run(tmp_path / "b", "batch-growth", 0.93, 0.90, 4_000, 60.0)
    verdict = write_comparison(a, b, tmp_path)
    se = lambda p, n: math.sqrt(p * (1 - p) / n)  # noqa: E731
    threshold = 2 * math.sqrt(se(0.95, 54_000) ** 2 + se(0.91, 10_000) ** 2 + se(0.93, 54_000) ** 2 + se(0.90, 10_000) ** 2)
    assert verdict["threshold"] == pytest.approx(threshold, rel=1e-12)
    assert verdict["gap_difference"] == pytest.approx(0.01, abs=1e-12)
    assert verdict["similar"] is (0.01 <= threshold)
    text = (tmp_path / "comparison.md").read_text()
    assert "| test accuracy | 0.9100 | 0.9000 |" in text
    assert "| generalization gap (train - test accuracy) | +0.0400 | +0.0300 |" in text
    assert "| optimizer steps | 16,880 | 4,000 |" in text
    assert "| wall time of training (s) | 120.0 | 60.0 |" in text
    assert "differ by 1.00 points" in text and f"({100 * threshold:.2f} points)" in text
    assert ("generalize similarly" in text) is verdict["similar"]
    assert "4.22x" in text  # 16,880 / 4,000 optimizer steps
    saved = read_json(tmp_path / "comparison.json")
    assert saved["table"]["test accuracy"] == {"A": 0.91, "B": 0.90}


def test_comparison_says_different_when_gaps_differ_beyond_the_noise(tmp_path):
    a = fake_run(tmp_path / "a", "clr", 0.99, 0.90, 1000, 10.0)
    b = fake_run(tmp_path / "b", "fixed", 0.92, 0.91, 1000, 10.0)
    runs = [{"folder": str(f), "name": p, "policy": p, "metrics": read_json(f / "metrics.json")} for f, p in ((a, "clr"), (b, "fixed"))]
    verdict = generalization_verdict(*runs)
    assert not verdict["similar"]
    text, _ = comparison_markdown(*runs)
    assert "generalize differently: fixed has the smaller gap" in text
    close = fake_run(tmp_path / "c", "fixed", 0.99, 0.899, 1000, 10.0)
    runs[1]["metrics"] = read_json(close / "metrics.json")
    assert generalization_verdict(*runs)["similar"]


def test_a_step_size_under_one_iteration_is_refused(tmp_path, capsys):
    status = run(train_lenet.main, ["--policy", "clr", "--lr-min", "0.001", "--lr-max", "0.01", "--step-size", "1e-300",
                                    "--limit", "500", "--output", str(tmp_path)])
    # 450 training images in batches of 64: 8 iterations per epoch.
    assert status == 2
    assert capsys.readouterr().err == ("error: --step-size 1e-300 epochs is 8e-300 iterations, less than one (an epoch "
                                       "has 8); pass --step-size 0.125 or more\n")
    assert list(tmp_path.iterdir()) == []


def test_compare_with_a_missing_run_writes_nothing(tmp_path, capsys):
    a = fake_run(tmp_path / "a", "clr", 0.95, 0.91, 16_880, 120.0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "comparison.md").write_text("an earlier comparison")
    status = run(train_lenet.main, ["--compare", str(a), str(tmp_path / "missing"), "--output", str(out)])
    assert status == 2
    assert f"metrics file {tmp_path / 'missing' / 'metrics.json'} does not exist" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["comparison.md"]  # no config.json for a comparison never made
