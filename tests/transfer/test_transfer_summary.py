"""summary.md on synthetic records: the split discipline and every verdict sentence, word for word.

The choices (each mode's best LR, the winner, which mode is ahead, which
depends more on the LR) are made on the selection images, with exact McNemar
on per-image correctness; the chosen runs' figures are their validation
accuracy. The cases are issue 20's: a significant lead names the winner;
70.2% against 70.0% on 1,020 images is a tie within noise; no run above
chance names no winner (and the summary says so first); a diverged run never
wins; sensitivity is compared over shared LRs only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest

from pyimagesearch.records.transfer import DatasetDescription, ImageCorrectness, TransferRun
from pyimagesearch.transfer.summary import best_runs, summary_markdown

NAN_LOSS = "the loss became nan"


def fake_run(mode, lr, final, best=None, wall=10.0, per_epoch=1.0, diverged=None, val_images=1020, selection=None,
             selection_images=None):
    return TransferRun(mode=mode, lr=lr, best_val_accuracy=best or final, best_epoch=3, final_val_accuracy=final,
                       final_val_loss=1.0, final_accuracy=0.5, epochs=4, wall_seconds=wall, seconds_per_epoch=per_epoch,
                       steps_per_epoch=16, train_images=1020, val_images=val_images,
                       feature_cache="once" if mode == "feature" else None, feature_seconds=None, diverged=diverged,
                       settings={}, selection_accuracy=None if diverged else selection,
                       selection_images=selection_images or (0 if selection is None else 1020))


def pair(both: int, a_only: int, b_only: int, images: int = 1020, seed: int = 0):
    """Two per-image correctness arrays with the given 2x2 table, in a shuffled image order."""
    a, b = np.zeros(images, bool), np.zeros(images, bool)
    a[:both + a_only] = True
    b[:both] = True
    b[both + a_only:both + a_only + b_only] = True
    order = np.random.default_rng(seed).permutation(images)
    return a[order], b[order]


def scored(runs_and_correct):
    """Runs whose selection accuracy is their correctness' mean, with the ``{run name: ImageCorrectness}`` of them."""
    runs, correctness = [], {}
    for (mode, lr, final, diverged), correct in runs_and_correct:
        runs.append(fake_run(mode, lr, final, diverged=diverged,
                             selection=None if correct is None else float(np.mean(correct)),
                             selection_images=1020))
        if correct is not None:
            correctness[f"{mode}_lr{lr:g}"] = ImageCorrectness.of(correct, np.ones(1020, bool))
    return runs, correctness


def test_a_significant_lead_on_the_selection_images_names_the_winner_with_its_validation_figure():
    ft, fe = pair(694, 40, 20)  # 72.0% against 70.0% on the selection images
    low, _ = pair(500, 0, 0)
    runs, correctness = scored([(("finetune", 0.001, 0.702, None), ft), (("feature", 0.01, 0.71, None), fe),
                                (("finetune", 0.01, 0.5, None), low), (("finetune", 0.1, 0.9, NAN_LOSS), None)])
    text = summary_markdown("dtd", runs, chance=1 / 47, correctness=correctness)
    p = binomtest(40, 60, 0.5).pvalue
    assert f"{p:.2g}" == "0.013"
    assert ("**Winner: finetune at lr 0.001**, chosen on the selection images (winner: finetune at lr 0.001 with 72.0%, "
            "2.0 points ahead of feature at lr 0.01 with 70.0% (p = 0.013, exact McNemar on 1,020 paired images)). Its "
            "validation accuracy, read after the choice: 70.2% (standard error 1.4 points on 1,020 validation "
            "images).") in text
    assert "| finetune | 0.001 | 72.0% | 70.2% | 70.2% (3) | 4 | 10.0 |  |" in text
    assert "- fine-tuning: lr 0.001, selection 72.0%; validation 70.2%" in text
    # Validation ranks feature extraction first (71.0% > 70.2%): the choice is not made there.
    assert {m: r.lr for m, r in best_runs(runs, correctness).items()} == {"finetune": 0.001, "feature": 0.01}
    assert ("On the selection images, fine-tuning (lr 0.001) ahead by 2.0 points, 72.0% against 70.0% for feature "
            "extraction (lr 0.01) (p = 0.013, exact McNemar on 1,020 paired images).") in text
    assert "The choices (each mode's best learning rate, the winner, the comparisons) are made on the 1,020 selection" in text
    assert "Seconds per run, fine-tuning against feature extraction: 10 against 10: the same number of seconds." in text
    faster = summary_markdown("dtd", [fake_run("finetune", 0.001, 0.7, wall=500.0, selection=0.7),
                                      fake_run("feature", 0.01, 0.6, wall=25.0, selection=0.6)])
    assert "Seconds per run, fine-tuning against feature extraction: 500 against 25: 20x more seconds." in faster


