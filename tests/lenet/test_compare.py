"""--compare on synthetic run folders: every verdict sentence from pyimagesearch.verdicts, its figures against SciPy.

McNemar on the same test images for one seed each, paired t over seeds, budgets (284 against 285
steps is one budget, one epoch apart confounds), Smith's ratio read the right way ("more" when the
run needs more iterations than the baseline).
"""

import json

import numpy as np
import pytest
from scipy.stats import binomtest, t

import train_lenet
from pyimagesearch.core.cli import UserError, run
from pyimagesearch.core.outputs import read_json, write_csv
from pyimagesearch.lenet.compare import comparison_markdown, read_side, write_comparison
from pyimagesearch.lenet.seeds import aggregate_metrics
from pyimagesearch.lenet.training import HISTORY_FIELDS, write_test_predictions
from pyimagesearch.records.lenet import RunMetrics

TEST_IMAGES = 10_000


def correctness(right_both, only_a, only_b, wrong_both):
    """Per-image correctness of two models with the given contingency table (images in a fixed order)."""
    a = np.array([True] * right_both + [True] * only_a + [False] * only_b + [False] * wrong_both)
    b = np.array([True] * right_both + [False] * only_a + [True] * only_b + [False] * wrong_both)
    return a, b


def history(epochs, steps_per_epoch, val_accuracies):
    return [{"epoch": e + 1, "batch_size": 64, "steps": steps_per_epoch, "iterations": (e + 1) * steps_per_epoch,
             "lr": 0.01, "loss": 1.0 / (e + 1), "accuracy": 0.9, "val_loss": 0.3, "val_accuracy": v, "time_s": 5.0}
            for e, v in zip(range(epochs), val_accuracies)]


