"""Counts agree with their nouns, and accuracy differences are named and given in points."""

import numpy as np
import pytest

from pyimagesearch.core.wording import generalization_gap, nouns, per_class, plural, points


@pytest.mark.parametrize("count, words", [
    (0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs"), (1_000, "1,000 epochs"), (np.int64(12_345), "12,345 epochs"),
    (1.0, "1 epoch"), (1.5, "1.5 epochs"),
])
def test_plural_agrees_with_the_count(count, words):
    assert plural(count, "epoch") == words


def test_irregular_plurals_and_the_noun_alone():
    assert [plural(n, "batch", "batches") for n in (1, 3)] == ["1 batch", "3 batches"]
    assert [nouns(n, "seed") for n in (1, 2)] == ["seed", "seeds"]
    assert plural(1, "box", "boxes") == "1 box" and plural(2_000, "box", "boxes") == "2,000 boxes"


def test_images_per_class_say_one_number_when_every_class_has_it():
    assert per_class(16, 16, 16) == "16 per class"
    assert per_class(12, 16.5, 2_000) == "12 to 2,000 per class, median 16.5"


def test_the_generalization_gap_is_named_and_in_percentage_points():
    assert generalization_gap(0.0276) == "generalization gap (train - test accuracy) +2.8 points"
    assert generalization_gap(0.9012 - 0.9110) == "generalization gap (train - test accuracy) -1.0 points"
    assert points(0.0153, digits=2) == "+1.53 points"
    assert points(0.01, digits=0) == "+1 point" and points(-0.01, digits=0) == "-1 point"
    assert points(0.0) == "+0.0 points"
