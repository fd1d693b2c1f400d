"""The walker that counts a network layer by layer: shapes, activations, parameters, MACs, receptive fields.

Counting rule: operations are counted as multiply-adds (MACs). One MAC is one
weight multiplied with one input value and added to a sum, so FLOPs = 2 x MACs.
Per layer, with an output of H_out x W_out x K from an input with C channels:

    convolution  weights = (k_h*k_w*C/g)*K, biases = K,
                 MACs = H_out*W_out*K*(k_h*k_w*C/g)      (g = groups)
    dense        weights = N_in*N_out, biases = N_out, MACs = N_in*N_out
    pooling      no parameters and no MACs

Bias additions, activation functions, normalisation and pooling are not
counted as operations; padded zeros are (a kernel always does all its
multiplications). Activations are the elements of a layer's output; flatten
and concatenation only rearrange elements that already exist and are not
counted again in the totals.

Output sizes follow the usual rule (Dumoulin and Visin, "A guide to
convolution arithmetic for deep learning", 2016): with p pixels of padding on
each side and an effective kernel k' = d*(k - 1) + 1,

    out = (n + 2p - k')/s + 1,

which must be a whole number. ``padding="same"`` follows TensorFlow:
out = ceil(n/s), with the extra pixel of an odd total padding after the input.
"""

from __future__ import annotations

from dataclasses import replace
from math import prod
from typing import Sequence

from pyimagesearch.architectures.layers import Conv2D, Dense, Flatten, Layer, LayerRow, Network, Padding, Pair, Parallel, Pool2D
from pyimagesearch.architectures.receptive_field import ReceptiveField, union
from pyimagesearch.architectures.errors import LayerError


def walk(name: str, input_shape: Sequence[int], layers: Sequence[Layer]) -> Network:
    """Infer every layer's output shape and count its activations, parameters and MACs.

    Raises ``LayerError`` (a ``ValueError``) naming the layer when a kernel does
    not fit, an output size is not a whole number or a count is not a positive integer.
    """
    shape = _input_shape(input_shape)
    field = ReceptiveField.of_input(shape[0], shape[1])
    rows = [
        LayerRow(
            name="input", type="input", output_shape=shape, activations=prod(shape), weights=0, biases=0, macs=0,
            receptive_field=field, calculation="0", label="Input", description="input image",
            size_calculation=_shape_text(shape), activations_calculation=_product_text(shape),
            weights_calculation="0", macs_calculation="0", receptive_field_calculation="1",
        )
    ]
    _walk(layers, shape, field, rows, prefix="", branch=None)
    return Network(name, shape, tuple(rows))


def _walk(layers, shape, field, rows, prefix, branch):
    for layer in layers:
        full_name = prefix + layer.name
        if isinstance(layer, Parallel):
            shape, field = _parallel(layer, full_name, shape, field, rows, prefix, branch)
            continue
        rule = _RULES.get(type(layer))
        if rule is None:
            raise TypeError(f"not a layer specification: {layer!r}")
        row = rule(layer, full_name, shape, field)
        rows.append(replace(row, branch=branch))
        shape, field = row.output_shape, row.receptive_field
    return shape, field


def _parallel(block: Parallel, name, shape, field, rows, prefix, outer_branch):
    if not block.branches:
        raise LayerError(name, "a parallel block needs at least one branch")
    outputs = []
    for branch, layers in block.branches.items():
        out_shape, out_field = _walk(layers, shape, field, rows, prefix=f"{prefix}{branch}/", branch=branch)
        outputs.append((branch, out_shape, out_field))
    maps = {out_shape[:2] for _, out_shape, _ in outputs if len(out_shape) == 3}
    if len(maps) != 1 or any(len(out_shape) != 3 for _, out_shape, _ in outputs):
        sizes = ", ".join(f"{branch} {_shape_text(out_shape)}" for branch, out_shape, _ in outputs)
        raise LayerError(name, f"the branches end in different spatial sizes ({sizes}) and cannot be concatenated",
                         advice="use 'same' padding in every branch")
    height, width = maps.pop()
    channels = [out_shape[2] for _, out_shape, _ in outputs]
    out_shape = (height, width, sum(channels))
    joined = " + ".join(map(str, channels))
    activations = prod(out_shape)
    row = LayerRow(
        name=name, type="concat", output_shape=out_shape, activations=activations, weights=0, biases=0, macs=0,
        receptive_field=union(name, [out_field for _, _, out_field in outputs]), calculation="0", label="Concat",
        description=f"concatenate {len(channels)} branches along channels",
        size_calculation=f"{height}x{width}x({joined}) = {_shape_text(out_shape)}",
        activations_calculation=f"{height}*{width}*({joined}) = {activations:,}",
        weights_calculation="0", macs_calculation="0", receptive_field_calculation="widest branch",
        branch=outer_branch,
    )
    rows.append(row)
    return out_shape, row.receptive_field