def test_70_2_against_70_0_on_1020_images_is_tied_within_noise_and_names_no_winner():
    ft, fe = pair(656, 60, 58)  # 716 against 714 right
    runs, correctness = scored([(("finetune", 0.001, 0.702, None), ft), (("feature", 0.01, 0.70, None), fe)])
    text = summary_markdown("vgg-flowers", runs, chance=1 / 102, correctness=correctness)
    assert "Winner:" not in text and "**Winner" not in text
    assert ("**No winner: tied within noise: finetune at lr 0.001 70.2%, feature at lr 0.01 70.0% (p = 0.93, exact "
            "McNemar on 1,020 paired images)** on the selection images. Validation accuracy of the two, read after the "
            "choice: finetune at lr 0.001 70.2% (standard error 1.4 points on 1,020 validation images); feature at lr "
            "0.01 70.0% (standard error 1.4 points on 1,020 validation images).") in text
    assert "ahead by" not in text and "On the selection images, tied within noise: fine-tuning (lr 0.001) 70.2%" in text


def test_no_run_above_chance_says_so_first_and_names_no_winner():
    a, b = pair(505, 10, 5)  # 50.5% and 50.0% of two classes: within one standard error of chance
    runs, correctness = scored([(("finetune", 0.01, 0.5, None), b), (("feature", 0.1, 0.51, None), a)])
    text = summary_markdown("pets", runs, chance=0.5, correctness=correctness)
    assert text.split("\n")[2] == ("**No run beats chance.** With 2 classes chance is 50.0%: no run beats chance (50.0%) "
                                   "by more than its standard error on 1,020 images, so the ranking below does not "
                                   "separate the learning rates or the modes.")
    assert "**No winner**: no run beats chance (50.0%) by more than its standard error on 1,020 images." in text
    assert "Winner:" not in text and "**Winner" not in text


def test_diverged_runs_are_listed_never_best_or_winner():
    best, _ = pair(1000, 0, 0)
    ok, _ = pair(612, 0, 0)
    runs, correctness = scored([(("feature", 1.0, 0.0098, NAN_LOSS), None), (("feature", 0.001, 0.0098, None), pair(10, 0, 0)[0]),
                                (("finetune", 0.1, 0.95, "the loss 40 exceeded 4 x 4.62"), None),
                                (("finetune", 0.01, 0.60, None), ok)])
    assert best.sum() == 1000
    text = summary_markdown("vgg-flowers", runs, chance=1 / 102, correctness=correctness)
    assert "**Winner: finetune at lr 0.01**" in text
    assert "## Diverged runs (not ranked)" in text
    assert "- feature at lr 1: stopped in epoch 4, the loss became nan" in text
    assert "- finetune at lr 0.1: stopped in epoch 4, the loss 40 exceeded 4 x 4.62" in text
    assert "| finetune | 0.1 | n/a | 95.0% | 95.0% (3) | 4 | 10.0 | diverged: the loss 40 exceeded 4 x 4.62 |" in text
    assert {m: r.lr for m, r in best_runs(runs, correctness).items()} == {"feature": 0.001, "finetune": 0.01}
    assert "No run beats chance" not in text and "too high" not in text and "is a result" not in text
    all_diverged = summary_markdown("x", [fake_run("feature", 1.0, 0.3, diverged=NAN_LOSS)])
    assert "**No winner**: every run diverged." in all_diverged and "Winner:" not in all_diverged


