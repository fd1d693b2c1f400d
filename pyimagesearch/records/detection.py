"""Problem 2.5's records: a region-proposal run's counts (``counts.json``) and its RPN head (``rpn_head.json``).

``python -m pyimagesearch.detection`` writes both through these classes and the
report reads them back through them, so a damaged or edited file is named in
one sentence ("output/detection/counts.json (anchors): total = -1 is not a
count ...") instead of shown as a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import (
    COUNT, NONNEGATIVE, POSITIVE, POSITIVE_COUNT, PROBABILITY, Record, each, one_of,
)

SIDES = ("height", "width")


def _is_count(value, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


# {"height": h, "width": w} with whole sides > 0 (the keys of an image or feature-map size).
SIZE = {"check": lambda v: None if set(v) == set(SIDES) and all(_is_count(v[s], 1) for s in SIDES)
        else 'must be {"height": h, "width": w} with whole sides > 0'}
# Every step's count, in pipeline order: whole numbers >= 0 that never grow.
STEP_COUNTS = {"check": lambda v: None if v and all(_is_count(n) for n in v.values())
               and all(b <= a for a, b in zip(list(v.values()), list(v.values())[1:]))
               else "must map each step to a count (an integer >= 0), none larger than the one before"}
# The totals of a network walked by the architecture calculator.
TOTALS = {"check": lambda v: None if {"activations", "weights", "biases", "params", "macs"} <= set(v)
          and all(_is_count(n) for n in v.values()) else "must hold activations, weights, biases, params and macs "
                                                         "as counts (integers >= 0)"}
IOU = {"check": lambda v: None if PROBABILITY["check"](v) is None and v > 0 else "must be in (0, 1]"}


@dataclass(frozen=True)
class ImageSizes(Record):
    """The photo and its rescaled copy: sizes in pixels and the factor between them."""

    KIND = "detection-image"

    path: str
    original: dict = field(metadata=SIZE)
    rescaled: dict = field(metadata=SIZE)
    scale: float = field(metadata=POSITIVE)


@dataclass(frozen=True)
class AnchorCounts(Record):
    """The anchors: stride, scales and ratios, k, the feature map and how many anchors, and how many inside."""

    KIND = "detection-anchors"

    stride: int = field(metadata=POSITIVE_COUNT)
    scales: list[float] = field(metadata=each(POSITIVE))
    ratios: list[float] = field(metadata=each(POSITIVE))
    k: int = field(metadata=POSITIVE_COUNT)
    feature_map: dict = field(metadata=SIZE)
    total: int = field(metadata=COUNT)
    inside: int = field(metadata=COUNT)
    order: str = field(default="ratio-major", metadata=one_of("ratio-major"))

    def check(self) -> str | None:
        if self.k != len(self.scales) * len(self.ratios):
            return f"k = {self.k} is not {len(self.scales)} scales x {len(self.ratios)} ratios"
        positions = self.feature_map["height"] * self.feature_map["width"]
        if self.total != positions * self.k:
            return f"total = {self.total:,} anchors is not {positions:,} positions x k = {self.k}"
        if self.inside > self.total:
            return f"inside = {self.inside:,} is more than the {self.total:,} anchors"
        return None


@dataclass(frozen=True)
class TestCounts(Record):
    """The proposals at the paper's test setting (the first post_nms_top_n NMS survivors)."""

    KIND = "detection-test"

    post_nms_top_n: int = field(metadata=POSITIVE_COUNT)
    count: int = field(metadata=COUNT)
    pre_nms_top_n: int = field(metadata=POSITIVE_COUNT)
    survivors_in_test_pre_nms: int = field(metadata=COUNT)


@dataclass(frozen=True)
class ProposalSettings(Record):
    """The proposal steps' settings; ``min_size`` in original-image pixels, ``min_size_rescaled`` = min_size x scale."""

    KIND = "detection-settings"

    min_size: float = field(metadata=NONNEGATIVE)
    min_size_rescaled: float = field(metadata=NONNEGATIVE)
    pre_nms_top_n: int = field(metadata=POSITIVE_COUNT)
    iou: float = field(metadata=IOU)
    post_nms_top_n: int = field(metadata=POSITIVE_COUNT)
    seed: int = field(metadata=COUNT)


@dataclass(frozen=True)
class ReferenceSize(Record):
    """Anchor counts the same rule gives at an image size the paper discusses."""

    KIND = "detection-reference-size"

    height: int = field(metadata=POSITIVE_COUNT)
    width: int = field(metadata=POSITIVE_COUNT)
    feature_height: int = field(metadata=COUNT)
    feature_width: int = field(metadata=COUNT)
    k: int = field(metadata=POSITIVE_COUNT)
    total: int = field(metadata=COUNT)
    inside: int = field(metadata=COUNT)


@dataclass(frozen=True)
class DetectionCounts(Record):
    """``counts.json``: what one run of the proposal pipeline counted, and the stand-ins it used."""

    KIND = "detection-counts"
    FILE = "counts.json"

    stand_in: str
    scores: str = field(metadata=one_of("edges", "random"))
    deltas: str = field(metadata=one_of("zero", "random"))
    image: ImageSizes
    anchors: AnchorCounts
    steps: dict = field(metadata=STEP_COUNTS)
    test: TestCounts
    settings: ProposalSettings
    reference_sizes: list[ReferenceSize]

    def check(self) -> str | None:
        first = next(iter(self.steps.values()))
        if first != self.anchors.total:
            return f"the first step counts {first:,} boxes, not the {self.anchors.total:,} anchors"
        if self.test.count > first:
            return f"the test setting keeps {self.test.count:,} proposals, more than the {first:,} anchors"
        return None


@dataclass(frozen=True)
class RpnHead(Record):
    """``rpn_head.json``: the RPN head walked by the architecture calculator on the run's feature map."""

    KIND = "rpn-head"
    FILE = "rpn_head.json"

    network: str
    layers: list[dict]
    totals: dict = field(metadata=TOTALS)
    feature_map: dict
    k: int = field(metadata=POSITIVE_COUNT)
    outputs_per_image: dict
    vgg16: dict | None = None

    def check(self) -> str | None:
        fmap = self.feature_map
        if not all(_is_count(fmap.get(key), 1) for key in ("height", "width", "channels", "stride")):
            return "feature_map must hold height, width, channels and stride as integers > 0"
        positions = fmap["height"] * fmap["width"]
        expected = {"scores": positions * 2 * self.k, "offsets": positions * 4 * self.k}
        if self.outputs_per_image != expected:
            return (f"outputs_per_image = {self.outputs_per_image!r} is not {positions:,} positions x 2k and 4k "
                    f"= {expected!r}")
        return None
