"""Feature extraction: the frozen base's pooled features, computed outside the training loop.

A frozen base is a fixed function, so its pooled features are computed once
and cached for every epoch and every LR of a sweep when there is no
augmentation, once per epoch (from new random crops) with augmentation. The
new layer then trains on those features, which gives the same gradients as
training the whole frozen model, without a pass through the base for every
batch.
"""

from __future__ import annotations

import time

import numpy as np

from pyimagesearch.core.pipeline import make_dataset
from pyimagesearch.transfer.pipeline import make_pipeline


def feature_batches(features: np.ndarray, labels: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """``tf.data`` batches of (features, labels), reshuffled every epoch when ``shuffle_seed`` is given."""
    return make_dataset((features, labels), batch_size, shuffle=shuffle_seed is not None, seed=shuffle_seed)


class FeatureExtractor:
    """A frozen base and the pooled features it gives for the two splits of a data set.

    ``base`` is set by the first feature-extraction run, which builds it, and
    shared by the later ones. Validation images are never augmented, so their
    features are computed once. Training features are computed once when
    ``augment`` is "none" and anew at every ``training()`` call otherwise (the
    pipeline draws new crops each time it is iterated). ``seconds`` adds up
    the time the base spent.
    """

    def __init__(self, image_set, image_size: int, batch_size: int, augment: str, seed: int, progress: bool = False):
        self.base = None
        self.image_set = image_set
        self.cached = augment == "none"
        self.progress = progress
        self.seconds = 0.0
        self._cache: dict[str, np.ndarray] = {}
        self._pipelines = {
            "train": make_pipeline(image_set.encoded("train"), image_size, batch_size, augment, seed=seed),
            "validation": make_pipeline(image_set.encoded("validation"), image_size, batch_size),
        }

    def _compute(self, split: str) -> np.ndarray:
        start = time.perf_counter()
        images = self._pipelines[split].map(lambda x, y: x)
        features = np.asarray(self.base.predict(images, verbose=int(self.progress)), dtype=np.float32)
        self.seconds += time.perf_counter() - start
        if len(features) != self.image_set.size(split):
            raise RuntimeError(f"{len(features)} features for {self.image_set.size(split)} {split} images")
        return features

    def _features(self, split: str, reuse: bool) -> tuple[np.ndarray, np.ndarray]:
        if not reuse:
            return self._compute(split), self.image_set.labels[split]
        if split not in self._cache:
            self._cache[split] = self._compute(split)
        return self._cache[split], self.image_set.labels[split]

    def training(self) -> tuple[np.ndarray, np.ndarray]:
        return self._features("train", reuse=self.cached)

    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        return self._features("validation", reuse=True)
