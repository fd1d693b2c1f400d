"""The NMS walk-through: IoUs by hand, the kept and suppressed boxes, and the Markdown a student reads."""

import numpy as np
import pytest

from pyimagesearch.detection.worked_example import BOXES, SCORES, nms_example_markdown, walk_through
from pyimagesearch.detection.boxes import iou_matrix


def test_ious_by_hand():
    ious = iou_matrix(BOXES, BOXES)
    assert ious[0, 1] == pytest.approx(9025 / 10975)   # A, B: 95 x 95 overlap
    assert ious[0, 2] == pytest.approx(7000 / 13000)   # A, C: 70 x 100
    assert ious[3, 4] == pytest.approx(7125 / 8475)    # D, E: 75 x 95, areas 8,000 and 7,600
    assert ious[0, 5] == pytest.approx(8100 / 11900)   # A, F: 90 x 90
    assert ious[1, 5] == pytest.approx(9025 / 10975)   # B, F
    assert np.allclose(np.diag(ious), 1)


def test_steps_at_the_paper_threshold():
    steps = walk_through(BOXES, SCORES, 0.7)
    assert [step["kept"] for step in steps] == [0, 2, 3, 5]            # A, C, D, F
    assert [step["suppressed"] for step in steps] == [[1], [], [4], []]  # B by A, E by D


def test_markdown_tells_the_story():
    text = nms_example_markdown(0.7)
    assert "IoU = 9,025 / 10,975 = 0.822" in text
    assert "IoU(A, B) = 0.822 > 0.7, **suppress B**" in text
    assert "Kept: A, C, D, F (4 of 6 boxes, best first). Suppressed: B (by A), E (by D)." in text
    assert "F overlaps B with IoU 0.822 > 0.7, yet it is kept" in text
    strict = nms_example_markdown(0.5)
    assert "Kept: A, D (2 of 6 boxes, best first). Suppressed: B (by A), C (by A), F (by A), E (by D)." in strict
    assert "(Faster R-CNN uses 0.7)" in strict
