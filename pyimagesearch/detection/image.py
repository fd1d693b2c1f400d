"""The example image: read it and rescale it the way Faster R-CNN does.

Ren et al. 2015 (Section 3.3, "Implementation details") rescale every image so
that its shorter side is s = 600 px; the released code also keeps the longer
side at no more than 1,000 px (``MAX_SIZE``), scaling less when it would be
longer. The default image is the photograph ``china.jpg`` (640 x 427, a temple
behind trees; Creative Commons BY 2.0) that ships with scikit-learn.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from pyimagesearch.core.cli import UserError

SHORT_SIDE = 600
MAX_SIZE = 1000


def default_image_path() -> Path:
    """sklearn/datasets/images/china.jpg, found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the default image comes with scikit-learn, which is not installed; pass --image PATH")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "images" / "china.jpg"
    if not path.is_file():
        raise UserError(f"scikit-learn's sample image {path} is missing; pass --image PATH")
    return path


def load_image(path: str | os.PathLike) -> np.ndarray:
    """The image at ``path`` as RGB uint8 of shape (H, W, 3); a missing or unreadable file is a ``UserError``."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"image {path} does not exist; pass a JPEG or PNG file with --image")
    try:
        with Image.open(path) as opened:
            opened.load()
            return np.asarray(opened.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        reason = "it is not an image Pillow can read" if isinstance(error, UnidentifiedImageError) else str(error)
        raise UserError(f"image {path} cannot be read ({reason}); pass a JPEG or PNG file with --image") from None


def rescale_factor(height: int, width: int, short_side: int = SHORT_SIDE, max_size: int = MAX_SIZE) -> float:
    """scale = short_side/min(H, W), lowered to max_size/max(H, W) if the longer side would exceed max_size."""
    scale = short_side / min(height, width)
    if round(scale * max(height, width)) > max_size:
        scale = max_size / max(height, width)
    return scale


def rescale(image: np.ndarray, short_side: int = SHORT_SIDE, max_size: int = MAX_SIZE) -> tuple[np.ndarray, float]:
    """The image resized (bilinear) by ``rescale_factor``, each side rounded to whole pixels, and the factor."""
    from PIL import Image

    height, width = image.shape[:2]
    scale = rescale_factor(height, width, short_side, max_size)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8), scale
