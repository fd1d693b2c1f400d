"""The target data set of a sweep and the base it starts from, as transfer.py's flags name them.

A target is a Visual Decathlon set (TFDS), a folder of class subfolders or
the offline stand-in, scikit-learn's digits (``digits``). The first two get
a "selection" split, a seeded, stratified part of their training split
(``data.with_selection``); the digits come with theirs. ``origin`` says all
of that, and it is part of the sweep's settings. The base is ImageNet's
ResNet50, a weights file, random weights, or the stand-in for ImageNet: a
ResNet50 pretrained here on Fashion-MNIST (``pretrain``), whose file's path
is known before it is trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pyimagesearch.transfer import data as decathlon
from pyimagesearch.transfer import digits, pretrain

STANDIN = digits.NAME


def folder_name(dataset: str | None, data_dir=None, summary: bool = False) -> str:
    """The output folder's name: ``dataset``, or the ``data_dir`` folder's name.

    Without ``data_dir`` the name must be a Decathlon target or the stand-in,
    except for a summary, which reads any data set's folder. ``DataError``
    for a name that cannot name a folder.
    """
    if data_dir is None and not summary and dataset != STANDIN:
        decathlon.check_decathlon_name(dataset)
    name = dataset or Path(data_dir).expanduser().resolve().name
    if not name or Path(name).name != name or name in (".", ".."):
        raise decathlon.DataError(f"--dataset {name!r} cannot name an output folder; pass a plain name such as flowers")
    return name


def origin(dataset: str, data_dir=None, val_dir=None, val_fraction: float = 0.2,
           selection_fraction: float = decathlon.SELECTION_FRACTION) -> str:
    """Where the target's images come from and how its selection split is held out."""
    if data_dir is None and dataset == STANDIN:
        return f"{digits.ORIGIN}; {digits.SELECTION_SPLIT}"
    source = (decathlon.decathlon_origin(dataset) if data_dir is None
              else decathlon.folder_origin(data_dir, val_dir, val_fraction))
    return f"{source}; {decathlon.selection_origin(selection_fraction)}"


def load_target(dataset: str, data_dir=None, val_dir=None, val_fraction: float = 0.2,
                selection_fraction: float = decathlon.SELECTION_FRACTION, seed: int = 42, describe: bool = False):
    """The ``ImageSet`` with its "train", "selection" and "validation" splits; a Decathlon set's or a folder's
    images are each decoded once first to check them (``data.check_images``). ``describe``: a set too small to
    hold out selection images is described without them."""
    if data_dir is None and dataset == STANDIN:
        return digits.load_digits(seed)
    if data_dir is None:
        image_set = decathlon.load_decathlon(dataset)
    else:
        image_set = decathlon.load_folder(data_dir, val_dir, val_fraction, seed, dataset)
    decathlon.check_images(image_set)
    return decathlon.with_selection(image_set, selection_fraction, seed, required=not describe)


def pretrain_settings(quick: bool) -> pretrain.PretrainSettings:
    """The pretraining of the stand-in base: ``pretrain.QUICK_SETTINGS`` or ``FULL_SETTINGS``."""
    return pretrain.QUICK_SETTINGS if quick else pretrain.FULL_SETTINGS


def standin_base(quick: bool, pretrain_dir) -> Path:
    """The path of the Fashion-MNIST base file of these settings (it may not exist yet)."""
    return (pretrain.pretrain_folder(pretrain_settings(quick), pretrain_dir) / pretrain.BASE_FILE).resolve()


def train_standin_base(quick: bool, pretrain_dir, say: Callable[[str], None] = print, progress: bool = False) -> Path:
    """Pretrain the base once (``pretrain.pretrained_base_weights``; later calls reuse it) and return its file."""
    return pretrain.pretrained_base_weights(pretrain_settings(quick), pretrain_dir, say, progress=progress).resolve()
