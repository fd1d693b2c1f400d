"""Problem 4's records: each kind round-trips; a bad value, NaN, a missing field or a truncated file is one sentence."""

import json

import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.semisupervised import (LabelNoiseResults, LabelNoiseRow, ModelMetrics, ResamplingResults,
                                                  ResamplingRow, SelectionRow, TeacherStudentResults,
                                                  TeacherStudentRow)

PAIRED = {"test_accuracy": 0.8, "val_accuracy": 0.79, "train_images": 900, "steps": 45, "train_time_s": 3.5,
          "mcnemar_b": 10, "mcnemar_c": 30, "mcnemar_p": 0.002}
METRICS = {"test_accuracy": 0.81, "test_loss": 0.52, "final_train_loss": 0.6, "final_train_accuracy": 0.78,
           "val_accuracy": 0.8, "val_loss": 0.55, "train_accuracy": 0.83, "train_loss": 0.47,
           "generalization_gap": 0.02, "best_val_accuracy": 0.8, "best_val_epoch": 3, "epochs": 3,
           "optimizer_steps": 45, "train_time_s": 4.2, "train_images": 900, "val_images": 100, "test_images": 1000,
           "noise_percent": 25.0, "changed": 225, "sampling": None}
NOISE_ROW = {**PAIRED, "name": "noise_25", "noise_percent": 25.0, "changed": 225, "train_accuracy": 0.7,
             "train_accuracy_true": 0.75, "changed_fit_noisy": 0.2, "changed_predict_true": 0.6, "drop_vs_clean": -0.03}
SAMPLING_ROW = {**PAIRED, "name": "sqrt", "sampling": "sqrt", "label": "square-root", "head_accuracy": 0.9,
                "tail_accuracy": 0.5, "per_class": [0.9] * 5 + [0.5] * 5, "draws": [100] * 10, "train_accuracy": 0.8,
                "wall_s": 5.0, "gain_vs_natural": 0.04}
STUDENT_ROW = {**PAIRED, "name": "student_k30_p1", "model": "student", "k": 30, "p": 1, "pairs": 300, "images": 290,
               "multi_class_images": 10, "correct": 240, "precision": 0.8, "short_classes": 0,
               "pretrain_images_per_epoch": 1150, "pretrained_test_accuracy": 0.6, "gain_vs_teacher": 0.05}
TEACHER_ROW = {**STUDENT_ROW, "name": "teacher", "model": "teacher",
               **{key: None for key in ("k", "p", "pairs", "images", "multi_class_images", "correct", "precision",
                                        "short_classes", "pretrain_images_per_epoch", "pretrained_test_accuracy",
                                        "gain_vs_teacher", "mcnemar_b", "mcnemar_c", "mcnemar_p")}}
SELECTION_ROW = {"k": 30, "p": 1, "class_index": 4, "class_name": "Coat", "candidates": 120, "selected": 30,
                 "correct": 21, "precision": 0.7}

