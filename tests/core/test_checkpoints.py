"""A checkpoint is one unit: written whole or not at all, checked on loading, damaged ones passed over."""

from __future__ import annotations

import errno
import json

import keras
import numpy as np
import pytest

from pyimagesearch.core.checkpoints import RunCheckpoint, save_model
from pyimagesearch.core.checkpoints import ResumeError
from pyimagesearch.core.outputs import OutputError

KEY = {"lr": 0.1, "seed": 1}


def trained_model(steps: int):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(4 * steps, 3)).astype(np.float32)
    model.fit(x, (x[:, 0] > 0).astype(np.int32), batch_size=4, epochs=1, verbose=0)
    return model


def save(checkpoint, model, epoch):
    return checkpoint.save(model, {"epochs_done": epoch, "history": [{"epoch": e} for e in range(1, epoch + 1)]})


@pytest.fixture
def three_epochs(tmp_path):
    checkpoint = RunCheckpoint(tmp_path, KEY)
    models = {epoch: trained_model(epoch) for epoch in (1, 2, 3)}
    for epoch, model in models.items():
        save(checkpoint, model, epoch)
    return checkpoint, models


def test_save_keeps_the_newest_two_whole_folders_and_restore_gives_the_saved_model(three_epochs):
    checkpoint, models = three_epochs
    assert checkpoint.epochs() == [3, 2]
    assert sorted(p.name for p in checkpoint.folder.iterdir()) == ["epoch-0002", "epoch-0003"]
    assert checkpoint.find() == 3
    state, model = checkpoint.restore(keras.models.load_model, 3)
    assert state["epochs_done"] == 3 and state["iterations"] == 3 and state["key"] == KEY
    for loaded, saved in zip(model.get_weights(), models[3].get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, saved)
    for loaded, saved in zip(model.optimizer.variables, models[3].optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(saved))  # momentum and iterations too


def test_a_truncated_newest_checkpoint_falls_back_to_the_previous_with_a_note(three_epochs):
    checkpoint, _ = three_epochs
    newest = checkpoint.path(3) / "model.keras"
    newest.write_bytes(newest.read_bytes()[:1000])
    notes = []
    assert checkpoint.find(notes.append) == 2
    assert notes == [f"note: the checkpoint of epoch 3 is unusable: {newest} is damaged (its contents do not match "
                     "state.json); using an earlier one"]
    state, _ = checkpoint.restore(keras.models.load_model, 2)
    assert state["epochs_done"] == 2 and checkpoint.epochs() == [2]  # training goes on from epoch 2


def test_no_usable_checkpoint_is_one_sentence_naming_the_file(three_epochs):
    checkpoint, _ = three_epochs
    (checkpoint.path(3) / "model.keras").write_bytes(b"PK\x03\x04")
    state = json.loads((checkpoint.path(2) / "state.json").read_text())
    del state["history"]
    (checkpoint.path(2) / "state.json").write_text(json.dumps(state))
    with pytest.raises(ResumeError) as error:
        checkpoint.find(lambda note: None)
    assert str(error.value) == (f"no usable checkpoint to resume from: {checkpoint.path(3) / 'model.keras'} is damaged "
                                "(its contents do not match state.json); pass --no-resume to start over")
    assert checkpoint.find(lambda note: None, strict=False) == 0  # a worker starts over with the others


def test_a_state_without_its_entries_is_named(three_epochs):
    checkpoint, _ = three_epochs
    for epoch in (2, 3):
        (checkpoint.path(epoch) / "state.json").write_text(json.dumps({"epochs_done": epoch}))
    with pytest.raises(ResumeError, match=r"epoch-0003/state.json lacks history, key, iterations, model_sha256; "
                                        r"pass --no-resume"):
        checkpoint.find(lambda note: None)


def test_the_optimizer_steps_must_match_the_state(three_epochs):
    checkpoint, _ = three_epochs
    path = checkpoint.path(3) / "state.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "iterations": 7}))
    with pytest.raises(ResumeError, match=r"model.keras has taken 3 optimizer steps but state.json records 7; "
                                        r"pass --no-resume to start over"):
        checkpoint.restore(keras.models.load_model, 3)


def test_a_worker_without_the_agreed_epoch_says_so(three_epochs):
    checkpoint, _ = three_epochs
    with pytest.raises(ResumeError, match="has no checkpoint of epoch 1, where the other workers resume; start every "
                                        "worker again with --no-resume"):
        checkpoint.restore(keras.models.load_model, 1)


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_saving_leaves_no_partial_folder_and_keeps_the_earlier_checkpoints(three_epochs,
                                                                                              monkeypatch):
    checkpoint, models = three_epochs
    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(OutputError) as error:
        save(checkpoint, models[3], 4)
    assert str(error.value) == (f"cannot write epoch-0004 in {checkpoint.folder}: No space left on device; free "
                                f"some space in {checkpoint.folder} or choose another --output")
    assert sorted(p.name for p in checkpoint.folder.iterdir()) == ["epoch-0002", "epoch-0003"]
    assert checkpoint.find() == 3


def test_save_model_on_a_full_disk_leaves_neither_a_partial_file_nor_a_changed_model(tmp_path, monkeypatch):
    model = trained_model(1)
    save_model(model, tmp_path / "model.keras")
    before = (tmp_path / "model.keras").read_bytes()

    def half_written(self, path, *args, **kwargs):
        open(path, "wb").write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", half_written)
    with pytest.raises(OutputError, match=f"cannot write model.keras in {tmp_path}: No space left on device"):
        save_model(model, tmp_path / "model.keras")
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert (tmp_path / "model.keras").read_bytes() == before


def test_checkpoint_of_other_settings_names_them(three_epochs, tmp_path):
    with pytest.raises(ResumeError, match=r"unfinished run with other settings \(lr\); pass --overwrite to start over"):
        RunCheckpoint(tmp_path, {**KEY, "lr": 0.2}, restart_flag="--overwrite").find()
