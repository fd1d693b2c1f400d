"""Receptive fields: the standard recurrence and the closed form for stacked convolutions.

A unit's receptive field is the square of input pixels that can influence it.
Three numbers describe it along each axis (Araujo, Norris and Sim, "Computing
Receptive Fields of Convolutional Neural Networks", Distill 2019):

- ``size`` r: how many input pixels one unit sees;
- ``jump`` j: the distance in input pixels between two neighbouring units;
- ``start``: the input coordinate of the centre of the first unit's field
  (input pixel i has its centre at coordinate i, so padding gives negative
  coordinates).

A window layer (convolution or pooling) with kernel k, dilation d, stride s
and p padding pixels before the first input pixel has an effective kernel
k' = d*(k - 1) + 1 and maps the field of its input to::

    r_out     = r_in + (k' - 1) * j_in
    j_out     = j_in * s
    start_out = start_in + ((k' - 1)/2 - p) * j_in

starting from r = 1, j = 1, start = 0 at the input image.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyimagesearch.architectures.errors import LayerError

Pair = tuple[int, int]
MAX_LAYERS = 10_000  # a table of ten thousand convolutions is already far beyond any network
MAX_SIZE = 2**53  # the largest side whose coordinates and counts stay exact in floating point and JSON


@dataclass(frozen=True)
class ReceptiveField:
    """Size, jump and start along (rows, columns) for the units of one layer.

    ``grid`` is the spatial size of the layer these units form; a dense layer
    uses it to connect the whole grid at once.
    """

    size: Pair
    jump: Pair
    start: tuple[float, float]
    grid: Pair

    @classmethod
    def of_input(cls, height: int, width: int) -> "ReceptiveField":
        """The input image: every pixel sees itself."""
        return cls(size=(1, 1), jump=(1, 1), start=(0.0, 0.0), grid=(height, width))

    def through_window(self, kernel: Pair, stride: Pair, dilation: Pair, pad_before: Pair, grid: Pair) -> "ReceptiveField":
        """The field after a convolution or pooling window (the recurrence in the module docstring)."""
        size, jump, start = [], [], []
        for axis in range(2):
            effective = dilation[axis] * (kernel[axis] - 1) + 1
            size.append(self.size[axis] + (effective - 1) * self.jump[axis])
            jump.append(self.jump[axis] * stride[axis])
            start.append(self.start[axis] + ((effective - 1) / 2 - pad_before[axis]) * self.jump[axis])
        return ReceptiveField(tuple(size), tuple(jump), tuple(start), grid)

    def through_dense(self) -> "ReceptiveField":
        """A fully connected layer: a convolution whose kernel covers the whole grid, no padding."""
        return self.through_window(self.grid, (1, 1), (1, 1), (0, 0), (1, 1))

    def growth(self, kernel: Pair, dilation: Pair = (1, 1)) -> str:
        """The size recurrence as text for the row axis, e.g. ``"5 + (5 - 1)*1 = 9"``."""
        effective = dilation[0] * (kernel[0] - 1) + 1
        return f"{self.size[0]} + ({effective} - 1)*{self.jump[0]} = {self.size[0] + (effective - 1) * self.jump[0]}"

    def to_dict(self) -> dict:
        """Plain values for JSON: ``{"size": [rows, cols], "jump": [...], "start": [...]}``."""
        return {"size": list(self.size), "jump": list(self.jump), "start": [_number(s) for s in self.start]}

    def describe(self) -> str:
        """Short text such as ``"13x13, jump 1, start 6"``."""
        jump = str(self.jump[0]) if self.jump[0] == self.jump[1] else f"{self.jump[0]}x{self.jump[1]}"
        starts = [_number(s) for s in self.start]
        start = str(starts[0]) if starts[0] == starts[1] else f"({starts[0]}, {starts[1]})"
        return f"{self.size[0]}x{self.size[1]}, jump {jump}, start {start}"


def union(name: str, fields: list[ReceptiveField]) -> ReceptiveField:
    """The field of a concatenation: the smallest window covering every branch's field.

    Branches must step through the input with the same jump, otherwise one
    output position of the concatenation has no single jump.
    """
    jumps = {field.jump for field in fields}
    if len(jumps) > 1:
        raise LayerError(name, f"its branches step through the input with different jumps {sorted(jumps)}",
                         advice="give every branch the same total stride")
    size, start = [], []
    for axis in range(2):
        low = min(field.start[axis] - (field.size[axis] - 1) / 2 for field in fields)
        high = max(field.start[axis] + (field.size[axis] - 1) / 2 for field in fields)
        size.append(int(high - low) + 1)
        start.append((low + high) / 2)
    return ReceptiveField(tuple(size), fields[0].jump, tuple(start), fields[0].grid)


def stacked_size(layers: int, kernel: int) -> int:
    """Receptive field of ``layers`` stacked stride-1 ``kernel`` x ``kernel`` convolutions.

    Derivation: with stride 1 every jump is 1, so each layer adds
    (F - 1) * 1 pixels to the field of the layer below it:
    r_0 = 1 and r_n = r_(n-1) + (F - 1), hence

        r_N = 1 + N*(F - 1) = N*F - N + 1.

    One convolution with an (NF - N + 1) x (NF - N + 1) kernel therefore sees
    exactly the same input pixels as the stack. Examples: two 3x3 -> 5x5,
    three 3x3 -> 7x7 (Simonyan and Zisserman 2015, Section 2.3), three 5x5 -> 13x13.
    """
    return layers * kernel - layers + 1


def stacked_size_strided(layers: int, kernel: int, stride: int) -> int:
    """Receptive field of ``layers`` stacked ``kernel`` x ``kernel`` convolutions of stride ``stride``.

    Layer n (counting from 1) steps with jump S^(n-1), so
    r_N = 1 + (F - 1) * (1 + S + ... + S^(N-1)) = 1 + (F - 1) * (S^N - 1)/(S - 1),
    which is N*F - N + 1 for S = 1.
    """
    if stride == 1:
        return stacked_size(layers, kernel)
    return 1 + (kernel - 1) * (stride**layers - 1) // (stride - 1)


def _number(value: float) -> int | float:
    """Whole coordinates as int, half-pixel ones as float."""
    return int(value) if float(value).is_integer() else value
