"""Multi-step and batch-growth policies against values written out by hand."""

import pytest

from pyimagesearch.lr_policies import batch_growth, batch_sizes, default_milestones, multistep_lr


def test_default_milestones():
    assert default_milestones(60) == [15, 30, 45]
    assert default_milestones(10) == [3, 5, 8]  # 2.5, 5, 7.5 rounded half up, not half to even (2, 5, 8)
    assert default_milestones(6) == [2, 3, 5]
    assert default_milestones(8) == [2, 4, 6]
    assert default_milestones(4) == [1, 2, 3]
    assert default_milestones(3) == [1, 2]
    assert default_milestones(2) == [1]
    assert default_milestones(1) == []


def test_multistep_drops_when_the_milestone_epoch_begins():
    lrs = [multistep_lr(epoch, 1e-3, [15, 30, 45]) for epoch in range(60)]
    assert lrs[:15] == [1e-3] * 15
    assert lrs[15] == pytest.approx(1e-4) and lrs[29] == pytest.approx(1e-4)
    assert lrs[30] == pytest.approx(1e-5) and lrs[45] == pytest.approx(1e-6) and lrs[59] == pytest.approx(1e-6)


def test_batch_sizes_double_from_start_to_end():
    assert batch_sizes(32, 4096) == [32, 64, 128, 256, 512, 1024, 2048, 4096]
    assert batch_sizes(64, 64) == [64]
    for start, end in ((32, 100), (64, 32), (0, 64)):
        with pytest.raises(ValueError):
            batch_sizes(start, end)


def test_batch_growth_every_k_epochs():
    assert [batch_growth(e, 32, 4096, 2) for e in range(18)] == [32, 32, 64, 64, 128, 128, 256, 256, 512, 512,
                                                                 1024, 1024, 2048, 2048, 4096, 4096, 4096, 4096]
