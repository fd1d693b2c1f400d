"""train_lenet.py without training: settings, batch-growth stages, finder file, comparison, bad input."""

import json

import pytest

import train_lenet
from pyimagesearch.core.cli import UserError, run
from pyimagesearch.core.errors import RunError
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
    assert (settings.mode, settings.step_size, settings.gamma, settings.epochs) == ("exp_range", 10, 0.99994, 20)
    assert cycle_note(settings) == ""  # the defaults end at the end of a cycle
    settings.set_train_size(54_000)
    assert settings.step_size_iterations == 10 * 844 == clr_step_size_iterations(10, 54_000, 64)
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
    with pytest.raises((UserError, RunError), match=message):  # both end in one sentence at the command line
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
        (["--compare", "a", "b", "--seeds", "3"], "--seeds set training, but --compare only reads finished runs"),
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
        (["--policy", "fixed", "--lr", "0.1", "--seeds", "0"], "--seeds: '0' must be >= 1 seeds"),
        (["--policy", "fixed", "--lr", "0.1", "--seeds", "1,x"], "is neither a number of seeds nor"),
        (["--policy", "fixed", "--lr", "0.1", "--seeds", "4,4"], "repeats a seed"),
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


def test_seed_lists_and_counts():
    from pyimagesearch.lenet.seeds import resolve_seeds, seeds_argument

    assert seeds_argument("42,1,2") == [42, 1, 2] and seeds_argument("3") == 3 and seeds_argument("7,") == [7]
    assert resolve_seeds(3, 42) == [42, 1, 2] and resolve_seeds(3, 2) == [2, 1, 3] and resolve_seeds(1, 5) == [5]
    assert resolve_seeds([5, 6], 42) == [5, 6]


def test_a_step_size_under_one_iteration_is_refused(tmp_path, capsys):
    status = run(train_lenet.main, ["--policy", "clr", "--lr-min", "0.001", "--lr-max", "0.01", "--step-size", "1e-300",
                                    "--limit", "500", "--output", str(tmp_path)])
    # 450 training images in batches of 64: 8 iterations per epoch.
    assert status == 2
    assert capsys.readouterr().err == ("error: --step-size 1e-300 epochs is 8e-300 iterations, less than one (an epoch "
                                       "has 8); pass --step-size 0.125 or more\n")
    assert list(tmp_path.iterdir()) == []
