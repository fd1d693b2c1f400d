"""Layer specifications of the CNN calculator and the rows and networks the walker returns.

``walk.walk`` turns a list of these specifications into a ``Network`` of
``LayerRow`` objects; its docstring holds the counting rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence, Union

from pyimagesearch.architectures.receptive_field import ReceptiveField

Pair = tuple[int, int]
Padding = Union[str, int, Pair]


@dataclass(frozen=True)
class Conv2D:
    """A 2-D convolution with ``filters`` kernels of ``kernel`` x ``kernel`` pixels.

    ``padding`` is "valid" (none), "same" (TensorFlow's rule) or a number of
    pixels added on each side. With ``groups`` = g, the input channels and the
    filters are split into g groups and each filter sees only the C/g channels
    of its own group (AlexNet's two GPUs are groups=2).
    """

    name: str
    filters: int
    kernel: int | Pair
    stride: int | Pair = 1
    padding: Padding = "valid"
    dilation: int | Pair = 1
    groups: int = 1
    bias: bool = True


@dataclass(frozen=True)
class Pool2D:
    """Max (``kind="max"``) or average (``kind="avg"``) pooling; ``stride`` defaults to ``pool``."""

    name: str
    pool: int | Pair
    stride: int | Pair | None = None
    padding: Padding = "valid"
    kind: str = "max"


@dataclass(frozen=True)
class Dense:
    """A fully connected layer; on a feature map it connects every element (as in the papers)."""

    name: str
    units: int
    bias: bool = True


@dataclass(frozen=True)
class Flatten:
    """Reshape a feature map into a vector."""

    name: str


@dataclass(frozen=True)
class Parallel:
    """Branches that all read the same input and whose outputs are concatenated along channels.

    ``branches`` maps a branch name to its layers; an empty branch passes the
    input through unchanged. The concatenation is reported as one row named
    ``name``, the branch layers as ``"<branch>/<layer>"``.
    """

    name: str
    branches: Mapping[str, Sequence["Layer"]]


Layer = Union[Conv2D, Pool2D, Dense, Flatten, Parallel]

VIEW_TYPES = frozenset({"flatten", "concat"})


@dataclass(frozen=True)
class LayerRow:
    """What one layer produces and costs, each number with its calculation as text."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    activations: int
    weights: int
    biases: int
    macs: int
    receptive_field: ReceptiveField
    calculation: str
    label: str
    description: str
    size_calculation: str
    activations_calculation: str
    weights_calculation: str
    macs_calculation: str
    receptive_field_calculation: str
    branch: str | None = None

    @property
    def params(self) -> int:
        return self.weights + self.biases

    def to_dict(self) -> dict:
        """The row as plain values, with ``calculation`` the parameter count as text."""
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": list(self.output_shape),
            "activations": self.activations,
            "weights": self.weights,
            "biases": self.biases,
            "params": self.params,
            "macs": self.macs,
            "receptive_field": self.receptive_field.to_dict(),
            "calculation": self.calculation,
        }


@dataclass(frozen=True)
class Network:
    """A walked network: its input shape and one row per layer, the input first."""

    name: str
    input_shape: tuple[int, int, int]
    rows: tuple[LayerRow, ...]

    @property
    def totals(self) -> dict[str, int]:
        """Sums over the rows; flatten and concatenation rows add no activations."""
        return {
            "activations": sum(row.activations for row in self.rows if row.type not in VIEW_TYPES),
            "weights": sum(row.weights for row in self.rows),
            "biases": sum(row.biases for row in self.rows),
            "params": sum(row.params for row in self.rows),
            "macs": sum(row.macs for row in self.rows),
        }

    def row(self, name: str) -> LayerRow:
        """The row called ``name``."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    def to_dict(self) -> dict:
        """``{"network", "layers", "totals"}`` as plain values."""
        return {"network": self.name, "layers": [row.to_dict() for row in self.rows], "totals": self.totals}
