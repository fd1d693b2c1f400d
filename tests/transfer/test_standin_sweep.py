"""``transfer.py --dataset digits --weights fashion-mnist --mode both`` end to end, at test sizes (slow).

The pretraining is patched down to 300 Fashion-MNIST images and 2 epochs, the
digits' training split to a stratified 300 of its 1,437 images (selection and
validation stay whole, 180 each); the task's seven runs then train 2 epochs
each, fine-tuning with its BatchNorm statistics re-estimated before every
evaluation. Checked: seven runs, the description of the stand-in, the note
first in every output, feature extraction above chance on the validation
images (fine-tuning does not get there in these few steps), the winner as the
verdict on the selection images, the report's 3.1 and 3.2 computed on the
stand-in.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from pyimagesearch.transfer.pretrain import STANDIN_NOTE, PretrainSettings

TINY = PretrainSettings(train_images=300, val_images=100, test_images=100, epochs=2, lr=0.001, milestones=(1,),
                        batch_size=32, seed=3)
TRAIN_IMAGES = 300


def small_digits(seed: int = 42):
    """The digits' image set with a stratified 300 of its training images (selection and validation whole)."""
    from pyimagesearch.transfer import digits

    from sklearn.datasets import load_digits

    data = load_digits()
    images, labels = digits.to_pixels(data.images), data.target.astype(np.int32)
    parts = digits.split_digits(labels, seed)
    kept = digits.stratified_parts(labels[parts["train"]], {"unused": len(parts["train"]) - TRAIN_IMAGES}, 0)["train"]
    parts["train"] = parts["train"][kept]
    return digits.image_set_of(digits.NAME, digits.ORIGIN, digits.CLASS_NAMES,
                               {split: images[parts[split]] for split in digits.SPLITS},
                               {split: labels[parts[split]] for split in digits.SPLITS}, digits.SELECTION_SPLIT)


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    import transfer
    from pyimagesearch.transfer import digits, pretrain

    root = tmp_path_factory.mktemp("standin-sweep")
    patch = pytest.MonkeyPatch()
    patch.setattr(pretrain, "QUICK_SETTINGS", TINY)
    patch.setattr(digits, "load_digits", small_digits)
    try:
        argv = ["--dataset", "digits", "--weights", "fashion-mnist", "--mode", "both", "--quick", "--epochs", "2",
                "--milestones", "1", "--batch", "32", "--output", str(root / "transfer")]
        assert transfer.main(argv) == 0
    finally:
        patch.undo()
    return root


@pytest.mark.slow
def test_the_seven_runs_the_description_and_the_note_first_in_every_output(standin):
    from pyimagesearch.core.run import completion
    from pyimagesearch.records.transfer import DatasetDescription, TransferRun

    folder = standin / "transfer" / "digits"
    runs = sorted(path.parent.name for path in folder.glob("*/metrics.json"))
    assert runs == ["feature_lr0.001", "feature_lr0.01", "feature_lr0.1", "feature_lr1",
                    "finetune_lr0.001", "finetune_lr0.01", "finetune_lr0.1"]
    description = DatasetDescription.read(folder)
    assert (description.source, description.note, description.num_classes) == ("standin", STANDIN_NOTE, 10)
    assert [getattr(description.splits, s).images for s in ("train", "selection", "validation")] == [300, 180, 180]
    assert (folder / "samples.png").is_file() and len(set(description.samples)) == 2
    assert (folder / "transfer.log").read_text().splitlines()[0] == STANDIN_NOTE
    summary = (folder / "summary.md").read_text().splitlines()
    assert summary[2] == STANDIN_NOTE and summary[4].startswith("Base: ResNet50 pretrained on Fashion-MNIST (300 ")
    assert summary[6].startswith("Data: digits, scikit-learn digits (sklearn.datasets.load_digits), an offline stand-in")
    done = completion(folder)
    assert done["quick"] and "the stand-in base's quick pretraining on Fashion-MNIST" in done["summary"]["quick_because"]
    base = TransferRun.read(folder / "finetune_lr0.01").settings["weights"]
    assert base.startswith(str(standin / "transfer" / "pretrain" / "fashion-mnist-")) and base.endswith("base.weights.h5")
    assert json.loads((folder / "finetune_lr0.01" / "config.json").read_text())["resolved"]["bn_images"] == 1024


@pytest.mark.slow
def test_feature_extraction_beats_chance_and_the_winner_is_the_verdict_on_the_selection_images(standin):
    from pyimagesearch.records.transfer import ImageCorrectness
    from pyimagesearch.transfer.summary import best_runs, load_correctness, load_finished_runs
    from pyimagesearch.verdicts import winner

    folder = standin / "transfer" / "digits"
    runs = load_finished_runs(folder)
    correctness = load_correctness(folder, runs)
    best = best_runs(runs, correctness)  # chosen on the selection images
    feature = best["feature"]
    right = round(feature.final_val_accuracy * feature.val_images)
    assert binomtest(right, feature.val_images, 0.1, alternative="greater").pvalue < 0.05, feature
    # At these sizes (about 20 SGD steps from a base pretrained on 300 images) fine-tuning does not beat chance, even
    # with its BatchNorm statistics re-estimated (at quick settings it does: docs/problem3.md); what is checked is that
    # each of its runs is a finished record, scored image by image unless it diverged.
    for run in (m for m in runs if m.mode == "finetune"):
        assert run.epochs <= 2 and run.selection_images == 180
        assert (f"finetune_lr{run.lr:g}" in correctness) == (run.diverged is None)
        if run.diverged is None:
            scored = ImageCorrectness.read(folder / f"finetune_lr{run.lr:g}")
            assert scored.correct("selection").mean() == run.selection_accuracy
    verdict = winner([(f"{m.mode} at lr {m.lr:g}", None if m.diverged else correctness[f"{m.mode}_lr{m.lr:g}"].correct(
        "selection"), m.diverged) for m in runs], chance=0.1)
    assert verdict.sentence() in (folder / "summary.md").read_text()


@pytest.mark.slow
def test_the_report_answers_3_1_and_3_2_computed_on_the_stand_in(standin):
    from pyimagesearch.report.readers.common import Context
    from pyimagesearch.report.readers.transfer import read_transfer

    for mode in ("finetune", "feature"):
        (source,) = read_transfer(Context(standin), mode)
        assert source.title == "ResNet50 on digits (computed on the offline stand-in)"
        first = source.blocks[0]
        assert first.kind == "caveat" and STANDIN_NOTE in "".join(span.text for span in first.text)
        assert STANDIN_NOTE in "".join(span.text for span in source.caveats[0])
        assert source.status == "quick"
