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
import warnings
from pathlib import Path

import numpy as np

SHORT_SIDE = 600
MAX_SIZE = 1000
# Largest image decoded: 50 million pixels (an 8,660 x 5,773 photo, 150 MB as RGB), checked from the file's
# header before decoding. Pillow itself refuses twice its own 89 million pixels with a DecompressionBombError.
MAX_PIXELS = 50_000_000


class ImageFileError(ValueError):
    """An image that cannot be used; ``path`` and ``problem`` ("does not exist", ...) let a caller say so its way."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = Path(path), problem
        super().__init__(f"The image {problem}. Received: path={str(path)!r}")


def default_image_path() -> Path:
    """sklearn/datasets/images/china.jpg, found without importing scikit-learn (``ImageFileError`` if absent)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImageFileError("china.jpg", "comes with scikit-learn, which is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "images" / "china.jpg"
    if not path.is_file():
        raise ImageFileError(path, "of scikit-learn's samples is missing")
    return path


def load_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The image at ``path`` as RGB uint8 of shape (H, W, 3).

    Raises ``ImageFileError`` when the file is missing, is not an image Pillow
    can read, or has more than ``max_pixels`` pixels (read from its header, before decoding).
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageFileError(path, "does not exist")
    try:
        with warnings.catch_warnings():  # Pillow warns above 89 million pixels; the limit below says it in one sentence
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
        with opened:
            width, height = opened.size
            if width * height > max_pixels:
                raise ImageFileError(path, f"has {width:,} x {height:,} = {width * height:,} pixels, more than the "
                                           f"{max_pixels:,} this command decodes")
            opened.load()
            return np.asarray(opened.convert("RGB"), dtype=np.uint8)
    except ImageFileError:
        raise
    except Image.DecompressionBombError:
        raise ImageFileError(path, f"has more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels (Pillow refuses it as a "
                                   f"possible decompression bomb), more than the {max_pixels:,} this command "
                                   "decodes") from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        reason = "it is not an image Pillow can read" if isinstance(error, UnidentifiedImageError) else str(error)
        raise ImageFileError(path, f"cannot be read ({reason})") from None


def rescale_factor(height: int, width: int, short_side: int = SHORT_SIDE, max_size: int = MAX_SIZE) -> float:
    """scale = short_side/min(H, W), lowered to max_size/max(H, W) if the longer side would exceed max_size."""
    for name, value in (("height", height), ("width", width), ("short_side", short_side), ("max_size", max_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"Argument `{name}` must be an integer > 0. Received: {name}={value!r}")
    scale = short_side / min(height, width)
    if round(scale * max(height, width)) > max_size:
        scale = max_size / max(height, width)
    return scale


def rescaled_size(height: int, width: int, short_side: int = SHORT_SIDE, max_size: int = MAX_SIZE) -> tuple[int, int]:
    """(height, width) after ``rescale``: each side times ``rescale_factor``, rounded, at least 1."""
    scale = rescale_factor(height, width, short_side, max_size)
    return max(1, round(height * scale)), max(1, round(width * scale))


def rescale(image: np.ndarray, short_side: int = SHORT_SIDE, max_size: int = MAX_SIZE) -> tuple[np.ndarray, float]:
    """The image resized (bilinear) to ``rescaled_size``, and the factor."""
    from PIL import Image

    height, width = image.shape[:2]
    scale = rescale_factor(height, width, short_side, max_size)
    new_height, new_width = rescaled_size(height, width, short_side, max_size)
    resized = Image.fromarray(image).resize((new_width, new_height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8), scale
