"""The report's reader of Problem 4: finished is the completion record; a bad results.json is its record's sentence."""

import json

import pytest

from pyimagesearch.core.run import RunFolder
from pyimagesearch.records.base import RecordError
from pyimagesearch.records.semisupervised import (LabelNoiseResults, LabelNoiseRow, SelectionRow, TeacherStudentResults,
                                                  TeacherStudentRow)
from pyimagesearch.report.document import Figure
from pyimagesearch.report.readers.common import Context
from pyimagesearch.report.readers.semisupervised import finished, read_semisupervised
from pyimagesearch.semisupervised.conclusions import k_sweep_caveat
from tests.semisupervised.test_semisupervised_conclusions import FULL_SHAPED, QUICK_RISING
from tests.semisupervised.test_semisupervised_records import NOISE_ROW, SELECTION_ROW, TEACHER_ROW


def label_noise(root, quick=True, complete=True, rows=(NOISE_ROW,)):
    folder = root / "semisupervised" / "label-noise" / ("quick" if quick else "")
    with RunFolder(folder, "semisupervised-label-noise", {"experiment": "label-noise", "quick": quick}) as run:
        LabelNoiseResults(points=[LabelNoiseRow.from_json(row) for row in rows]).write(folder)
        (folder / "results.md").write_text("# Label noise\n\n| p % | test % |\n| ---: | ---: |\n| 25 | 80.00 |\n")
        if complete:
            run.complete(quick=quick)
    return folder


def test_finished_is_the_completion_record_and_its_quick_flag_the_status(tmp_path):
    folder = label_noise(tmp_path, complete=False)
    assert not finished(folder)
    (source,) = read_semisupervised(Context(tmp_path), "label_noise")
    assert source.status == "partial" and source.folder == folder
    label_noise(tmp_path, complete=True)
    assert finished(folder)
    (source,) = read_semisupervised(Context(tmp_path), "label_noise")
    assert source.status == "quick"


def test_a_finished_full_run_is_shown_before_the_quick_one(tmp_path):
    label_noise(tmp_path, quick=True)
    full = label_noise(tmp_path, quick=False)
    (source,) = read_semisupervised(Context(tmp_path), "label_noise")
    assert source.status == "full" and source.folder == full


@pytest.mark.parametrize("change, sentence", [
    ({"test_accuracy": 1.7}, "(points[0]): test_accuracy = 1.7 is not an accuracy (it must be in [0, 1])"),
    ({"test_accuracy": float("nan")}, "(points[0]): test_accuracy = nan is not a finite number"),
])
def test_a_bad_results_file_is_its_records_sentence(change, sentence, tmp_path):
    folder = label_noise(tmp_path)
    data = json.loads((folder / "results.json").read_text())
    data["points"][0].update(change)
    (folder / "results.json").write_text(json.dumps(data))
    with pytest.raises(RecordError) as caught:
        read_semisupervised(Context(tmp_path), "label_noise")
    assert str(caught.value) == f"{folder / 'results.json'} {sentence}"


def test_a_truncated_results_file_is_one_sentence(tmp_path):
    folder = label_noise(tmp_path)
    text = (folder / "results.json").read_text()
    (folder / "results.json").write_text(text[:40])
    with pytest.raises(RecordError, match=r"results.json: is not valid JSON \(truncated or damaged"):
        read_semisupervised(Context(tmp_path), "label_noise")


def teacher_student(root, students, quick=True):
    folder = root / "semisupervised" / "teacher-student" / ("quick" if quick else "")
    settings = {"experiment": "teacher-student", "quick": quick, "labelled": 1000}
    with RunFolder(folder, "semisupervised-teacher-student", settings, config={"train_images": 9000}) as run:
        TeacherStudentResults(points=[TeacherStudentRow.from_json(TEACHER_ROW), *students], selection=[
            SelectionRow.from_json({**SELECTION_ROW, "class_index": c}) for c in range(10)]).write(folder)
        (folder / "results.md").write_text("# Teacher/student\n")
        (folder / "accuracy_vs_k.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        run.complete(quick=quick)
    return folder


def test_a_quick_sweep_still_rising_says_where_figure_5_is_invited_that_it_cannot_show_its_shape(tmp_path):
    teacher_student(tmp_path, QUICK_RISING)
    (source,) = read_semisupervised(Context(tmp_path), "teacher_student")
    caveat = k_sweep_caveat(QUICK_RISING, quick=True, most_k=800)
    assert "all that U allows at these settings" in caveat  # |U| = 9,000 - 1,000 over 10 classes: K = 800
    assert [block for block in source.caveats if caveat in str(block)]
    (figure,) = [block for block in source.blocks if isinstance(block, Figure)]
    assert figure.caption == ("Student test accuracy against K, one colour per P. Against Yalniz et al.'s Figure 5: "
                              f"{caveat}")


def test_a_full_sweep_with_its_peak_inside_keeps_the_invitation_without_a_caveat(tmp_path):
    teacher_student(tmp_path, FULL_SHAPED, quick=False)
    (source,) = read_semisupervised(Context(tmp_path), "teacher_student")
    assert not [block for block in source.caveats if "Figure 5" in str(block)]
    (figure,) = [block for block in source.blocks if isinstance(block, Figure)]
    assert figure.caption.endswith("(compare Yalniz et al.'s Figure 5)")
