"""A run's final model scored image by image on the selection and validation splits (``ImageCorrectness``)."""

from __future__ import annotations

import numpy as np

from pyimagesearch.records.transfer import ImageCorrectness
from pyimagesearch.transfer.pipeline import make_pipeline


def score_images(image_set, mode: str, models, settings, batch_size: int,
                 extractor=None) -> ImageCorrectness:
    """Which images of the selection and validation splits the final model classifies right."""
    def correct(split: str) -> np.ndarray:
        if not image_set.size(split):  # a folder too small for a selection split: nothing to predict
            return np.zeros(0, dtype=bool)
        if mode == "feature":
            scores = models.trained.predict(extractor.features(split)[0], batch_size=settings.batch_size, verbose=0)
        else:
            scores = models.model.predict(make_pipeline(image_set.encoded(split), settings.image_size, batch_size),
                                          verbose=0)
        return np.argmax(scores, axis=-1) == image_set.labels[split]

    return ImageCorrectness.of(correct("selection"), correct("validation"))
