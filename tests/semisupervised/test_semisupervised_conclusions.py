"""Problem 4's conclusions on synthetic predictions: choices follow validation and never see test data; every
comparison sentence is the exact McNemar verdict, word for word; a K sweep that cannot show Figure 5 says so."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import binomtest

from pyimagesearch.core.run import RunFolder
from pyimagesearch.core.sweep import Trial
from pyimagesearch.records.semisupervised import (LabelNoiseResults, LabelNoiseRow, ResamplingResults, ResamplingRow,
                                                  TeacherStudentResults, TeacherStudentRow)
from pyimagesearch.semisupervised import conclusions, label_noise, resampling_run, teacher_student
from pyimagesearch.semisupervised.conclusions import against, choose_on_validation, k_sweep_caveat
from pyimagesearch.semisupervised.runs import PointStore, save_array
from tests.semisupervised.test_semisupervised_records import NOISE_ROW, SAMPLING_ROW, STUDENT_ROW, TEACHER_ROW

TEST_IMAGES, VAL_IMAGES = 1000, 200


def correctness(both: int, a_only: int, b_only: int, images: int, seed: int = 0):
    """Two per-image correctness arrays with this 2x2 table, in a shuffled order."""
    a, b = np.zeros(images, bool), np.zeros(images, bool)
    a[:both + a_only] = True
    b[:both] = True
    b[both + a_only:both + a_only + b_only] = True
    order = np.random.default_rng(seed).permutation(images)
    return a[order], b[order]


def predictions(correct: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Predicted classes that are right exactly where ``correct`` says."""
    return np.where(correct, labels, (labels + 1) % 10).astype(np.int8)


def student(k: int, p: int, test_accuracy: float, val_accuracy: float) -> TeacherStudentRow:
    return TeacherStudentRow.from_json({**STUDENT_ROW, "name": f"student_k{k}_p{p}", "k": k, "p": p,
                                        "test_accuracy": test_accuracy, "val_accuracy": val_accuracy})


# Test figures that would pick K 100, P 1; validation figures that pick K 300, P 2.
STUDENTS = [student(100, 1, 0.84, 0.70), student(300, 2, 0.78, 0.80), student(1000, 1, 0.80, 0.72)]


# --- the best student: chosen on validation, never shown the test figures -------------------------------------------

def test_the_best_student_follows_validation_where_the_test_column_would_pick_another():
    assert max(STUDENTS, key=lambda row: row.test_accuracy).name == "student_k100_p1"
    val = {row.name: row.val_accuracy for row in STUDENTS}
    best, choice = teacher_student.best_student(STUDENTS, val, VAL_IMAGES, 10)
    assert best.name == "student_k300_p2" and best.test_accuracy == 0.78
    assert (choice.name, choice.accuracy, choice.images) == ("student K 300, P 2", 0.80, VAL_IMAGES)
    # Accuracies alone give an unpaired test, and 8 points on 200 images are within its noise: chosen, not a winner.
    assert choice.sentence("best student") == (
        "best student (chosen on validation accuracy, 200 validation images): student K 300, P 2 with 80.0%; on "
        "validation, tied within noise: student K 300, P 2 80.0%, student K 1000, P 1 72.0% (p = 0.06, unpaired "
        "two-proportion z test on 200 images, no per-image correctness)")


class NoTestFigures:
    """A student row that holds only what a choice may read: touching a test figure fails the test."""

    def __init__(self, row):
        self.name, self.k, self.p = row.name, row.k, row.p

    def __getattr__(self, name):
        pytest.fail(f"the choice read {name!r} of a student")


def test_the_choice_is_given_names_and_validation_scores_only(monkeypatch):
    val = {row.name: correctness(int(row.val_accuracy * VAL_IMAGES), 0, 0, VAL_IMAGES)[0] for row in STUDENTS}
    given = []

    def spy(candidates, images, chance=None):
        given.append((list(candidates), images, chance))
        return choose_on_validation(candidates, images, chance)

    monkeypatch.setattr(teacher_student, "choose_on_validation", spy)
    shown = [NoTestFigures(row) for row in STUDENTS]
    best, choice = teacher_student.best_student(shown, val, VAL_IMAGES, 10)
    assert best is shown[1] and choice.name == "student K 300, P 2"
    ((candidates, images, chance),) = given
    assert images == VAL_IMAGES and chance == 0.1
    assert [name for name, _ in candidates] == ["student K 100, P 1", "student K 300, P 2", "student K 1000, P 1"]
    assert all(score is val[row.name] for (_, score), row in zip(candidates, STUDENTS))  # the validation arrays, no copy


def test_equal_validation_accuracy_keeps_the_first_and_says_tied():
    choice = choose_on_validation([("factor 0.1", 0.75), ("factor 1", 0.75)], VAL_IMAGES, 0.1)
    assert choice.name == "factor 0.1" and choice.verdict.outcome == "no difference detected"
    assert choice.sentence("fine-tuning LR factor") == (
        "fine-tuning LR factor (chosen on validation accuracy, 200 validation images): factor 0.1 with 75.0%; on "
        "validation, tied within noise: factor 0.1 75.0%, factor 1 75.0% (p = 1, unpaired two-proportion z test on 200 "
        "images, no per-image correctness)")


