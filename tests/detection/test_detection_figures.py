"""The detection figures' legends: off the image, the boxes and the bars; titles that agree with their counts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pyimagesearch.detection import plots  # noqa: E402
from pyimagesearch.detection.worked_example import BOXES, NAMES, SCORES  # noqa: E402

IMAGE = np.random.default_rng(0).random((120, 180, 3))


def legend_box(ax):
    ax.figure.canvas.draw()
    return ax.get_legend().get_window_extent()


def test_legends_of_the_image_figures_sit_outside_the_axes():
    centres = np.stack(np.meshgrid(np.arange(8, 180, 16), np.arange(8, 120, 16)), axis=-1).reshape(-1, 2)
    anchors = np.array([[40, 30, 140, 90], [65, 35, 115, 85]], dtype=float)
    for ax in (plots.plot_anchor_centres(IMAGE, centres, 16),
               plots.plot_anchors_at(IMAGE, anchors, (90, 60), [100, 50], [1.0]),
               plots.plot_nms_example(BOXES, SCORES, NAMES, [0, 2, 3, 5])):
        assert not legend_box(ax).overlaps(ax.bbox), ax.get_title()
        plt.close(ax.figure)


def test_the_step_counts_legend_covers_no_bar_and_no_count():
    counts = {"anchors": 18_648, "decoded and clipped": 18_648, "pre-NMS top-N": 12_000, "after NMS": 2_413,
              "post-NMS top-N": 2_000, "test top-300": 300}
    ax = plots.plot_step_counts(counts, inside=6_928)
    box = legend_box(ax)
    renderer = ax.figure.canvas.get_renderer()
    assert len(ax.patches) == 7 and len(ax.texts) == 7
    assert not any(box.overlaps(artist.get_window_extent(renderer)) for artist in [*ax.patches, *ax.texts])
    # The earlier place, the lower left, stood on the first bar.
    ax.legend(loc="lower left", fontsize="small")
    ax.figure.canvas.draw()
    assert ax.get_legend().get_window_extent().overlaps(ax.patches[0].get_window_extent(renderer))
    plt.close(ax.figure)


def test_titles_agree_with_their_counts(tmp_path, monkeypatch, capsys):
    from pyimagesearch.core.cli import run
    from pyimagesearch.detection import figures
    from pyimagesearch.detection.command import main

    titles = {}

    def keep_title(figure, path):
        titles[path.name] = figure.axes[0].get_title()
        plt.close(figure)

    monkeypatch.setattr(figures, "save_figure", keep_title)
    argv = ["--short-side", "64", "--max-size", "96", "--scales", "32", "--ratios", "1", "--stride", "64",
            "--min-size", "0", "--plot-top", "1", "--output", str(tmp_path)]
    assert run(main, argv) == 0
    capsys.readouterr()
    assert titles["anchors_at_centre.png"].startswith("the k = 1 anchor of position (0, 0), centred on (32, 32) px")
    assert titles["anchor_centres.png"] == "1 x 1 = 1 anchor centre x k = 1: 1 anchor"
    assert titles["proposals_before_nms.png"].startswith("top 1 of 1 box before NMS")