def test_every_run_of_a_mode_diverged_or_one_mode_only():
    runs = [fake_run("feature", 1.0, 0.3, diverged=NAN_LOSS), fake_run("finetune", 0.01, 0.6, selection=0.6)]
    text = summary_markdown("x", runs)
    assert "- feature extraction: none, every run diverged" in text
    assert "Every feature extraction run diverged, so only fine-tuning has a result" in text
    text = summary_markdown("x", [fake_run("feature", 0.1, 0.5, selection=0.5), fake_run("feature", 0.01, 0.5, selection=0.5)])
    assert "Only feature extraction runs are finished; train with --mode finetune as well to compare the two." in text
    assert "**No winner: tied within noise: feature at lr 0.1 50.0%, feature at lr 0.01 50.0%" in text
    assert math.isclose(best_runs([fake_run("feature", 0.1, 0.5, selection=0.5)])["feature"].lr, 0.1)


def test_sensitivity_is_compared_over_the_shared_learning_rates_only():
    # Fine-tuning at 0.01 and 0.001, feature extraction at 1 and 0.1: no learning rate in common.
    runs = [fake_run("feature", 1.0, 0.5, selection=0.40), fake_run("feature", 0.1, 0.6, selection=0.70),
            fake_run("finetune", 0.01, 0.7, selection=0.72), fake_run("finetune", 0.001, 0.8, selection=0.71)]
    text = summary_markdown("x", runs)
    assert ("Learning-rate sensitivity on the selection images: fine-tuning and feature extraction not comparable on "
            "learning-rate sensitivity: they have no learning rate in common with a result (fine-tuning: 0.01, 0.001; "
            "feature extraction: 1, 0.1), and a range needs 2.") in text
    assert "depends more" not in text
    # The task's lists share 0.1, 0.01 and 0.001; feature extraction's lr 1 is left out of its range.
    shared = [fake_run("finetune", lr, 0.5, selection=acc) for lr, acc in ((0.1, 0.30), (0.01, 0.80), (0.001, 0.75))]
    shared += [fake_run("feature", lr, 0.5, selection=acc) for lr, acc in ((1.0, 0.10), (0.1, 0.60), (0.01, 0.62),
                                                                           (0.001, 0.61))]
    text = summary_markdown("x", shared)
    assert ("fine-tuning depends more on the learning rate: its accuracy ranges over 50.0 points, feature extraction's "
            "over 2.0") in text and "over the 3 learning rates both have: 0.1, 0.01, 0.001" in text


def test_accuracies_without_a_selection_split_are_ranked_on_validation_and_said_optimistic():
    runs = [fake_run("feature", 0.1, 0.60), fake_run("finetune", 0.001, 0.825, 0.85)]
    text = summary_markdown("dtd", runs)
    assert "These runs have no selection split, so the choices below are made on the validation images" in text
    assert "(p < 0.001, unpaired two-proportion z test on 1,020 images, no per-image correctness)" in text


def test_the_summary_names_the_data_set_s_provenance_from_its_record():
    split = {"images": 6, "images_per_class": {"min": 2, "median": 2.0, "max": 2}, "classes_without_images": 0,
             "counts": [2, 2, 2]}
    data = {"name": "pets", "origin": "folder /home/u/pets", "evaluation_split": "validation", "num_classes": 3,
            "class_names": ["a", "b", "c"], "splits": {"train": split, "validation": split}, "samples": ["a"],
            "source": "folder"}
    runs = [fake_run("feature", 0.1, 0.6, selection=0.6)]
    text = summary_markdown("pets", runs, description=DatasetDescription.from_json(data))
    assert "Data: pets, a folder of the user's own images, folder /home/u/pets, 3 classes" in text
    assert "Decathlon" not in text
    decathlon = DatasetDescription.from_json({**data, "origin": "tfds visual_domain_decathlon/dtd", "source": None})
    assert decathlon.provenance == "decathlon" and "the Decathlon's test labels are withheld" in summary_markdown(
        "dtd", runs, description=decathlon)
    standin = summary_markdown("digits", runs, description=DatasetDescription.from_json({**data, "source": "standin"}),
                               preface=["Offline stand-in: the note."])
    assert standin.split("\n")[2] == "Offline stand-in: the note."
