"""The three commands end to end on real Fashion-MNIST subsets: every file, numbers checked against the saved runs, resume."""

import json
import math

import matplotlib.image
import numpy as np
import pytest

from pyimagesearch.core.cli import run
from pyimagesearch.core.history import read_history
from pyimagesearch.core.outputs import read_csv
from pyimagesearch.lenet.data import DEBIAN_DIR, load_splits
from pyimagesearch.semisupervised import label_noise, resampling_run, runs, teacher_student, teacher_student_runs
from pyimagesearch.semisupervised.conclusions import SPLIT_DISCIPLINE, choose_on_validation
from pyimagesearch.semisupervised.command import main
from pyimagesearch.semisupervised.noise import replace_labels
from pyimagesearch.semisupervised.resampling import class_draws, long_tail_counts
from pyimagesearch.semisupervised.selection import labelled_split, select_top_k, selection_summary

pytestmark = pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="needs the Debian package dataset-fashion-mnist")

# One fine-tuning factor, set: the layout of a run without the factor's choice (the default chooses: below).
TEACHER_STUDENT = ["teacher-student", "--quick", "--limit", "1500", "--labelled", "200", "--k", "30,100", "--p", "1,2",
                   "--finetune-lr-factors", "0.1"]
LABEL_NOISE = ["label-noise", "--quick", "--limit", "1000", "--noise", "0,30"]
RESAMPLING = ["resampling", "--quick", "--limit", "1000", "--imbalance", "10"]


def command(folder, argv):
    return run(main, [*argv, "--quiet", "--output", str(folder)])


def check_png(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05


def check_run(folder, epochs, steps_per_epoch, lr):
    """A run folder: its history has ``epochs`` rows of ``steps_per_epoch`` steps at ``lr``; its predictions score its metric."""
    history = read_history(folder / "history.csv")
    assert [row["epoch"] for row in history] == list(range(1, epochs + 1))
    assert [row["steps"] for row in history] == [steps_per_epoch] * epochs
    assert [row["iterations"] for row in history] == [steps_per_epoch * (e + 1) for e in range(epochs)]
    assert all(row["lr"] == pytest.approx(lr) for row in history)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs"] == epochs and metrics["optimizer_steps"] == steps_per_epoch * epochs
    return metrics, np.load(folder / "test_predictions.npy")


def outputs(folder):
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file() and path.name != "log.txt"}


def rerun_trains_nothing(folder, argv, monkeypatch):
    before = outputs(folder)
    monkeypatch.setattr(runs.ModelRun, "train", lambda *a, **k: pytest.fail("a finished point was trained again"))
    assert command(folder, argv) == 0
    assert outputs(folder) == before
    return (folder / "log.txt").read_text()


@pytest.fixture(scope="module")
def data_1500():
    return load_splits(DEBIAN_DIR, limit=1500)


@pytest.fixture(scope="module")
def teacher_student_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("teacher-student")
    assert command(folder, TEACHER_STUDENT) == 0
    return folder


def test_teacher_student_writes_every_file(teacher_student_run):
    folder = teacher_student_run
    for name in ("config.json", "log.txt", "results.json", "results.csv", "results.md", "selection.csv",
                 "teacher_scores.npy", "accuracy_vs_k.png", "precision_vs_k.png"):
        assert (folder / name).is_file(), name
    check_png(folder / "accuracy_vs_k.png")
    check_png(folder / "precision_vs_k.png")
    config = json.loads((folder / "config.json").read_text())
    assert config["points"] == {"k": [30, 100], "p": [1, 2]} and config["train_images"] == 1350
    rows = read_csv(folder / "results.csv")
    assert [row["model"] for row in rows] == ["teacher", "ceiling"] + ["student"] * 4
    assert [(row["k"], row["p"]) for row in rows[2:]] == [("30", "1"), ("30", "2"), ("100", "1"), ("100", "2")]
    text = (folder / "results.md").read_text()
    assert "| 100 | 2 |" in text
    assert SPLIT_DISCIPLINE in text and "**Best student** (chosen on validation accuracy, 150 validation images): " in text
    assert "**Fine-tuning LR factor**: 0.1 x --lr for every student, set before the run and not chosen on any split" in text
    assert "**Figure 5**: Quick settings (--quick): the sweep stops at K = 100" in text
    assert text.count(", exact McNemar on 1,500 paired images)") == 1 + 4  # the ceiling and 4 students against the teacher
    summary = json.loads((folder / "complete.json").read_text())["summary"]
    assert summary["best_student_chosen_on"] == "validation"


