"""CNN architecture calculator: shapes, activations, parameters, multiply-adds and receptive fields.

Operations are counted as multiply-adds (MACs); FLOPs = 2 x MACs. Pure Python:
importing this package imports no deep-learning framework.

    from pyimagesearch.architectures import vgg19
    vgg19().totals   # {'activations': ..., 'weights': 143652544, 'biases': 14696, ...}

Command line: ``python -m pyimagesearch.architectures {alexnet,vgg19,inception,lenet5,receptive-field}``.
"""

from pyimagesearch.architectures.layers import Conv2D, Dense, Flatten, LayerRow, Network, Parallel, Pool2D
from pyimagesearch.architectures.walk import walk
from pyimagesearch.architectures.networks import (
    alexnet,
    convolution_macs,
    convolution_stack,
    inception_naive,
    inception_reduction,
    inception_saving,
    lenet5,
    vgg19,
)
from pyimagesearch.architectures.receptive_field import ReceptiveField, stacked_size, stacked_size_strided

__all__ = [
    "Conv2D", "Dense", "Flatten", "LayerRow", "Network", "Parallel", "Pool2D", "ReceptiveField",
    "alexnet", "convolution_macs", "convolution_stack", "inception_naive", "inception_reduction",
    "inception_saving", "lenet5", "stacked_size", "stacked_size_strided", "vgg19", "walk",
]
