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


def feature_batches(features: np.ndarray, labels: np.ndarray, batch_size: int, shuffle_seed: int | None = None,
                    epoch: int | None = None):
    """``tf.data`` batches of (features, labels), shuffled when ``shuffle_seed`` is given.

    With ``epoch``: in that epoch's order (``pipeline.make_dataset``).
    """
    return make_dataset((features, labels), batch_size, shuffle=shuffle_seed is not None, seed=shuffle_seed,
                        epoch=epoch)


class FeatureExtractor:
    """A frozen base and the pooled features it gives for the two splits of a data set.

    ``base`` is set by the first feature-extraction run, which builds it, and
    shared by the later ones. Validation images are never augmented, so their
    features are computed once. Training features are computed once when
    ``augment`` is "none"; otherwise ``training(epoch)`` computes them from
    that epoch's crops, drawn from (seed, epoch) alone, so every run of a
    sweep sees in its epoch e the crops a run alone sees in its epoch e.
    ``seconds`` adds up the time the base spent.
    """

    def __init__(self, image_set, image_size: int, batch_size: int, augment: str, seed: int, progress: bool = False):
        self.base = None
        self.image_set = image_set
        self.cached = augment == "none"
        self.progress = progress
        self.seconds = 0.0
        self._cache: dict[str, np.ndarray] = {}
        self.batch_size = batch_size
        self._pipeline = lambda split, epoch=None: make_pipeline(
            image_set.encoded(split), image_size, batch_size, augment if split == "train" else "none", seed=seed,
            epoch=epoch)

    def _compute(self, split: str, epoch: int | None = None) -> np.ndarray:
        start = time.perf_counter()
        import tensorflow as tf

        # A split taken out of another by a filter has no known length; stated, predict reads it to the end quietly.
        batches = -(-self.image_set.size(split) // self.batch_size)
        images = self._pipeline(split, epoch).map(lambda x, y: x).apply(tf.data.experimental.assert_cardinality(batches))
        features = np.asarray(self.base.predict(images, verbose=int(self.progress)), dtype=np.float32)
        self.seconds += time.perf_counter() - start
        if len(features) != self.image_set.size(split):
            raise RuntimeError(f"{len(features)} features for {self.image_set.size(split)} {split} images")
        return features

    def _features(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split not in self._cache:
            self._cache[split] = self._compute(split)
        return self._cache[split], self.image_set.labels[split]

    def training(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of the training split for ``epoch`` (the same for every epoch without augmentation)."""
        if self.cached:
            return self._features("train")
        return self._compute("train", epoch), self.image_set.labels["train"]

    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        return self._features("validation")

    def features(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of an unaugmented split ("validation", "selection"), computed once."""
        return self._features(split)