def _conv(layer: Conv2D, name, shape, field) -> LayerRow:
    height, width, channels = _feature_map(name, "convolution", shape)
    filters = require_positive(name, "filters", layer.filters)
    groups = require_positive(name, "groups", layer.groups)
    kernel = _pair(name, "kernel", layer.kernel)
    stride = _pair(name, "stride", layer.stride)
    dilation = _pair(name, "dilation", layer.dilation)
    if channels % groups or filters % groups:
        raise LayerError(name, f"`groups`={groups} must divide both its {channels} input channels and its "
                               f"{filters} filters")
    (out_h, out_w), pad_before, size_text = _window(name, (height, width), kernel, stride, dilation, layer.padding)

    depth = channels // groups
    per_filter = kernel[0] * kernel[1] * depth
    weights = per_filter * filters
    biases = filters if layer.bias else 0
    macs = out_h * out_w * filters * per_filter
    fan_in = f"({kernel[0]}*{kernel[1]}*{depth})"
    if groups == 1:
        weights_text = f"{fan_in}*{filters}"
        params_text = f"{weights_text} + {filters}" if layer.bias else weights_text
    else:
        per_group = filters // groups
        weights_text = f"{groups}*{fan_in}*{per_group}"
        params_text = f"{groups}*({fan_in}*{per_group} + {per_group})" if layer.bias else weights_text
    out_shape = (out_h, out_w, filters)

    description = (
        f"{filters} filters {kernel[0]}x{kernel[1]}x{depth}, stride {_square(stride)}, {_padding_text(layer.padding)}"
    )
    if dilation != (1, 1):
        description += f", dilation {_square(dilation)}"
    if groups > 1:
        description += f", {groups} groups of {filters // groups} filters on {depth} channels each"
    return LayerRow(
        name=name, type="conv", output_shape=out_shape, activations=prod(out_shape), weights=weights, biases=biases,
        macs=macs, receptive_field=field.through_window(kernel, stride, dilation, pad_before, (out_h, out_w)),
        calculation=f"{params_text} = {weights + biases:,}", label=f"CONV{_square(kernel)}-{filters}",
        description=description, size_calculation=size_text, activations_calculation=_product_text(out_shape),
        weights_calculation=f"{weights_text} = {weights:,}",
        macs_calculation=f"{out_h}*{out_w}*{filters}*{fan_in} = {macs:,}",
        receptive_field_calculation=field.growth(kernel, dilation),
    )


def _pool(layer: Pool2D, name, shape, field) -> LayerRow:
    if layer.kind not in ("max", "avg"):
        raise ValueError(f"Argument `kind` must be 'max' or 'avg'. Received: kind={layer.kind!r}")
    height, width, channels = _feature_map(name, "pooling", shape)
    kernel = _pair(name, "pool", layer.pool)
    stride = _pair(name, "stride", layer.pool if layer.stride is None else layer.stride)
    (out_h, out_w), pad_before, size_text = _window(name, (height, width), kernel, stride, (1, 1), layer.padding)
    out_shape = (out_h, out_w, channels)
    return LayerRow(
        name=name, type=f"{layer.kind}pool", output_shape=out_shape, activations=prod(out_shape), weights=0, biases=0,
        macs=0, receptive_field=field.through_window(kernel, stride, (1, 1), pad_before, (out_h, out_w)),
        calculation="0", label=f"POOL{_square(kernel)}",
        description=f"{layer.kind} {kernel[0]}x{kernel[1]}, stride {_square(stride)}, {_padding_text(layer.padding)}",
        size_calculation=size_text, activations_calculation=_product_text(out_shape), weights_calculation="0",
        macs_calculation="0", receptive_field_calculation=field.growth(kernel),
    )


def _dense(layer: Dense, name, shape, field) -> LayerRow:
    units = require_positive(name, "units", layer.units)
    inputs = prod(shape)
    fan_in = f"({'*'.join(map(str, shape))})" if len(shape) > 1 else str(inputs)
    weights = inputs * units
    biases = units if layer.bias else 0
    params_text = f"{fan_in}*{units} + {units}" if layer.bias else f"{fan_in}*{units}"
    return LayerRow(
        name=name, type="dense", output_shape=(units,), activations=units, weights=weights, biases=biases, macs=weights,
        receptive_field=field.through_dense(), calculation=f"{params_text} = {weights + biases:,}", label="FC",
        description=f"{units} units, each connected to all {inputs:,} inputs", size_calculation=str(units),
        activations_calculation=f"{units:,}", weights_calculation=f"{fan_in}*{units} = {weights:,}",
        macs_calculation=f"{fan_in}*{units} = {weights:,}", receptive_field_calculation=field.growth(field.grid),
    )