# (record class, valid data, a field out of range and its sentence, (list, field) that may not be NaN, a required field)
KINDS = {
    "metrics": (ModelMetrics, METRICS, ("test_accuracy", 1.7, "test_accuracy = 1.7 is not an accuracy (it must be in "
                                        "[0, 1])"), (None, "val_loss"), "optimizer_steps"),
    "label-noise": (LabelNoiseResults, {"points": [NOISE_ROW]},
                    ("points", [{**NOISE_ROW, "noise_percent": 100.0}],
                     "(points[0]): noise_percent = 100.0 is not a percentage of labels replaced (it must be in [0, 100))"),
                    ("points", "test_accuracy"), "points"),
    "resampling": (ResamplingResults, {"points": [SAMPLING_ROW]},
                   ("points", [{**SAMPLING_ROW, "per_class": [0.9] * 9 + [-0.1]}],
                    "(points[0]): per_class[9] = -0.1 is not an accuracy (it must be in [0, 1])"),
                   ("points", "tail_accuracy"), "points"),
    "teacher-student": (TeacherStudentResults, {"points": [TEACHER_ROW, STUDENT_ROW], "selection": [SELECTION_ROW]},
                        ("points", [TEACHER_ROW, {**STUDENT_ROW, "gain_vs_teacher": -1.5}],
                         "(points[1]): gain_vs_teacher = -1.5 is not a difference of accuracies (it must be in [-1, 1])"),
                        ("selection", "precision"), "selection"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_valid_record_round_trips_through_its_file(kind, tmp_path):
    cls, data, *_ = KINDS[kind]
    record = cls.from_json(data, "x")
    path = record.write(tmp_path)
    assert path.name == cls.FILE
    assert cls.read(tmp_path) == record
    assert json.loads(path.read_text())["kind"] == cls.KIND


@pytest.mark.parametrize("kind", KINDS)
def test_an_out_of_range_value_is_named_in_one_sentence(kind, tmp_path):
    cls, data, (name, value, sentence), *_ = KINDS[kind]
    (tmp_path / cls.FILE).write_text(json.dumps({**data, name: value}))
    with pytest.raises(RecordError) as caught:
        cls.read(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / cls.FILE))
    assert str(caught.value).endswith(sentence)


@pytest.mark.parametrize("kind", KINDS)
def test_nan_is_never_a_value(kind, tmp_path):
    cls, data, _, (rows, where), _ = KINDS[kind]
    if rows is None:
        text = json.dumps({**data, where: float("nan")})
    else:  # NaN in the last row of a list
        text = json.dumps({**data, rows: [*data[rows][:-1], {**data[rows][-1], where: float("nan")}]})
    assert "NaN" in text
    (tmp_path / cls.FILE).write_text(text)
    with pytest.raises(RecordError) as caught:
        cls.read(tmp_path)
    assert str(caught.value).endswith(f"{where} = nan is not a finite number")
    assert str(caught.value).count("\n") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_field_is_named(kind, tmp_path):
    cls, data, _, _, required = KINDS[kind]
    (tmp_path / cls.FILE).write_text(json.dumps({key: value for key, value in data.items() if key != required}))
    with pytest.raises(RecordError) as caught:
        cls.read(tmp_path)
    assert str(caught.value) == f"{tmp_path / cls.FILE}: {required} is missing"


def test_a_missing_field_of_a_row_is_named(tmp_path):
    row = {key: value for key, value in NOISE_ROW.items() if key != "changed"}
    (tmp_path / "results.json").write_text(json.dumps({"points": [row]}))
    with pytest.raises(RecordError) as caught:
        LabelNoiseResults.read(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'results.json'} (points[0]): changed is missing"


@pytest.mark.parametrize("kind", KINDS)
def test_a_truncated_file_is_one_sentence(kind, tmp_path):
    cls, data, *_ = KINDS[kind]
    text = json.dumps(cls.from_json(data).to_json())
    (tmp_path / cls.FILE).write_text(text[: len(text) // 2])
    with pytest.raises(RecordError) as caught:
        cls.read(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / cls.FILE}: is not valid JSON (truncated or damaged")


@pytest.mark.parametrize("cls, data, sentence", [
    (LabelNoiseRow, {**NOISE_ROW, "changed": 901}, "row 'noise_25' changed 901 labels of 900 training images"),
    (LabelNoiseRow, {**NOISE_ROW, "mcnemar_p": None}, "row 'noise_25' has only part of its McNemar test"),
    (ResamplingRow, {**SAMPLING_ROW, "draws": [100] * 9}, "row 'sqrt' has 10 per-class accuracies and 9 draws"),
    (TeacherStudentRow, {**STUDENT_ROW, "k": None}, "row 'student_k30_p1' is a student without its K, P"),
    (TeacherStudentRow, {**STUDENT_ROW, "correct": 301}, "row 'student_k30_p1' has 301 correct of 300 pairs"),
    (SelectionRow, {**SELECTION_ROW, "selected": 121}, "has 21 correct of 121 selected of 120 candidates"),
    (ModelMetrics, {**METRICS, "best_val_epoch": 4}, "best_val_epoch = 4 is after the last epoch (3)"),
    (TeacherStudentRow, {**STUDENT_ROW, "finetune_lr_factor": 0.0}, "finetune_lr_factor = 0.0 must be finite and > 0"),
    (ModelMetrics, {**METRICS, "sampling": "inverse"}, "sampling = 'inverse' must be one of 'natural', 'sqrt', 'uniform'"),
])
def test_rules_between_fields(cls, data, sentence):
    with pytest.raises(RecordError) as caught:
        cls.from_json(data, "out/results.json")
    assert sentence in str(caught.value) and str(caught.value).startswith("out/results.json")


def test_a_point_twice_or_of_another_kind_is_refused():
    with pytest.raises(RecordError, match="holds point 'noise_25' more than once"):
        LabelNoiseResults.from_json({"points": [NOISE_ROW, NOISE_ROW]}, "r")
    with pytest.raises(RecordError, match="kind = 'resampling-row' is not 'label-noise-row'"):
        LabelNoiseResults.from_json({"points": [ResamplingRow.from_json(SAMPLING_ROW).to_json()]}, "r")


def test_put_adds_a_point_or_replaces_the_one_of_the_same_name():
    results = LabelNoiseResults.empty()
    row = LabelNoiseRow.from_json(NOISE_ROW)
    results = results.put(row).put(LabelNoiseRow.from_json({**NOISE_ROW, "name": "noise_50", "noise_percent": 50.0}))
    assert [r.name for r in results.points] == ["noise_25", "noise_50"]
    better = LabelNoiseRow.from_json({**NOISE_ROW, "test_accuracy": 0.9})
    assert results.put(better).get("noise_25").test_accuracy == 0.9
    assert [r.name for r in results.put(better).points] == ["noise_25", "noise_50"]
    selection = SelectionRow.from_json(SELECTION_ROW)
    ts = TeacherStudentResults.empty().with_selection([selection]).with_selection([selection])
    assert ts.selection == [selection]


def test_a_row_written_before_the_fine_tuning_factor_was_recorded_reads_without_it():
    row = TeacherStudentRow.from_json(STUDENT_ROW, "old/results.json")
    assert row.finetune_lr_factor is None and row.finetune_choice is None
    chosen = TeacherStudentRow.from_json({**STUDENT_ROW, "finetune_lr_factor": 1.0, "finetune_choice": "factor 1"})
    assert TeacherStudentRow.from_json(chosen.to_json()) == chosen