def fake_run(folder, policy, seed, test_accuracy, gap, epochs=20, steps=16_880, correct=None, val=None):
    folder.mkdir(parents=True)
    metrics = {
        "policy": policy, "final_train_loss": 0.2, "final_train_accuracy": 0.95, "train_accuracy": test_accuracy + gap,
        "val_accuracy": test_accuracy, "test_accuracy": test_accuracy, "generalization_gap": gap, "epochs": epochs,
        "optimizer_steps": steps, "train_time_s": 100.0, "train_images": 54_000, "test_images": TEST_IMAGES,
        "test_loss": 0.3, "val_loss": 0.3, "train_loss": 0.2, "best_val_accuracy": max(val or [test_accuracy]),
        "best_val_epoch": epochs, "val_images": 6_000,
    }
    RunMetrics.from_json(metrics).write(folder)  # the record train_lenet.py writes
    (folder / "config.json").write_text(json.dumps({"policy": policy, "seed": seed, "description": f"{policy} run"}))
    write_csv(folder / "history.csv", history(epochs, steps // epochs, val or [test_accuracy] * epochs), HISTORY_FIELDS)
    if correct is not None:
        write_test_predictions(folder, {"label": np.zeros(len(correct), np.int8),
                                        "predicted": np.where(correct, 0, 1).astype(np.int8), "correct": correct})
    return folder


def fake_seeds(folder, policy, tests, gaps, **kwargs):
    """A --seeds folder: seed runs 42, 1, 2 and the aggregate metrics.json."""
    per_seed = {}
    for seed, test_accuracy, gap in zip((42, 1, 2), tests, gaps):
        run = fake_run(folder / f"seed-{seed}", policy, seed, test_accuracy, gap, **kwargs)
        per_seed[seed] = read_json(run / "metrics.json")
    (folder / "metrics.json").write_text(json.dumps(aggregate_metrics(per_seed)))
    return folder


def interval(differences):
    """The 95% paired t interval of the differences, in points (SciPy's t quantile)."""
    d = np.asarray(differences)
    half = t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return 100 * (d.mean() - half), 100 * (d.mean() + half)


def test_similar_runs_over_three_seeds_claim_no_difference(tmp_path):
    tests_a, tests_b = [0.905, 0.902, 0.908], [0.904, 0.906, 0.903]
    gaps_a, gaps_b = [0.050, 0.055, 0.052], [0.052, 0.051, 0.056]
    a = fake_seeds(tmp_path / "a", "clr", tests_a, gaps_a)
    b = fake_seeds(tmp_path / "b", "batch-growth", tests_b, gaps_b)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert "Both ran 20 epochs, 16,880 optimizer steps and 1,080,000 training images." in text
    assert interval(np.subtract(tests_a, tests_b)) == pytest.approx((-1.0535, 1.1868), abs=1e-4)
    assert ("(mean +- standard deviation over 3 seeds): tied within noise: clr 90.5%, batch-growth 90.4% (clr minus "
            "batch-growth: 95% interval -1.1 to +1.2 points, paired t over 3 seeds).") in text
    assert interval(np.subtract(gaps_a, gaps_b)) == pytest.approx((-1.1009, 0.9676), abs=1e-4)
    assert ("over 3 seeds: tied within noise: clr's gap 5.2%, batch-growth's gap 5.3% (clr's gap minus batch-growth's "
            "gap: 95% interval -1.10 to +0.97 points, paired t over 3 seeds).") in text
    assert "confounded" not in text and "ahead" not in text.replace('gap is "ahead"', "") and "smaller gap" not in text
    assert verdict["verdicts"]["test_accuracy"]["outcome"] == "no difference detected"
    assert "| test accuracy | 0.9050 +- 0.0030 | 0.9043 +- 0.0015 |" in text
    assert "needs each run's test_predictions.npz" in text  # these runs saved none
    assert verdict["seeds"] == [42, 1, 2] and verdict["test_difference"]["n"] == 3


def test_different_runs_over_three_seeds_name_the_better_one(tmp_path):
    a = fake_seeds(tmp_path / "a", "clr", [0.910, 0.912, 0.911], [0.040, 0.041, 0.042])
    b = fake_seeds(tmp_path / "b", "batch-growth", [0.900, 0.901, 0.899], [0.050, 0.052, 0.051])
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert interval(np.subtract([0.910, 0.912, 0.911], [0.900, 0.901, 0.899])) == pytest.approx((0.8516, 1.3484), abs=1e-4)
    assert ("clr ahead by 1.1 points, 91.1% against 90.0% for batch-growth (clr minus batch-growth: 95% interval +0.85 "
            "to +1.35 points, paired t over 3 seeds).") in text
    assert ("batch-growth's gap ahead by 1.00 points, 5.1% against 4.1% for clr's gap (clr's gap minus batch-growth's "
            "gap: 95% interval -1.25 to -0.75 points, paired t over 3 seeds), so clr has the smaller gap over these 3 "
            "seeds.") in text
    assert verdict["test_difference"]["low"] > 0 and verdict["verdicts"]["test_accuracy"]["outcome"] == "A ahead"


def test_single_runs_of_different_budgets_are_confounded_and_tested_image_by_image(tmp_path):
    only_a, only_b = 330, 310  # the README's 0.9025 against 0.9010 on 10,000 images differ like this
    right_a, right_b = correctness(8_695, only_a, only_b, TEST_IMAGES - 8_695 - only_a - only_b)
    a = fake_run(tmp_path / "clr", "clr", 42, right_a.mean(), 0.048, correct=right_a)
    b = fake_run(tmp_path / "bg", "batch-growth", 42, right_b.mean(), 0.039, epochs=16, steps=6_730, correct=right_b)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert ("The runs differ in epochs and optimizer steps and images seen (clr: 20 epochs, 16,880 optimizer steps and "
            "1,080,000 training images; batch-growth: 16 epochs, 6,730 optimizer steps and 864,000 training images), so "
            "the comparison is confounded") in text
    assert "from one run each: the spread between seeds" in text
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue
    assert p == pytest.approx(0.4527, abs=1e-4)
    assert (f"Image by image on the same 10,000 test images ({only_a} images right only with clr, {only_b} only with "
            "batch-growth): tied within noise: clr 90.2%, batch-growth 90.0% (p = 0.45, exact McNemar on 10,000 paired "
            "images).") in text
    assert "In optimizer steps" not in text  # the epochs already confound it
    assert "no claim about generalization is made" in text and "generalize differently" not in text
    assert verdict["per_seed"][0]["mcnemar"]["p_value"] == pytest.approx(p, rel=1e-9)


def test_one_sided_disagreement_is_detected_for_that_seed_only(tmp_path):
    right_a, right_b = correctness(9_000, 60, 0, 940)
    a = fake_run(tmp_path / "a", "clr", 42, right_a.mean(), 0.05, correct=right_a)
    b = fake_run(tmp_path / "b", "clr", 42, right_b.mean(), 0.05, correct=right_b)
    text, _ = comparison_markdown(read_side(a), read_side(b))
    assert 2 * 0.5 ** 60 < 0.001
    assert ("(60 images right only with A (clr), 0 only with B (clr)): A (clr) ahead by 0.60 points, 90.6% against 90.0% "
            "for B (clr) (p < 0.001, exact McNemar on 10,000 paired images), for this seed: it does not say the "
            "difference holds for other seeds.") in text
    all_agree = fake_run(tmp_path / "c", "clr", 42, right_a.mean(), 0.05, correct=right_a)
    text, _ = comparison_markdown(read_side(a), read_side(all_agree))
    assert ("(0 images right only with A (clr), 0 only with B (clr)): tied within noise: A (clr) 90.6%, B (clr) 90.6% "
            "(p = 1, exact McNemar on 10,000 paired images, with no image on which they disagree).") in text


def test_equal_epochs_but_fewer_steps_is_still_confounded(tmp_path):
    a = fake_run(tmp_path / "a", "clr", 42, 0.905, 0.05)
    b = fake_run(tmp_path / "b", "batch-growth", 42, 0.903, 0.04, steps=9_000)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert verdict["budget_differs"] == ["optimizer steps"]
    assert "The runs differ in optimizer steps (" in text and "confounded" in text
    assert ("In optimizer steps, clr and batch-growth ran different budgets: 16,880 against 9,000 optimizer steps, at "
            "least one epoch (450 steps) apart, so a difference between them may come from the budget.") in text


def test_284_against_285_steps_is_one_budget_and_one_epoch_apart_is_not(tmp_path):
    """Two epochs of 142 steps against 142.5 (another drop of the last batch): a rounding difference, not a confound."""
    a = fake_run(tmp_path / "a", "clr", 42, 0.905, 0.05, epochs=2, steps=284)
    b = fake_run(tmp_path / "b", "fixed", 42, 0.903, 0.04, epochs=2, steps=285)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert verdict["budget_differs"] == [] and verdict["verdicts"]["budget"]["equal"] is True
    assert ("Both ran 2 epochs and 108,000 training images. In optimizer steps, clr and fixed ran the same budget: 284 "
            "and 285 optimizer steps, less than one epoch (142 steps) apart.") in text
    assert "confounded" not in text
    one_epoch_more = fake_run(tmp_path / "c", "fixed", 42, 0.903, 0.04, epochs=2, steps=284 + 142)
    text, verdict = comparison_markdown(read_side(a), read_side(one_epoch_more))
    assert verdict["budget_differs"] == ["optimizer steps"] and "so the comparison is confounded" in text
    assert ("clr and fixed ran different budgets: 284 against 426 optimizer steps, at least one epoch (142 steps) apart"
            in text)
    more_epochs = fake_run(tmp_path / "d", "fixed", 42, 0.903, 0.04, epochs=3, steps=285)
    assert comparison_markdown(read_side(a), read_side(more_epochs))[1]["budget_differs"] == ["epochs", "images seen"]


def test_iterations_to_reach_the_fixed_baseline(tmp_path):
    clr_val = [0.80, 0.84, 0.86, 0.87, 0.88, 0.893, 0.89] + [0.90] * 13
    fixed_val = [0.80 + 0.0045 * e for e in range(20)]  # ends at 0.8855
    a = fake_run(tmp_path / "clr", "clr", 42, 0.905, 0.05, val=clr_val)
    b = fake_run(tmp_path / "fixed", "fixed", 42, 0.89, 0.03, val=fixed_val)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    run = verdict["smith"]["runs"][0]
    # 0.8855 is first reached at the end of epoch 6: 6 x 844 = 5,064 of 16,880 iterations, 3.33x fewer.
    assert (run["iterations"], run["epoch"], run["baseline_iterations"]) == (5_064, 6, 16_880)
    assert run["ratio"] == pytest.approx(16_880 / 5_064)
    assert ("Against the fixed-LR baseline (fixed), clr first reaches the baseline's final validation accuracy at epoch "
            "6, against the baseline's final 0.8855: 5,064 against 16,880: 3.33x fewer iterations") in text
    assert "25,000 against 70,000" in text


def test_a_run_that_needs_more_iterations_than_the_baseline_reads_more(tmp_path):
    fixed_val = [0.80 + 0.005 * e for e in range(20)]  # 2,000 iterations, ends at 0.895
    slow_val = [0.80 + 0.0033 * e for e in range(30)]  # 0.895 first at epoch 30: 3,000 iterations
    a = fake_run(tmp_path / "clr", "clr", 42, 0.90, 0.05, epochs=30, steps=3_000, val=slow_val)
    b = fake_run(tmp_path / "fixed", "fixed", 42, 0.89, 0.03, epochs=20, steps=2_000, val=fixed_val)
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    run = verdict["smith"]["runs"][0]
    assert (run["iterations"], run["baseline_iterations"]) == (3_000, 2_000) and run["ratio"] == pytest.approx(2 / 3)
    assert "at epoch 30, against the baseline's final 0.8950: 3,000 against 2,000: 1.5x more iterations" in text
    assert "fewer" not in text and "0.67x" not in text


def test_several_seeds_of_the_same_images_give_a_mcnemar_verdict_per_seed(tmp_path):
    right_a, right_b = correctness(9_000, 60, 0, 940)
    tied_a, tied_b = correctness(9_000, 30, 28, 942)
    a, b = tmp_path / "a", tmp_path / "b"
    per_a, per_b = {}, {}
    for seed, (ra, rb) in zip((42, 1), ((right_a, right_b), (tied_a, tied_b))):
        per_a[seed] = read_json(fake_run(a / f"seed-{seed}", "clr", seed, ra.mean(), 0.05, correct=ra) / "metrics.json")
        per_b[seed] = read_json(fake_run(b / f"seed-{seed}", "fixed", seed, rb.mean(), 0.05, correct=rb) / "metrics.json")
    (a / "metrics.json").write_text(json.dumps(aggregate_metrics(per_a)))
    (b / "metrics.json").write_text(json.dumps(aggregate_metrics(per_b)))
    text, verdict = comparison_markdown(read_side(a), read_side(b))
    assert ("Image by image on the same 10,000 test images, seed by seed: seed 42: clr ahead by 0.60 points, 90.6% "
            "against 90.0% for fixed (p < 0.001, exact McNemar on 10,000 paired images); seed 1: tied within noise: clr "
            f"90.3%, fixed 90.3% (p = {binomtest(30, 58, 0.5).pvalue:.2g}, exact McNemar on 10,000 paired images).") in text
    assert [v["outcome"] for v in verdict["verdicts"]["per_seed"]] == ["A ahead", "no difference detected"]
    assert verdict["verdicts"]["test_accuracy"]["evidence"] == "paired t over 2 seeds"


def test_write_comparison_draws_both_runs_and_refuses_runs_without_a_common_seed(tmp_path):
    a = fake_seeds(tmp_path / "a", "clr", [0.905, 0.902, 0.908], [0.05, 0.05, 0.05])
    b = fake_run(tmp_path / "b", "fixed", 42, 0.89, 0.03)
    out = tmp_path / "out"
    out.mkdir()
    verdict = write_comparison(a, b, out)  # seeds 42, 1, 2 against one run of seed 42: the seed-42 pair
    assert verdict["seeds"] == [42] and (out / "comparison.png").stat().st_size > 0
    saved = read_json(out / "comparison.json")
    assert saved["table"]["test accuracy"] == {"A": [0.905], "B": [0.89]}
    assert saved["verdict"]["verdicts"]["budget"]["sentence"] == "clr and fixed ran the same budget: 16,880 optimizer steps each"
    lone = fake_seeds(tmp_path / "c", "fixed", [0.9, 0.9, 0.9], [0.0, 0.0, 0.0])
    only_1_and_2 = {seed: read_json(lone / f"seed-{seed}" / "metrics.json") for seed in (1, 2)}
    (lone / "metrics.json").write_text(json.dumps(aggregate_metrics(only_1_and_2)))
    with pytest.raises(UserError, match="share no seed"):
        write_comparison(fake_run(tmp_path / "d", "clr", 7, 0.9, 0.0), lone, out)


def test_compare_with_a_missing_run_writes_nothing(tmp_path, capsys):
    a = fake_run(tmp_path / "a", "clr", 42, 0.91, 0.04)
    out = tmp_path / "out"
    out.mkdir()
    (out / "comparison.md").write_text("an earlier comparison")
    status = run(train_lenet.main, ["--compare", str(a), str(tmp_path / "missing"), "--output", str(out)])
    assert status == 2
    assert f"metrics file {tmp_path / 'missing' / 'metrics.json'} does not exist" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["comparison.md"]  # no config.json for a comparison never made


def test_compare_command_reads_seed_folders(tmp_path, capsys):
    a = fake_seeds(tmp_path / "a", "clr", [0.910, 0.912, 0.911], [0.040, 0.041, 0.042])
    b = fake_seeds(tmp_path / "b", "batch-growth", [0.900, 0.901, 0.899], [0.050, 0.052, 0.051])
    out = tmp_path / "out"
    assert run(train_lenet.main, ["--compare", str(a), str(b), "--output", str(out)]) == 0
    assert "3 seeds" in capsys.readouterr().out
    assert read_json(out / "comparison.json")["table"]["test accuracy"]["A"] == [0.910, 0.912, 0.911]