def _flatten(layer: Flatten, name, shape, field) -> LayerRow:
    size = prod(shape)
    return LayerRow(
        name=name, type="flatten", output_shape=(size,), activations=size, weights=0, biases=0, macs=0,
        receptive_field=field, calculation="0", label="Flatten", description="reshape into a vector",
        size_calculation=_product_text(shape), activations_calculation=_product_text(shape), weights_calculation="0",
        macs_calculation="0", receptive_field_calculation="unchanged",
    )


_RULES = {Conv2D: _conv, Pool2D: _pool, Dense: _dense, Flatten: _flatten}


def _window(name: str, size: Pair, kernel: Pair, stride: Pair, dilation: Pair, padding: Padding):
    """Output size, padding before the input and the size calculation of a sliding window."""
    pads = _padding(name, padding)
    out, before, texts = [], [], []
    for axis, side in enumerate(("height", "width")):
        n, s = size[axis], stride[axis]
        effective = dilation[axis] * (kernel[axis] - 1) + 1
        if pads is None:
            o = -(-n // s)
            before.append(max((o - 1) * s + effective - n, 0) // 2)
            texts.append(f"ceil({n}/{s}) = {o}")
        else:
            p = pads[axis]
            padded = f"{n} + 2*{p}" if p else str(n)
            span = n + 2 * p - effective
            if span < 0:
                raise LayerError(name, f"its kernel of {effective} pixels is larger than its input {side} of {n} "
                                       f"(padding {p})", advice="use a larger input, more padding or 'same' padding")
            if span % s:
                raise LayerError(name, f"its output {side} ({padded} - {effective})/{s} + 1 = "
                                       f"{round(span / s + 1, 4)} is not a whole number",
                                 advice="change the input size or use 'same' padding")
            o = span // s + 1
            before.append(p)
            texts.append(f"({padded} - {effective})/{s} + 1 = {o}")
        out.append(o)
    text = texts[0] if texts[0] == texts[1] else f"height {texts[0]}, width {texts[1]}"
    return tuple(out), tuple(before), text


def _padding(name: str, padding: Padding) -> Pair | None:
    """Pixels added on each side, or None for 'same'."""
    if padding == "same":
        return None
    if padding == "valid":
        return (0, 0)
    values = (padding, padding) if isinstance(padding, int) else padding
    if (
        isinstance(values, (tuple, list))
        and len(values) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)
    ):
        return tuple(values)
    raise LayerError(name, "`padding` must be 'valid', 'same' or a number of pixels >= 0",
                     received=f"padding={padding!r}")


def require_positive(name: str, argument: str, value) -> int:
    """``value`` if it is an integer > 0, else a ``LayerError`` naming layer ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LayerError(name, f"`{argument}` must be a positive integer", received=f"{argument}={value!r}")
    return value


def _pair(name: str, argument: str, value) -> Pair:
    values = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(values) != 2:
        raise LayerError(name, f"`{argument}` must be one positive integer or two", received=f"{argument}={value!r}")
    for v in values:
        require_positive(name, argument, v)
    return values


def _input_shape(shape) -> tuple[int, int, int]:
    shape = tuple(shape)
    if len(shape) != 3 or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in shape):
        raise LayerError("input", "the input shape must be three positive integers HxWxC", received=repr(shape))
    return shape


def _feature_map(name: str, kind: str, shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError(name, f"a {kind} needs an HxWxC feature map but receives a vector of {prod(shape):,} values",
                         advice="place it before the flatten and dense layers")
    return shape


def _padding_text(padding: Padding) -> str:
    if padding == "same":
        return "'same' padding"
    if padding == "valid":
        return "pad 0"
    return f"pad {_square(padding)}"


def _square(value) -> str:
    """``3`` for 3 or (3, 3), ``1x7`` for (1, 7)."""
    if isinstance(value, (tuple, list)):
        return str(value[0]) if value[0] == value[1] else f"{value[0]}x{value[1]}"
    return str(value)


def _shape_text(shape) -> str:
    return "x".join(map(str, shape))


def _product_text(shape) -> str:
    """``"224*224*64 = 3,211,264"``; a vector is just its length."""
    if len(shape) == 1:
        return f"{shape[0]:,}"
    return f"{'*'.join(map(str, shape))} = {prod(shape):,}"
