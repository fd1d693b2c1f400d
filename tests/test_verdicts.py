"""The verdict family on synthetic records: each sentence checked word for word, each figure against SciPy.

The cases are issue 20's: a significant lead names the winner; 70.2% against 70.0% on 1,020
images is a tie within noise; no run above chance names no winner; a ratio below 1 reads
"more" the right way; 284 against 285 steps is one budget and one epoch apart is not;
sensitivity over unmatched LR sets is not claimed. Plus the edges: identical runs (b + c = 0),
every run diverged, one seed.
"""

import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm, t, ttest_rel

from pyimagesearch.verdicts import (
    OUTCOMES, Verdict, budgets_equal, compare_paired_images, compare_seeds, ratio_sentence, sensitivity, winner,
)

IMAGES = 1020  # the validation images of the transfer target in issue 20


def correctness(both: int, a_only: int, b_only: int, images: int = IMAGES, seed: int = 0):
    """Two per-image correctness arrays with the given 2x2 table, in a shuffled image order."""
    a = np.zeros(images, bool)
    b = np.zeros(images, bool)
    a[:both + a_only] = True
    b[:both] = True
    b[both + a_only:both + a_only + b_only] = True
    order = np.random.default_rng(seed).permutation(images)
    return a[order], b[order]


def standard_error(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


# --- same images: exact McNemar ----------------------------------------------------------------------------------

def test_70_2_against_70_0_on_1020_images_is_tied_within_noise():
    # 716 against 714 right: 60 images only fine-tuning gets, 58 only feature extraction gets.
    ft, fe = correctness(656, 60, 58)
    assert (ft.sum(), fe.sum()) == (716, 714)
    verdict = compare_paired_images(ft, fe, ("fine-tuning", "feature extraction"))
    assert verdict.outcome == "no difference detected" and verdict.leader is None
    assert verdict.p_value == pytest.approx(binomtest(60, 118, 0.5).pvalue, rel=1e-9)
    assert verdict.difference == pytest.approx(2 / IMAGES) and verdict.n == IMAGES
    assert verdict.sentence() == ("tied within noise: fine-tuning 70.2%, feature extraction 70.0% "
                                  "(p = 0.93, exact McNemar on 1,020 paired images)")
    tie = winner([("finetune at lr 0.001", ft, None), ("feature at lr 0.01", fe, None)], chance=0.5)
    assert tie.outcome == "no difference detected" and tie.leader is None
    assert tie.sentence() == ("tied within noise: finetune at lr 0.001 70.2%, feature at lr 0.01 70.0% "
                              "(p = 0.93, exact McNemar on 1,020 paired images)")


def test_a_significant_lead_names_the_winner():
    ft, fe = correctness(694, 40, 20)  # 72.0% against 70.0%
    verdict = winner([("feature at lr 0.01", fe, None), ("finetune at lr 0.001", ft, None)], chance=0.5)
    assert verdict.outcome == "A ahead" and verdict.leader == "finetune at lr 0.001"
    assert verdict.names == ("finetune at lr 0.001", "feature at lr 0.01")
    assert verdict.p_value == pytest.approx(binomtest(40, 60, 0.5).pvalue, rel=1e-9) and verdict.p_value < 0.05
    assert verdict.sentence() == ("winner: finetune at lr 0.001 with 72.0%, 2.0 points ahead of feature at lr 0.01 "
                                  "with 70.0% (p = 0.013, exact McNemar on 1,020 paired images)")
    compared = compare_paired_images(fe, ft, ("feature", "finetune"))
    assert compared.outcome == "B ahead" and compared.leader == "finetune"
    assert compared.sentence() == ("finetune ahead by 2.0 points, 72.0% against 70.0% for feature "
                                   "(p = 0.013, exact McNemar on 1,020 paired images)")


def test_identical_runs_and_no_disagreement_are_tied():
    a, _ = correctness(700, 0, 0)
    verdict = compare_paired_images(a, a.copy(), ("A", "B"))
    assert verdict.outcome == "no difference detected" and verdict.p_value == 1.0 and verdict.difference == 0
    assert verdict.sentence() == ("tied within noise: A 68.6%, B 68.6% (p = 1, exact McNemar on 1,020 paired images, "
                                  "with no image on which they disagree)")
    assert winner([("A", a, None), ("B", a.copy(), None)]).outcome == "no difference detected"


@pytest.mark.parametrize("a_only, b_only", [(5, 0), (0, 5), (8, 2), (13, 4), (42, 25), (310, 290), (40, 90)])
def test_mcnemar_verdict_matches_scipy(a_only, b_only):
    a, b = correctness(400, a_only, b_only)
    verdict = compare_paired_images(a, b)
    p = binomtest(a_only, a_only + b_only, 0.5).pvalue
    assert verdict.p_value == pytest.approx(p, rel=1e-9)
    expected = "no difference detected" if p >= 0.05 else "A ahead" if a_only > b_only else "B ahead"
    assert verdict.outcome == expected
    # All 5 disagreements one way is still p = 0.0625: not a detected difference.
    assert (a_only, b_only) != (5, 0) or verdict.outcome == "no difference detected"


def test_p_is_never_rounded_across_the_significance_level():
    a, b = correctness(400, 42, 25)  # p = 0.0498: "0.05" would read as not significant
    verdict = compare_paired_images(a, b)
    assert verdict.outcome == "A ahead" and "(p = 0.0498," in verdict.sentence()
    assert "(p = 0.049," in compare_paired_images(*correctness(400, 13, 4)).sentence()


# --- the winner: chance first, diverged never --------------------------------------------------------------------

def test_no_run_above_chance_names_no_winner():
    # Two classes, nothing learned: 50.0% and 50.5% are within one standard error (1.6 points) of 50%.
    a, b = correctness(505, 10, 5)
    assert b.mean() - 0.5 <= standard_error(b.mean(), IMAGES) and a.mean() - 0.5 <= standard_error(a.mean(), IMAGES)
    verdict = winner([("finetune at lr 0.01", b, None), ("feature at lr 0.1", a, None)], chance=0.5)
    assert verdict.outcome == "not comparable" and verdict.leader is None
    assert verdict.sentence() == "no winner: no run beats chance (50.0%) by more than its standard error on 1,020 images"
    ten = winner([("A", 0.105, None), ("B", 0.09, None)], chance=0.1, images=IMAGES)
    assert ten.sentence() == "no winner: no run beats chance (10.0%) by more than its standard error on 1,020 images"


def test_the_chance_check_is_the_binomial_standard_error():
    # 10 classes on 1,020 images: 11.0% is 1.0 point above chance, its standard error 0.98 points.
    assert 0.110 - 0.1 > standard_error(0.110, IMAGES) and 0.108 - 0.1 <= standard_error(0.108, IMAGES)
    verdict = winner([("A", 0.110, None), ("B", 0.108, None), ("C", 0.95, "loss became NaN")], chance=0.1,
                     images=IMAGES)
    assert verdict.outcome == "A ahead" and verdict.names == ("A",)
    assert verdict.sentence() == "winner: A with 11.0%, the only run that beats chance (10.0%)"


def test_a_diverged_run_never_wins_and_is_not_the_next():
    best, _ = correctness(780, 0, 0)
    a, c = correctness(700, 40, 10)
    runs = [("diverged", best, "loss became NaN in epoch 3"), ("A", a, None), ("C", c, None)]
    verdict = winner(runs, chance=0.1)
    assert verdict.leader == "A" and verdict.names == ("A", "C")  # tested against C, not the diverged run
    assert verdict.p_value == pytest.approx(binomtest(40, 50, 0.5).pvalue, rel=1e-9)
    only = winner([("A", a, None), ("B", None, "loss became NaN")])
    assert only.sentence() == "winner: A with 72.5%, the only run that did not diverge"
    assert winner([("A", a, None)], chance=0.1).sentence() == "winner: A with 72.5%, the only run, and it beats chance (10.0%)"


def test_every_run_diverged_names_no_winner():
    verdict = winner([("finetune at lr 1", None, "loss became NaN"), ("feature at lr 1", None, "loss above 1e4")],
                     chance=0.1)
    assert verdict.outcome == "not comparable" and verdict.reason == "every run diverged"
    assert verdict.sentence() == "no winner: every run diverged"


def test_accuracies_without_per_image_correctness_use_the_unpaired_z_test():
    verdict = winner([("finetune at lr 0.001", 0.702, None), ("feature at lr 0.01", 0.700, None)], chance=0.5,
                     images=IMAGES)
    noise = math.hypot(standard_error(0.702, IMAGES), standard_error(0.700, IMAGES))
    assert verdict.p_value == pytest.approx(2 * norm.sf(0.002 / noise), rel=1e-9)
    assert verdict.sentence() == ("tied within noise: finetune at lr 0.001 70.2%, feature at lr 0.01 70.0% "
                                  "(p = 0.92, unpaired two-proportion z test on 1,020 images, no per-image correctness)")
    lead = winner([("A", 0.75, None), ("B", 0.70, None)], images=IMAGES)
    assert lead.leader == "A" and lead.p_value == pytest.approx(
        2 * norm.sf(0.05 / math.hypot(standard_error(0.75, IMAGES), standard_error(0.70, IMAGES))), rel=1e-9)


def test_winner_refuses_what_it_cannot_judge():
    a, b = correctness(700, 10, 10)
    with pytest.raises(ValueError, match="same `images`"):
        winner([("A", a, None), ("B", b[:500], None)])
    with pytest.raises(ValueError, match="same `images`"):
        winner([("A", 0.7, None)])  # an accuracy needs the image count
    with pytest.raises(ValueError, match="same `images`"):
        winner([("A", math.nan, None)], images=IMAGES)
    with pytest.raises(ValueError, match="per-image correctness"):
        winner([("A", [0.7, 0.2], None)])
    with pytest.raises(ValueError, match="`chance` must be in"):
        winner([("A", a, None)], chance=1.0)
    with pytest.raises(ValueError, match="at least one run"):
        winner([])


# --- seeds: the paired t interval --------------------------------------------------------------------------------

def reference_interval(a, b, confidence=0.95):
    d = np.asarray(a) - np.asarray(b)
    half = t.ppf((1 + confidence) / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return d.mean() - half, d.mean() + half


def test_seeds_ahead_and_tied_against_scipy():
    clr, fixed = [0.910, 0.920, 0.915], [0.900, 0.905, 0.900]
    verdict = compare_seeds(clr, fixed, ("clr", "fixed"))
    assert verdict.interval == pytest.approx(reference_interval(clr, fixed), rel=1e-9)
    assert verdict.outcome == "A ahead" and verdict.n == 3
    assert verdict.sentence() == ("clr ahead by 1.3 points, 91.5% against 90.2% for fixed "
                                  "(clr minus fixed: 95% interval +0.62 to +2.05 points, paired t over 3 seeds)")
    tied = compare_seeds([0.910, 0.900, 0.915], [0.900, 0.905, 0.910], ("clr", "fixed"))
    assert tied.outcome == "no difference detected"
    assert tied.interval == pytest.approx(reference_interval([0.910, 0.900, 0.915], [0.900, 0.905, 0.910]), rel=1e-9)
    assert tied.sentence() == ("tied within noise: clr 90.8%, fixed 90.5% "
                               "(clr minus fixed: 95% interval -1.6 to +2.2 points, paired t over 3 seeds)")


def test_the_interval_excludes_0_exactly_when_the_paired_t_test_rejects():
    rng = np.random.default_rng(3)
    outcomes = set()
    for _ in range(40):
        a = rng.normal(0.90, 0.01, 4)
        b = a + rng.normal(0.01, 0.01, 4)
        verdict = compare_seeds(a, b, confidence=0.95)
        assert (verdict.outcome != "no difference detected") == (ttest_rel(a, b).pvalue < 0.05)
        outcomes.add(verdict.outcome)
    assert outcomes == {"B ahead", "no difference detected"}  # both branches were exercised


def test_one_seed_or_unmatched_seeds_are_not_comparable():
    one = compare_seeds([0.91], [0.90], ("clr", "fixed"))
    assert one.outcome == "not comparable" and one.interval is None and one.leader is None
    assert one.sentence() == ("clr and fixed not comparable (clr 91.0%, fixed 90.0%): one seed each, so the spread "
                              "between seeds is not measured; run both with 2 or more matching seeds")
    apart = compare_seeds({1: 0.91, 2: 0.90, 3: 0.92}, {3: 0.90, 4: 0.90}, ("clr", "fixed"))
    assert apart.outcome == "not comparable" and "only seed 3 in common (clr: 1, 2, 3; fixed: 3, 4)" in apart.reason
    shared = compare_seeds({1: 0.91, 2: 0.90, 3: 0.92}, {3: 0.90, 2: 0.89, 7: 0.5}, ("clr", "fixed"))
    assert shared.interval == pytest.approx(reference_interval([0.90, 0.92], [0.89, 0.90]), rel=1e-9)
    assert "paired t over seeds 2, 3, the ones both have" in shared.sentence()
    with pytest.raises(ValueError, match="paired by position"):
        compare_seeds([0.9, 0.8], [0.9])
    with pytest.raises(ValueError, match="finite"):
        compare_seeds([0.9, math.nan], [0.9, 0.8])
    with pytest.raises(TypeError, match="both be sequences"):
        compare_seeds({1: 0.9, 2: 0.8}, [0.9, 0.8])


# --- learning-rate sensitivity: shared LRs only ------------------------------------------------------------------

def test_sensitivity_over_unmatched_lr_sets_is_not_claimed():
    # Fine-tuning also ran lr 1 (10%): over all its LRs its range is 62 points, over the shared three 4 points.
    fe_lrs, fe = [0.1, 0.01, 0.001], [0.68, 0.70, 0.72]
    ft_lrs, ft = [1, 0.1, 0.01, 0.001], [0.10, 0.68, 0.71, 0.72]
    verdict = sensitivity(fe_lrs, fe, ft_lrs, ft, ("feature extraction", "fine-tuning"), images=IMAGES)
    assert verdict.values == pytest.approx((0.04, 0.04)) and verdict.n == 3
    assert verdict.outcome == "no difference detected"
    half = norm.ppf(0.975) * math.sqrt(sum(standard_error(p, IMAGES) ** 2 for p in (0.72, 0.68, 0.72, 0.68)))
    assert verdict.interval == pytest.approx((-half, half), abs=1e-12)
    assert verdict.sentence() == (
        "feature extraction and fine-tuning depend alike on the learning rate within noise: accuracy ranges of 4.0 and "
        f"4.0 points (feature extraction minus fine-tuning: 95% interval -{100 * half:.1f} to +{100 * half:.1f} points, "
        "normal approximation from the binomial standard errors on 1,020 images; ranges over the 3 learning rates both "
        "have: 0.1, 0.01, 0.001)")
    apart = sensitivity([0.1, 0.01], [0.40, 0.70], [1, 0.001], [0.1, 0.72], ("feature extraction", "fine-tuning"),
                        images=IMAGES)
    assert apart.outcome == "not comparable" and apart.leader is None
    assert apart.sentence() == ("feature extraction and fine-tuning not comparable on learning-rate sensitivity: they "
                                "have no learning rate in common with a result (feature extraction: 0.1, 0.01; "
                                "fine-tuning: 1, 0.001), and a range needs 2")
    # A diverged run (None) is no result: one LR left in common is no range.
    one = sensitivity([0.1, 0.01], [0.40, 0.70], [0.1, 0.01], [None, 0.72], images=IMAGES)
    assert one.outcome == "not comparable" and "only lr 0.01 in common" in one.reason


def test_sensitivity_names_the_mode_that_depends_more():
    verdict = sensitivity([0.1, 0.01, 0.001], [0.40, 0.70, 0.72], [1, 0.1, 0.01, 0.001], [0.1, 0.68, 0.70, 0.72],
                          ("feature extraction", "fine-tuning"), images=IMAGES)
    assert verdict.outcome == "A ahead" and verdict.leader == "feature extraction"
    assert verdict.values == pytest.approx((0.32, 0.04)) and verdict.difference == pytest.approx(0.28)
    assert verdict.sentence().startswith("feature extraction depends more on the learning rate: its accuracy ranges "
                                         "over 32.0 points, fine-tuning's over 4.0 (")
    reverse = sensitivity([1e-3, 1e-2, 1e-1], [0.72, 0.70, 0.68], [0.1, 0.01, 0.001], [0.40, 0.70, 0.72],
                          images=IMAGES)
    assert reverse.outcome == "B ahead" and reverse.n == 3  # 1e-3 and 0.001 are the same LR
    with pytest.raises(ValueError, match="distinct learning rate"):
        sensitivity([0.1, 0.1], [0.5, 0.6], [0.1, 0.01], [0.5, 0.6], images=IMAGES)
    with pytest.raises(ValueError, match="`images` must be"):
        sensitivity([0.1, 0.01], [0.5, 0.6], [0.1, 0.01], [0.5, 0.6], images=0)


# --- budgets and ratios ------------------------------------------------------------------------------------------

def test_budgets_within_one_epoch_are_equal_and_one_epoch_apart_are_not():
    rounding = budgets_equal(284, 285, 94, ("A (clr)", "B (fixed)"))
    assert rounding.equal
    assert rounding.sentence() == ("A (clr) and B (fixed) ran the same budget: 284 and 285 optimizer steps, less than "
                                   "one epoch (94 steps) apart")
    assert budgets_equal(285, 285 + 93, 94).equal
    epoch = budgets_equal(285, 285 + 94, 94)
    assert not epoch.equal
    assert epoch.sentence() == ("A and B ran different budgets: 285 against 379 optimizer steps, at least one epoch "
                                "(94 steps) apart, so a difference between them may come from the budget")
    assert budgets_equal(2850, 2850, 94).sentence() == "A and B ran the same budget: 2,850 optimizer steps each"
    for bad in [(-1, 3, 94), (3, 3, 0), (3.5, 3, 94), (True, 3, 94)]:
        with pytest.raises(ValueError, match="must be an integer"):
            budgets_equal(*bad)


def test_ratios_read_the_right_way():
    more = ratio_sentence(3000, 2000, "iterations")
    assert more == "3,000 against 2,000: 1.5x more iterations"
    assert ratio_sentence(2000, 3000, "iterations") == "2,000 against 3,000: 1.5x fewer iterations"
    assert "0.67" not in more + ratio_sentence(2000, 3000, "iterations")
    assert ratio_sentence(25_000, 70_000, "iterations") == "25,000 against 70,000: 2.8x fewer iterations"
    assert ratio_sentence(2000, 2000, "iterations") == "2,000 against 2,000: the same number of iterations"
    assert ratio_sentence(2001, 2000, "iterations") == "2,001 against 2,000: 0.05% more iterations"
    assert ratio_sentence(12.5, 5.0, "seconds") == "12.5 against 5: 2.5x more seconds"
    for bad in [(0, 1), (1, -2), (math.inf, 1), (math.nan, 1)]:
        with pytest.raises(ValueError, match="finite number > 0"):
            ratio_sentence(*bad, "iterations")


# --- the value itself ----------------------------------------------------------------------------------------------

def test_verdict_outcomes_and_reasons():
    assert OUTCOMES == ("A ahead", "B ahead", "no difference detected", "not comparable")
    with pytest.raises(ValueError, match="outcome"):
        Verdict("A wins", ("A", "B"))
    with pytest.raises(ValueError, match="reason"):
        Verdict("not comparable", ("A", "B"))
    with pytest.raises(ValueError, match="reason"):
        Verdict("A ahead", ("A", "B"), reason="no seeds")
    verdict = compare_paired_images(*correctness(694, 40, 20), ("A", "B"))
    record = verdict.to_dict()
    assert record["outcome"] == "A ahead" and record["sentence"] == verdict.sentence() and record["n"] == IMAGES
    with pytest.raises(ValueError, match="names"):
        compare_paired_images([True], [False], ("A", "A"))
    with pytest.raises(ValueError, match="same images"):
        compare_paired_images([True, False], [True])
    with pytest.raises(ValueError, match="at least one image"):
        compare_paired_images([], [])
    with pytest.raises(ValueError, match="`alpha` must be in"):
        compare_paired_images([True], [False], alpha=0)