def test_teacher_student_numbers_match_the_runs(teacher_student_run, data_1500):
    folder, budget = teacher_student_run, teacher_student.QUICK
    labelled, unlabelled = labelled_split(data_1500.y_train, 200, 10, seed=42)
    assert len(unlabelled) == 1150
    scores = np.load(folder / "teacher_scores.npy")
    assert scores.shape == (1150, 10) and np.allclose(scores.sum(axis=1), 1, atol=1e-5)
    teacher, predictions = check_run(folder / "runs" / "teacher", budget["teacher_epochs"], math.ceil(200 / 64), 0.02)
    assert teacher["train_images"] == 200
    assert np.mean(predictions == data_1500.y_test) == pytest.approx(teacher["test_accuracy"], abs=1e-6)
    ceiling, _ = check_run(folder / "runs" / "ceiling", budget["ceiling_epochs"], math.ceil(1350 / 64), 0.02)
    rows = {(row["model"], row["k"], row["p"]): row for row in read_csv(folder / "results.csv")}
    assert float(rows[("ceiling", "", "")]["test_accuracy"]) == pytest.approx(ceiling["test_accuracy"])
    teacher_correct = predictions == data_1500.y_test
    for k in (30, 100):
        for p in (1, 2):
            row = rows[("student", str(k), str(p))]
            expected = selection_summary(select_top_k(scores, k, p), data_1500.y_train[unlabelled], k)
            for key in ("pairs", "images", "multi_class_images", "correct"):
                assert int(row[key]) == expected[key], (k, p, key)
            assert float(row["precision"]) == pytest.approx(expected["precision"])
            run_dir = folder / "runs" / f"student_k{k}_p{p}"
            # pre-training: every epoch |U| = 1,150 pairs; fine-tuning on L at a tenth of the LR
            pretrained, _ = check_run(run_dir / "pretrain", budget["pretrain_epochs"], math.ceil(1150 / 64), 0.02)
            finetuned, student = check_run(run_dir / "finetune", budget["finetune_epochs"], math.ceil(200 / 64), 0.002)
            assert float(row["pretrained_test_accuracy"]) == pytest.approx(pretrained["test_accuracy"])
            assert float(row["test_accuracy"]) == pytest.approx(finetuned["test_accuracy"])
            assert float(row["gain_vs_teacher"]) == pytest.approx(finetuned["test_accuracy"] - teacher["test_accuracy"])
            correct = student == data_1500.y_test
            assert int(row["mcnemar_b"]) == np.sum(correct & ~teacher_correct)
            assert int(row["mcnemar_c"]) == np.sum(~correct & teacher_correct)
    # The best student is the one of the highest validation accuracy, read from the saved validation predictions.
    val = {(k, p): np.load(folder / "runs" / f"student_k{k}_p{p}" / "finetune" / "val_predictions.npy") == data_1500.y_val
           for k in (30, 100) for p in (1, 2)}
    for (k, p), correct in val.items():
        assert float(rows[("student", str(k), str(p))]["val_accuracy"]) == pytest.approx(correct.mean(), abs=1e-6)
    best = max(val, key=lambda key: val[key].mean())
    summary = json.loads((folder / "complete.json").read_text())["summary"]
    assert summary["best_student"] == f"student_k{best[0]}_p{best[1]}"
    assert summary["best_student_val_accuracy"] == pytest.approx(val[best].mean())
    assert summary["best_student_accuracy"] == pytest.approx(float(rows[("student", *map(str, best))]["test_accuracy"]))
    selection = read_csv(folder / "selection.csv")
    assert len(selection) == 4 * 10
    assert sum(int(r["selected"]) for r in selection if r["k"] == "100" and r["p"] == "2") == int(rows[("student", "100", "2")]["pairs"])


def test_teacher_student_resumes_without_training(teacher_student_run, monkeypatch):
    log = rerun_trains_nothing(teacher_student_run, TEACHER_STUDENT, monkeypatch)
    assert log.count("finished earlier, kept") == 6


