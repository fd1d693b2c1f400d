"""The calculator's one error: a layer that cannot be computed, named with what is wrong and what would fix it."""

from __future__ import annotations


class LayerError(ValueError):
    """A layer whose size or counts cannot be computed.

    ``str(error)`` reads as Keras' argument errors::

        Layer conv1: `filters` must be a positive integer. Received: filters=-4.

    ``sentence`` is the same as one sentence for a command line::

        layer conv1: `filters` must be a positive integer, received filters=-4.
    """

    def __init__(self, layer: str, problem: str, received: str | None = None, advice: str | None = None):
        self.layer, self.problem, self.received, self.advice = layer, problem, received, advice
        message = f"Layer {layer}: {problem}."
        if received:
            message += f" Received: {received}."
        if advice:
            message += f" {advice[0].upper()}{advice[1:]}."
        super().__init__(message)

    @property
    def sentence(self) -> str:
        received = f", received {self.received}" if self.received else ""
        advice = f"; {self.advice}" if self.advice else ""
        return f"layer {self.layer}: {self.problem}{received}{advice}."