def test_findings_choose_from_the_saved_validation_predictions_and_compare_on_test(tmp_path):
    """The experiment's own path: validation predictions pick the best student, test predictions give the verdicts."""
    rng = np.random.default_rng(1)
    data = SimpleNamespace(y_val=rng.integers(0, 10, VAL_IMAGES), y_test=rng.integers(0, 10, TEST_IMAGES),
                           num_classes=10)
    teacher_test, tied_test = correctness(695, 5, 10, TEST_IMAGES)  # 70.0% against 70.5%
    better_test = correctness(690, 110, 10, TEST_IMAGES, seed=1)[0]  # 80.0%
    tests = {"teacher": teacher_test, "ceiling": better_test, "student_k100_p1/finetune": better_test,
             "student_k300_p2/finetune": tied_test}
    vals = {"student_k100_p1/finetune": correctness(140, 0, 0, VAL_IMAGES)[0],  # 70%
            "student_k300_p2/finetune": correctness(160, 0, 0, VAL_IMAGES)[0]}  # 80%
    for run in tests:
        (tmp_path / "runs" / run).mkdir(parents=True)
    for run, correct in tests.items():
        save_array(tmp_path / "runs" / run / "test_predictions.npy", predictions(correct, data.y_test))
    for run, correct in vals.items():
        save_array(tmp_path / "runs" / run / "val_predictions.npy", predictions(correct, data.y_val))
    students = [replace(STUDENTS[0], test_accuracy=0.8), replace(STUDENTS[1], test_accuracy=0.705)]
    found = teacher_student.Findings.of(tmp_path, data, {"finetune_lr_factor": 0.1, "quick": False},
                                        TeacherStudentRow.from_json(TEACHER_ROW), students, most_k=300)
    assert found.best.name == "student_k300_p2" and found.choice.accuracy == 0.8
    assert found.verdicts[0].startswith("ceiling ahead by 10.0 points, 80.0% against 70.0% for teacher (p < 0.001, "
                                        "exact McNemar on 1,000 paired images)")
    assert found.verdicts[2] == (f"tied within noise: student K 300, P 2 70.5%, teacher 70.0% (p = "
                                 f"{binomtest(5, 15, 0.5).pvalue:.2g}, exact McNemar on 1,000 paired images)")
    assert found.caveat == ("the sweep stops at K = 300, all that U allows at these settings, and for P = 1 and 2 one "
                            "K alone was swept: this sweep cannot show the shape of Yalniz et al.'s Figure 5 (rise, "
                            "then fall).")


# --- comparison sentences: the verdict's, significant and tied ----------------------------------------------------

def test_against_is_the_exact_mcnemar_verdict_significant_and_tied():
    a, b = correctness(700, 60, 20, TEST_IMAGES)  # 76.0% against 72.0%, 60 against 20 discordant
    assert against(a, b, ("uniform sampling", "natural sampling")) == (
        "uniform sampling ahead by 4.0 points, 76.0% against 72.0% for natural sampling (p < 0.001, exact McNemar on "
        "1,000 paired images)")
    a, b = correctness(700, 22, 20, TEST_IMAGES)  # 72.2% against 72.0%
    assert against(a, b, ("p = 10%", "p = 0%")) == (
        f"tied within noise: p = 10% 72.2%, p = 0% 72.0% (p = {binomtest(22, 42, 0.5).pvalue:.2g}, exact McNemar on "
        "1,000 paired images)")


def finished_point(folder, name, row, correct, labels):
    with RunFolder(folder, "semisupervised-model", {"name": name}) as run:
        row.write(folder / "row.json")
        save_array(folder / "test_predictions.npy", predictions(correct, labels))
        run.complete(quick=True)
    return Trial(name, folder, {})


def experiment(tmp_path, results, names):
    run = RunFolder(tmp_path, "semisupervised-experiment", {"experiment": "synthetic"})
    run.__enter__()
    return run, PointStore(run, results, names)


