"""Describing a target data set: class counts, sample images, dataset.json (``DatasetDescription``) and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from pyimagesearch.core.outputs import save_figure
from pyimagesearch.core.wording import per_class as images_per_class, plural
from pyimagesearch.records.transfer import DatasetDescription


def describe_labels(labels: dict[str, np.ndarray], class_names: list[str]) -> dict:
    """Number of classes, images per split and images per class (min/median/max) of each split."""
    splits = {}
    for split, split_labels in labels.items():
        per_class = np.bincount(split_labels, minlength=len(class_names))
        splits[split] = {
            "images": int(len(split_labels)),
            "images_per_class": {
                "min": int(per_class.min()),
                "median": float(np.median(per_class)),
                "max": int(per_class.max()),
            },
            "classes_without_images": int(np.sum(per_class == 0)),
            "counts": per_class.tolist(),
        }
    return {"num_classes": len(class_names), "class_names": list(class_names), "splits": splits}


def sample_positions(labels: np.ndarray, classes: int = 2, per_class: int = 2) -> list[int]:
    """Positions of ``per_class`` images from each of the ``classes`` most frequent classes.

    Ties go to the lower label; within a class, the first images in stored order.
    """
    counts = np.bincount(labels)
    chosen = np.argsort(-counts, kind="stable")[:classes]
    return [int(i) for c in chosen for i in np.flatnonzero(labels == c)[:per_class]]


def sample_images(image_set, split: str = "train", classes: int = 2, per_class: int = 2):
    """Decoded images (uint8 arrays, as stored) and labels at ``sample_positions``."""
    import tensorflow as tf

    wanted = sample_positions(image_set.labels[split], classes, per_class)
    found = {}
    for position, (data, label) in enumerate(image_set.encoded(split).take(max(wanted) + 1).as_numpy_iterator()):
        if position in wanted:
            found[position] = (tf.io.decode_image(data, channels=3, expand_animations=False).numpy(), int(label))
    return [found[p][0] for p in wanted], [found[p][1] for p in wanted]


def write_description(image_set, folder: Path, say: Callable[[str], None], note: str | None = None) -> DatasetDescription:
    """Write dataset.json (validated as a ``DatasetDescription``), class_distribution.png and samples.png.

    dataset.json records where the data come from (``image_set.source``), how
    the selection split was held out and ``note``, the stand-in's sentence
    (``pretrain.standin_note``), which is also said first.
    """
    from pyimagesearch.transfer.plots import plot_class_distribution, plot_samples

    if note:
        say(note)
    description = {"name": image_set.name, "origin": image_set.origin, "evaluation_split": "validation",
                   **describe_labels(image_set.labels, image_set.class_names), "source": image_set.source,
                   "note": note, "selection_split": image_set.selection_split}
    images, labels = sample_images(image_set)
    description["samples"] = [image_set.class_names[label] for label in labels]
    record = DatasetDescription.from_json(description, str(Path(folder) / DatasetDescription.FILE))
    record.write(folder)
    counts = {split: info["counts"] for split, info in description["splits"].items()}
    ax = plot_class_distribution(counts, image_set.class_names, title=f"{image_set.name}: images per class")
    save_figure(ax.figure, folder / "class_distribution.png")
    classes = list(dict.fromkeys(image_set.class_names[label] for label in labels))
    axes = plot_samples(images, [f"class {image_set.class_names[label]}" for label in labels],
                        title=f"{image_set.name}: training images of the classes {' and '.join(classes)}\n"
                              "(as stored, before resizing and cropping; H x W = height x width in pixels)")
    save_figure(axes[0].figure, folder / "samples.png")
    parts = []
    for split, info in description["splits"].items():
        per_class = info["images_per_class"]
        parts.append(f"{split} {plural(info['images'], 'image')} "
                     f"({images_per_class(per_class['min'], per_class['median'], per_class['max'])})")
    say(f"{image_set.name} ({image_set.origin}): {image_set.num_classes} classes; " + "; ".join(parts)
        + (f"; {image_set.selection_split}, for the choices" if image_set.selection_split else ""))
    return record
