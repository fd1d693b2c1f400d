"""The selection split (held out of the training split for the choices) and the per-image correctness record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pyimagesearch.records.base import RecordError
from pyimagesearch.records.transfer import ImageCorrectness
from pyimagesearch.transfer import data as decathlon
from pyimagesearch.transfer.images import DataError
from tests.transfer.test_transfer_data import make_folder


def test_the_selection_is_a_seeded_stratified_part_of_the_training_split_streamed_in_order(tmp_path):
    root = make_folder(tmp_path / "pets", {"cat": 20, "dog": 11, "emu": 1})
    image_set = decathlon.load_folder(root, val_fraction=0.2, seed=0)
    selected = decathlon.with_selection(image_set, 0.1, seed=5)
    # validation takes min(n - 1, round(n * 0.2)): 4, 2 and 0; of the 16, 9 and 1 training images the selection takes
    # min(n - 1, max(1, round(n * 0.1))): 2, 1 and none (emu keeps its one image for training)
    assert np.bincount(selected.labels["selection"], minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(selected.labels["train"], minlength=3).tolist() == [14, 8, 1]
    assert selected.labels["validation"].tolist() == image_set.labels["validation"].tolist()
    assert sorted(selected.files["train"] + selected.files["selection"]) == sorted(image_set.files["train"])
    assert not set(selected.files["train"]) & set(selected.files["selection"])
    for split in ("train", "selection"):
        streamed = list(selected.encoded(split).as_numpy_iterator())
        assert [int(label) for _, label in streamed] == selected.labels[split].tolist()
        by_file = {path: open(path, "rb").read() for path in selected.files[split]}
        assert [data for data, _ in streamed] == [by_file[path] for path in selected.files[split]]
    again = decathlon.with_selection(image_set, 0.1, seed=5)
    assert again.files["selection"] == selected.files["selection"]
    assert decathlon.with_selection(image_set, 0.1, seed=6).files["selection"] != selected.files["selection"]
    assert selected.selection_split == "selection: a seeded 0.1 of each class of the training split"


def test_a_set_where_no_class_can_give_a_selection_image_is_refused_but_described(tmp_path):
    root = make_folder(tmp_path / "tiny", {"a": 2, "b": 2})  # one training image per class after validation
    image_set = decathlon.load_folder(root, val_fraction=0.5, seed=0)
    with pytest.raises(DataError, match="has the 2 training images it needs to hold one out for the choices"):
        decathlon.with_selection(image_set, 0.1)
    assert decathlon.with_selection(image_set, 0.1, required=False) is image_set


def test_the_correctness_record_round_trips_and_names_a_bad_file(tmp_path):
    record = ImageCorrectness.of([True, False, True], np.array([0, 1], bool))
    assert (record.selection, record.validation) == ("101", "01")
    assert ImageCorrectness.read(record.write(tmp_path)) == record
    assert record.correct("selection").tolist() == [True, False, True]
    path = tmp_path / ImageCorrectness.FILE
    path.write_text(json.dumps({**record.to_json(), "validation": "012"}))
    with pytest.raises(RecordError, match=r"correctness.json: validation = '012' is not a string of 0s and 1s"):
        ImageCorrectness.read(path)
    path.write_text(json.dumps(record.to_json())[:20])
    with pytest.raises(RecordError, match="is not valid JSON"):
        ImageCorrectness.read(path)
