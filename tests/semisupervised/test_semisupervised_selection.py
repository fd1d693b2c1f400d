"""Yalniz et al.'s top-K per class with P, on small score matrices whose answers are worked out by hand."""

import numpy as np
import pytest

from pyimagesearch.semisupervised.selection import (balanced_quota, labelled_split, per_class_precision, select_top_k,
                                                    selection_summary, top_classes)

# Five images, three classes. Best classes per image (ties to the lower class):
#   0: [0, 1, 2]   1: [1, 0, 2]   2: [2, 1, 0]   3: [0, 2, 1]   4: [1, 2, 0]
SCORES = np.array([
    [0.6, 0.3, 0.1],
    [0.2, 0.7, 0.1],
    [0.1, 0.3, 0.6],
    [0.5, 0.1, 0.4],
    [0.1, 0.5, 0.4],
])
TRUE = np.array([0, 1, 1, 2, 1])


def pairs(selection):
    return list(zip(selection.labels.tolist(), selection.images.tolist()))


def reference_select(scores, k, p):
    """The rule written out with Python sorts: candidates of c have c among their p best; best k by score, then index."""
    chosen = []
    for c in range(scores.shape[1]):
        candidates = [i for i in range(len(scores))
                      if c in sorted(range(scores.shape[1]), key=lambda j: (-scores[i, j], j))[:p]]
        chosen += [(c, i) for i in sorted(candidates, key=lambda i: (-scores[i, c], i))[:k]]
    return chosen


def test_top_classes_best_first_ties_to_the_lower_class():
    scores = np.array([[0.2, 0.4, 0.4], [0.5, 0.5, 0.0]])
    assert top_classes(scores, 2).tolist() == [[1, 2], [0, 1]]
    assert top_classes(scores, 1).tolist() == [[1], [0]]


def test_p1_each_image_only_in_its_best_class():
    selection = select_top_k(SCORES, k=1, p=1)
    # class 0: candidates 0 (0.6), 3 (0.5); class 1: 1 (0.7), 4 (0.5); class 2: 2 (0.6)
    assert pairs(selection) == [(0, 0), (1, 1), (2, 2)]
    assert selection.candidates.tolist() == [2, 2, 1]
    selection = select_top_k(SCORES, k=2, p=1)
    assert pairs(selection) == [(0, 0), (0, 3), (1, 1), (1, 4), (2, 2)]


def test_p2_an_image_can_enter_several_classes():
    selection = select_top_k(SCORES, k=2, p=2)
    # class 0 candidates (0 among top 2): 0 (0.6), 1 (0.2), 3 (0.5) -> 0, 3
    # class 1 candidates: 0 (0.3), 1 (0.7), 2 (0.3), 4 (0.5) -> 1, 4
    # class 2 candidates: 2 (0.6), 3 (0.4), 4 (0.4) -> 2, then 3 before 4 (tie, lower index)
    assert pairs(selection) == [(0, 0), (0, 3), (1, 1), (1, 4), (2, 2), (2, 3)]
    summary = selection_summary(selection, TRUE, k=2)
    assert summary["pairs"] == 6 and summary["images"] == 5
    assert summary["multi_class_images"] == 1  # image 3 sits in classes 0 and 2
    # correct pairs: (0,0) yes, (0,3) no, (1,1) yes, (1,4) yes, (2,2) no, (2,3) yes
    assert summary["correct"] == 4 and summary["precision"] == pytest.approx(4 / 6)
    assert summary["short_classes"] == 0


def test_ties_between_images_go_to_the_lower_index():
    scores = np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 0.1], [0.5, 0.5]])
    assert pairs(select_top_k(scores, k=2, p=2)) == [(0, 2), (0, 0), (1, 0), (1, 1)]
    # with p = 1 the tied images count only for class 0 (ties to the lower class)
    assert pairs(select_top_k(scores, k=3, p=1)) == [(0, 2), (0, 0), (0, 1)]


def test_k_larger_than_a_class_keeps_all_its_candidates():
    selection = select_top_k(SCORES, k=10, p=1)
    assert selection.per_class().tolist() == [2, 2, 1]
    assert selection_summary(selection, TRUE, k=10)["short_classes"] == 3
    # with p = C every image is a candidate of every class: each class keeps all five
    selection = select_top_k(SCORES, k=10, p=3)
    assert selection.per_class().tolist() == [5, 5, 5]
    assert selection_summary(selection, TRUE, k=10)["multi_class_images"] == 5


def test_matches_the_rule_written_out_on_random_scores_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(30):
        scores = rng.integers(0, 4, size=(rng.integers(1, 25), rng.integers(2, 6))) / 4.0  # many ties
        for p in range(1, scores.shape[1] + 1):
            for k in (1, 2, 5, 30):
                assert pairs(select_top_k(scores, k, p)) == reference_select(scores, k, p)


def test_per_class_precision_rows():
    rows = per_class_precision(select_top_k(SCORES, k=2, p=2), TRUE)
    assert [(r["selected"], r["correct"]) for r in rows] == [(2, 1), (2, 2), (2, 1)]
    assert [r["candidates"] for r in rows] == [3, 4, 3]
    assert [r["precision"] for r in rows] == [0.5, 1.0, 0.5]


@pytest.mark.parametrize("k, p", [(0, 1), (-3, 1), (1, 0), (1, 4)])
def test_k_and_p_out_of_range_are_refused(k, p):
    with pytest.raises(ValueError, match="Argument `[kp]` must be"):
        select_top_k(SCORES, k, p)


def test_balanced_quota_and_labelled_split():
    assert balanced_quota(23, 5).tolist() == [5, 5, 5, 4, 4]
    labels = np.repeat(np.arange(4), [10, 8, 6, 9])
    labelled, unlabelled = labelled_split(labels, 10, 4, seed=3)
    assert np.bincount(labels[labelled], minlength=4).tolist() == [3, 3, 2, 2]
    assert len(np.intersect1d(labelled, unlabelled)) == 0
    assert sorted(np.concatenate([labelled, unlabelled]).tolist()) == list(range(len(labels)))
    again, _ = labelled_split(labels, 10, 4, seed=3)
    other, _ = labelled_split(labels, 10, 4, seed=4)
    assert again.tolist() == labelled.tolist() and other.tolist() != labelled.tolist()
    with pytest.raises(ValueError, match="class 2 has 6 images, fewer than its quota of 7"):
        labelled_split(labels, 28, 4, seed=0)