def test_label_noise_sentences_come_from_the_verdicts_on_the_runs_predictions(tmp_path):
    data = SimpleNamespace(y_test=np.random.default_rng(2).integers(0, 10, TEST_IMAGES))
    clean, noisy = correctness(700, 100, 20, TEST_IMAGES)  # 80.0% against 72.0%
    _, slightly = correctness(780, 20, 18, TEST_IMAGES)  # 79.8%
    run, store = experiment(tmp_path, LabelNoiseResults, ["noise_0", "noise_10", "noise_50"])
    trials = [finished_point(tmp_path / "runs" / name, name, LabelNoiseRow.from_json(
        {**NOISE_ROW, "name": name, "noise_percent": p, "test_accuracy": float(correct.mean()), "drop_vs_clean": None,
         "mcnemar_b": None, "mcnemar_c": None, "mcnemar_p": None}), correct, data.y_test)
        for name, p, correct in (("noise_0", 0.0, clean), ("noise_10", 10.0, slightly), ("noise_50", 50.0, noisy))]
    rows, verdicts = label_noise.collect(store, trials, data)
    run.__exit__(None, None, None)
    assert verdicts == [
        f"tied within noise: p = 10% 79.8%, p = 0% 80.0% (p = {binomtest(18, 38, 0.5).pvalue:.2g}, exact McNemar on "
        "1,000 paired images)",
        "p = 0% ahead by 8.0 points, 80.0% against 72.0% for p = 50% (p < 0.001, exact McNemar on 1,000 paired images)"]
    assert rows[2].mcnemar_p == pytest.approx(binomtest(20, 120, 0.5).pvalue)
    label_noise.write_outputs(tmp_path, rows, verdicts)
    text = (tmp_path / "results.md").read_text()
    assert "**Against the clean run**" in text and all(f"- {sentence}" in text for sentence in verdicts)


def test_uniform_against_natural_is_the_verdict_on_the_same_test_images(tmp_path):
    data = SimpleNamespace(y_test=np.random.default_rng(3).integers(0, 10, TEST_IMAGES))
    uniform, natural = correctness(700, 60, 20, TEST_IMAGES)
    run, store = experiment(tmp_path, ResamplingResults, ["natural", "uniform"])
    trials = [finished_point(tmp_path / "runs" / name, name, ResamplingRow.from_json(
        {**SAMPLING_ROW, "name": name, "sampling": name, "label": name, "test_accuracy": float(correct.mean()),
         "gain_vs_natural": None, "mcnemar_b": None, "mcnemar_c": None, "mcnemar_p": None}), correct, data.y_test)
        for name, correct in (("natural", natural), ("uniform", uniform))]
    rows, verdicts = resampling_run.collect(store, trials, data)
    run.__exit__(None, None, None)
    assert verdicts == ["uniform sampling ahead by 4.0 points, 76.0% against 72.0% for natural sampling (p < 0.001, "
                        "exact McNemar on 1,000 paired images)"]
    assert rows[1].gain_vs_natural == pytest.approx(0.04)


# --- the K sweep against Figure 5 -----------------------------------------------------------------------------------

def curve(p: int, *points):
    return [student(k, p, accuracy, 0.5) for k, accuracy in points]


QUICK_RISING = curve(1, (100, 0.70), (300, 0.72), (800, 0.74)) + curve(2, (100, 0.71), (300, 0.73), (800, 0.75))
FULL_SHAPED = curve(1, (100, 0.80), (1000, 0.83), (4900, 0.82))


def test_quick_settings_still_rising_at_the_largest_k_say_the_sweep_cannot_show_figure_5():
    assert k_sweep_caveat(QUICK_RISING, quick=True, most_k=800) == (
        "Quick settings (--quick): the sweep stops at K = 800, all that U allows at these settings, and for P = 1 and "
        "2 the best student is at the largest K swept (accuracy still rising where the sweep stops): this sweep cannot "
        "show the shape of Yalniz et al.'s Figure 5 (rise, then fall); compare the rise only.")
    assert k_sweep_caveat(QUICK_RISING, quick=False, most_k=None).startswith(
        "the sweep stops at K = 800, and for P = 1 and 2 the best student is at the largest K swept")


def test_a_sweep_with_its_peak_inside_is_named_only_at_quick_settings():
    assert k_sweep_caveat(FULL_SHAPED, quick=False, most_k=4900) is None
    assert k_sweep_caveat(FULL_SHAPED, quick=True, most_k=4900) == (
        "Quick settings (--quick): the sweep stops at K = 4,900, all that U allows at these settings, on a subset with "
        "small budgets; a fall here is not Yalniz et al.'s Figure 5 (rise, then fall) at the paper's scale: compare "
        "with the task's settings.")
    assert k_sweep_caveat([], quick=True) is None


def test_the_split_discipline_is_stated_once_in_code():
    assert conclusions.SPLIT_DISCIPLINE.startswith("Split discipline: training data trains; the validation split")
    assert "the test images are read once, after every choice" in conclusions.SPLIT_DISCIPLINE


def test_curves_rising_and_falling_are_named_each_and_the_rise_is_not_offered_alone():
    rows = curve(1, (100, 0.74), (300, 0.72)) + curve(2, (100, 0.71), (300, 0.73))
    assert k_sweep_caveat(rows, quick=True, most_k=800) == (
        "Quick settings (--quick): the sweep stops at K = 300, and for P = 2 the best student is at the largest K "
        "swept (accuracy still rising where the sweep stops); for P = 1 it is at the smallest K swept: this sweep "
        "cannot show the shape of Yalniz et al.'s Figure 5 (rise, then fall).")