def test_other_settings_are_refused_with_one_sentence(teacher_student_run, capsys):
    before = outputs(teacher_student_run)
    assert command(teacher_student_run, [*TEACHER_STUDENT, "--lr", "0.01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "holds results of other settings (lr 0.02 then, 0.01 now); pass --overwrite" in err
    assert outputs(teacher_student_run) == before


def test_the_default_fine_tuning_factors_are_chosen_per_student_on_validation_never_on_test(tmp_path, monkeypatch):
    argv = ["teacher-student", "--quick", "--limit", "500", "--labelled", "100", "--k", "20", "--p", "1"]  # 0.1 and 1
    data = load_splits(DEBIAN_DIR, limit=500)
    given = []

    def spy(candidates, images, chance=None):
        given.append(([score for _, score in candidates], images))
        return choose_on_validation(candidates, images, chance)

    monkeypatch.setattr(teacher_student_runs, "choose_on_validation", spy)
    monkeypatch.setattr(teacher_student, "choose_on_validation", spy)
    assert command(tmp_path, argv) == 0
    student = tmp_path / "runs" / "student_k20_p1"
    val = {factor: np.load(student / f"finetune_x{factor:g}" / "val_predictions.npy") == data.y_val for factor in (0.1, 1)}
    (factor_scores, factor_images), (student_scores, student_images) = given  # the factor, then the best student
    assert factor_images == student_images == len(data.y_val) == 50 and len(data.y_test) == 500
    assert [score.tolist() for score in factor_scores] == [val[0.1].tolist(), val[1].tolist()]
    assert [len(score) for score in student_scores] == [50]
    chosen = max((0.1, 1), key=lambda factor: val[factor].mean())  # the first of equals, as the choice keeps it
    row = json.loads((student / "pretrain" / "row.json").read_text())
    metrics = json.loads((student / f"finetune_x{chosen:g}" / "metrics.json").read_text())
    assert row["finetune_lr_factor"] == chosen and row["test_accuracy"] == metrics["test_accuracy"]
    assert row["finetune_choice"].startswith(f"fine-tuning LR factor (chosen on validation accuracy, 50 validation "
                                             f"images): factor {chosen:g} with ")
    check_run(student / "finetune_x1", teacher_student.QUICK["finetune_epochs"], math.ceil(100 / 64), 0.02)
    check_run(student / "finetune_x0.1", teacher_student.QUICK["finetune_epochs"], math.ceil(100 / 64), 0.002)
    assert f"- student K 20, P 1: {row['finetune_choice']}" in (tmp_path / "results.md").read_text()
    log = rerun_trains_nothing(tmp_path, argv, monkeypatch)
    assert log.count("finished earlier, kept") == 3


def test_label_noise_end_to_end_and_resume(tmp_path, monkeypatch):
    assert command(tmp_path, LABEL_NOISE) == 0
    for name in ("config.json", "log.txt", "results.json", "results.csv", "results.md", "accuracy_vs_noise.png"):
        assert (tmp_path / name).is_file(), name
    check_png(tmp_path / "accuracy_vs_noise.png")
    data = load_splits(DEBIAN_DIR, limit=1000)
    rows = read_csv(tmp_path / "results.csv")
    assert [float(row["noise_percent"]) for row in rows] == [0, 30]
    assert [int(row["changed"]) for row in rows] == [0, 270]  # round(0.3 x 900)
    noisy, changed = replace_labels(data.y_train, 30, 10, seed=42)
    for row, name in zip(rows, ("noise_0", "noise_30")):
        metrics, predictions = check_run(tmp_path / "runs" / name, label_noise.QUICK["epochs"], math.ceil(900 / 64), 0.02)
        assert float(row["test_accuracy"]) == pytest.approx(metrics["test_accuracy"])
        assert np.mean(predictions == data.y_test) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert float(rows[1]["drop_vs_clean"]) == pytest.approx(float(rows[1]["test_accuracy"]) - float(rows[0]["test_accuracy"]))
    assert len(changed) == 270 and np.all(noisy[changed] != data.y_train[changed])
    log = rerun_trains_nothing(tmp_path, LABEL_NOISE, monkeypatch)
    assert log.count("finished earlier, kept") == 2


def test_resampling_end_to_end_and_resume(tmp_path, monkeypatch):
    assert command(tmp_path, RESAMPLING) == 0
    for name in ("config.json", "log.txt", "results.json", "results.csv", "results.md", "per_class.csv",
                 "per_class_accuracy.png"):
        assert (tmp_path / name).is_file(), name
    check_png(tmp_path / "per_class_accuracy.png")
    data = load_splits(DEBIAN_DIR, limit=1000)
    counts = long_tail_counts(int(np.bincount(data.y_train).min()), 10, 10)
    per_class = read_csv(tmp_path / "per_class.csv")
    assert [int(row["images"]) for row in per_class] == counts.tolist()
    total = int(counts.sum())
    rows = read_csv(tmp_path / "results.csv")
    assert [row["sampling"] for row in rows] == ["natural", "sqrt", "uniform"]
    for row in rows:
        draws = [int(r[f"{row['sampling']}_draws"]) for r in per_class]
        assert draws == class_draws(counts, row["sampling"], total).tolist() and sum(draws) == total
        run_dir = tmp_path / "runs" / row["sampling"]
        # one model through every epoch: steps and iterations count on, so the optimizer state was carried
        metrics, predictions = check_run(run_dir, resampling_run.QUICK["epochs"], math.ceil(total / 64), 0.02)
        assert not (run_dir / "checkpoint").exists()
        for c in range(10):
            assert float(row[f"accuracy_{c}"]) == pytest.approx(np.mean(predictions[data.y_test == c] == c))
        assert float(row["test_accuracy"]) == pytest.approx(np.mean(predictions == data.y_test), abs=1e-6)
        assert int(row["train_images"]) == total
    log = rerun_trains_nothing(tmp_path, RESAMPLING, monkeypatch)
    assert log.count("finished earlier, kept") == 3
