"""Record machinery: types and ranges checked on writing and reading, one sentence naming file and field."""

from dataclasses import dataclass, field

import pytest

from pyimagesearch.records.base import ACCURACY, COUNT, LR, NONNEGATIVE, Record, RecordError, each


@dataclass(frozen=True)
class Inner(Record):
    KIND = "inner"
    name: str


@dataclass(frozen=True)
class Toy(Record):
    KIND = "toy"
    FILE = "toy.json"
    test_accuracy: float = field(metadata=ACCURACY)
    val_loss: float | None = field(metadata=NONNEGATIVE)
    epochs: int = field(metadata=COUNT)
    lrs: list[float] = field(default_factory=list, metadata=each(LR))
    inner: Inner | None = None
    diverged: bool = False

    def check(self):
        if self.val_loss is None and not self.diverged:
            return "has no val_loss though the run did not diverge"
        return None


GOOD = {"test_accuracy": 0.9, "val_loss": 0.3, "epochs": 3, "lrs": [0.1, 0.01], "inner": {"name": "x"}}


def test_a_valid_record_round_trips_through_its_file(tmp_path):
    record = Toy.from_json(GOOD, "x")
    path = record.write(tmp_path)
    assert path == tmp_path / "toy.json"
    again = Toy.read(tmp_path)
    assert again == record and again.inner == Inner("x")
    assert again.to_json()["kind"] == "toy" and again.to_json()["schema"] == 1


@pytest.mark.parametrize("change, sentence", [
    ({"test_accuracy": 1.7}, "out/toy.json: test_accuracy = 1.7 is not an accuracy (it must be in [0, 1])"),
    ({"test_accuracy": None}, "out/toy.json: test_accuracy is null, where a value is required"),
    ({"epochs": -1}, "out/toy.json: epochs = -1 is not a count (an integer >= 0)"),
    ({"epochs": 2.5}, "out/toy.json: epochs = 2.5 is float, not an integer"),
    ({"lrs": [0.1, -0.5]}, "out/toy.json: lrs[1] = -0.5 is not a learning rate (it must be finite and > 0)"),
    ({"val_loss": None}, "out/toy.json: has no val_loss though the run did not diverge"),
    ({"kind": "other"}, "out/toy.json: kind = 'other' is not 'toy'"),
    ({"inner": {"name": 3}}, "out/toy.json (inner): name = 3 is int, not text"),
])
def test_a_bad_value_is_named_in_one_sentence(change, sentence):
    with pytest.raises(RecordError) as caught:
        Toy.from_json({**GOOD, **change}, "out/toy.json")
    assert str(caught.value) == sentence


def test_a_missing_field_and_a_truncated_file_are_named(tmp_path):
    with pytest.raises(RecordError, match="^out/toy.json: epochs is missing$"):
        Toy.from_json({k: v for k, v in GOOD.items() if k != "epochs"}, "out/toy.json")
    Toy.from_json(GOOD).write(tmp_path)
    text = (tmp_path / "toy.json").read_text()
    (tmp_path / "toy.json").write_text(text[: len(text) // 2])
    with pytest.raises(RecordError, match=r"toy.json: is not valid JSON \(truncated or damaged"):
        Toy.read(tmp_path)
    with pytest.raises(RecordError, match="nothing.json: does not exist"):
        Toy.read(tmp_path / "nothing.json")


def test_nan_is_refused_where_no_null_is_allowed():
    with pytest.raises(RecordError, match="test_accuracy = nan is not a finite number"):
        Toy(float("nan"), 0.3, 3)
    assert Toy(0.5, None, 3, diverged=True).val_loss is None


def test_a_record_is_validated_when_built():
    with pytest.raises(RecordError, match="^toy: test_accuracy = 2 is not an accuracy"):
        Toy(2, 0.1, 1)
