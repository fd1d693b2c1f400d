"""The page of each built-in network: VGG19's Table 1, AlexNet on one and two GPUs, the Inception modules, receptive fields.

Every number is shown as the calculation that gives it (``report`` holds the tables and sums).
"""

from __future__ import annotations

from pyimagesearch.architectures.layers import Network
from pyimagesearch.architectures.networks import convolution_macs
from pyimagesearch.architectures.receptive_field import stacked_size, stacked_size_strided
from pyimagesearch.architectures.report import (
    BYTES_PER_ACTIVATION, RECEPTIVE_FIELD_COLUMN, bytes_text, header, layer_table, shape_text, sum_text, table,
    totals_text,
)


def vgg19_markdown(network: Network) -> str:
    """VGG19 in the layout of the task's Table 1 (activations, parameters without biases), then the details."""
    totals = network.totals
    table1 = [[row.label, row.activations_calculation, row.weights_calculation] for row in network.rows]
    table1.append(["TOTAL", f"{totals['activations']:,}", f"{totals['weights']:,}"])
    counted = [row.activations for row in network.rows]
    biases = [row.biases for row in network.rows]
    lines = [
        header("VGG19 (configuration E, Simonyan and Zisserman 2015, Table 1)", network, [
            "3x3 convolutions with stride 1 and 1 pixel of padding, 2x2 max pooling with stride 2, no padding.",
        ]),
        "## Table 1: VGG19 memory and weights (parameters without biases)",
        table(["Layer", "Number of Activations (Memory)", "Parameters (Compute)"], table1),
        "\n".join([
            f"- Total activations: {sum_text(counted)}; at {BYTES_PER_ACTIVATION} bytes each "
            f"{totals['activations'] * BYTES_PER_ACTIVATION:,} bytes = "
            f"{bytes_text(totals['activations'] * BYTES_PER_ACTIVATION)} per image (forward pass only).",
            f"- Total weights: {sum_text([row.weights for row in network.rows])}.",
            f"- Biases (one per filter or unit): {sum_text(biases)}.",
            f"- **Total with biases: {totals['weights']:,} + {totals['biases']:,} = {totals['params']:,} parameters.**",
            f"- Multiply-adds: {totals['macs']:,} per image; FLOPs = 2*{totals['macs']:,} = {2 * totals['macs']:,}.",
        ]),
        "## Layer by layer with biases, multiply-adds and receptive fields",
        layer_table(network),
    ]
    return "\n\n".join(lines) + "\n"


def alexnet_markdown(two_gpus: Network, single_gpu: Network) -> str:
    """AlexNet on two GPUs (groups=2) layer by layer, then compared with one GPU."""
    conv1 = two_gpus.row("conv1")
    notes = [
        "Krizhevsky et al. 2012 state an input of 224x224x3, but then conv1 (11x11, stride 4, no padding) "
        "would give (224 - 11)/4 + 1 = 54.25 positions; 227x227x3 gives "
        f"{conv1.size_calculation}, the 55x55x96 of Figure 2.",
        "Two GPUs (Section 3.2, Figure 2): each GPU holds half of the kernels of every layer. conv2, conv4 and conv5 "
        "see only the kernel maps on their own GPU (groups=2: 2 groups, each filter sees half the channels); "
        "conv3 and the fully connected layers see the kernel maps of both GPUs.",
        "Response normalisation (after conv1 and conv2), ReLU and dropout have no parameters and are not listed.",
    ]
    compare = []
    for two, one in zip(two_gpus.rows, single_gpu.rows):
        if two.params or one.params:
            compare.append([two.name, two.calculation, one.calculation, two.macs_calculation, one.macs_calculation])
    t2, t1 = two_gpus.totals, single_gpu.totals
    compare.append(["**total**", f"{t2['params']:,}", f"{t1['params']:,}", f"{t2['macs']:,}", f"{t1['macs']:,}"])
    extra_params = t1["params"] - t2["params"]
    extra_macs = t1["macs"] - t2["macs"]
    lines = [
        header("AlexNet (Krizhevsky et al. 2012, Section 3.5 and Figure 2)", two_gpus, notes),
        "## Two GPUs (groups=2), layer by layer",
        layer_table(two_gpus),
        "## Totals, two GPUs",
        totals_text(two_gpus),
        "## One GPU (no groups) for comparison",
        "Without groups, conv2, conv4 and conv5 see all channels of the layer before; every other layer is unchanged.",
        table(
            ["Layer", "Parameters, two GPUs", "Parameters, one GPU", "Multiply-adds, two GPUs", "Multiply-adds, one GPU"],
            compare,
        ),
        "\n".join([
            f"- Parameters: {t1['params']:,} - {t2['params']:,} = {extra_params:,} more on one GPU "
            f"(+{100 * extra_params / t2['params']:.2f}%).",
            f"- Multiply-adds: {t1['macs']:,} - {t2['macs']:,} = {extra_macs:,} more on one GPU "
            f"(+{100 * extra_macs / t2['macs']:.1f}%); FLOPs 2*{t2['macs']:,} = {2 * t2['macs']:,} (two GPUs) "
            f"and 2*{t1['macs']:,} = {2 * t1['macs']:,} (one GPU).",
        ]),
        "## Totals, one GPU",
        totals_text(single_gpu),
    ]
    return "\n\n".join(lines) + "\n"


def _module_section(title: str, network: Network) -> str:
    """One Inception module: branch-by-branch table, MACs per branch, output after concatenation."""
    rows, per_branch = [], {}
    for row in network.rows:
        if row.branch is None:
            continue
        rows.append(
            [row.branch, row.name, row.description, shape_text(row.output_shape), row.calculation, row.macs_calculation]
        )
        per_branch.setdefault(row.branch, []).append(row.macs)
    concat = network.rows[-1]
    branch_lines = []
    for branch, macs in per_branch.items():
        text = " + ".join(f"{m:,}" for m in macs)
        total = sum(macs)
        branch_lines.append([branch, text if len(macs) == 1 else f"{text} = {total:,}"])
    totals = " + ".join(f"{sum(m):,}" for m in per_branch.values())
    return "\n\n".join([
        f"## {title}",
        table(["Branch", "Layer", "Operation", "Output", "Parameters", "Multiply-adds"], rows),
        f"Output after filter concatenation: {concat.size_calculation}, that is "
        f"{concat.activations_calculation} activations.",
        table(["Branch", "Convolution multiply-adds"], branch_lines),
        f"Total convolution multiply-adds: {totals} = {convolution_macs(network):,} "
        f"(FLOPs = 2*{convolution_macs(network):,} = {2 * convolution_macs(network):,}). "
        f"Parameters: {sum_text([row.params for row in network.rows])}.",
    ])


def inception_markdown(naive: Network, reduction: Network, saving: dict, filters: dict) -> str:
    """Both Inception modules branch by branch and the saving of the dimension reductions.

    ``filters`` holds the counts used (n1x1, n3x3_reduce, ...) and their ``source``.
    """
    n, r = saving["naive_macs"], saving["reduction_macs"]
    f = filters
    lines = [
        header("Inception module: the structure of Szegedy et al. 2015, Figure 2", naive, [
            f"Filter counts: 1x1 {f['n1x1']}; 3x3 reduce {f['n3x3_reduce']} -> 3x3 {f['n3x3']}; 5x5 reduce "
            f"{f['n5x5_reduce']} -> 5x5 {f['n5x5']}; pool proj {f['pool_proj']} (the naive module has no reduce or "
            f"proj layers). Source: {f['source']}."
            + (" GoogLeNet's own inception (3a), at 28x28x192, is `--filters googlenet-3a`."
               if f["preset"] == "homework" else ""),
            "All convolutions and the 3x3 max pooling use stride 1 and 'same' padding, so every branch keeps the "
            "input's height and width and the outputs can be concatenated along channels.",
        ]),
        _module_section("(a) Naive module", naive),
        _module_section("(b) Module with dimension reductions", reduction),
        "## Saving",
        table(["", "Naive", "Dimension reductions"], [
            [
                "Output after concatenation",
                shape_text(naive.rows[-1].output_shape),
                shape_text(reduction.rows[-1].output_shape),
            ],
            ["Convolution multiply-adds", f"{n:,}", f"{r:,}"],
            ["Parameters", f"{naive.totals['params']:,}", f"{reduction.totals['params']:,}"],
        ]),
        "\n".join([
            f"- Ratio: {n:,} / {r:,} = {saving['ratio']:.2f}, "
            f"the reductions need {saving['ratio']:.2f}x fewer multiply-adds.",
            f"- Saving: {n:,} - {r:,} = {saving['saved_macs']:,} multiply-adds; "
            f"{saving['saved_macs']:,} / {n:,} = {saving['percent']:.1f}% of the naive module.",
            "- Why: in the naive module the 3x3 and 5x5 convolutions read all input channels, and the pooling branch "
            "passes all of them on, so both the cost and the output depth grow module after module. The 1x1 "
            "convolutions first shrink the channels the expensive 3x3 and 5x5 filters read, and project the pooled "
            "channels down, for a small cost of their own.",
        ]),
    ]
    return "\n\n".join(lines) + "\n"


def receptive_field_markdown(stack: Network, layers: int, kernel: int, stride: int) -> str:
    """The stack layer by layer with the recurrence, then the closed form and the parameter comparison."""
    rows = [
        [row.name, shape_text(row.output_shape), row.receptive_field_calculation, row.receptive_field.describe()]
        for row in stack.rows
    ]
    size = stacked_size_strided(layers, kernel, stride)
    channels = stack.input_shape[2]
    if stride == 1:
        closed = f"N*F - N + 1 = {layers}*{kernel} - {layers} + 1 = {stacked_size(layers, kernel)}"
    else:
        closed = f"1 + (F - 1)*(S^N - 1)/(S - 1) = 1 + ({kernel} - 1)*({stride}^{layers} - 1)/({stride} - 1) = {size}"
    lines = [
        header(f"Receptive field of {layers} stacked {kernel}x{kernel} convolutions, stride {stride}", stack, [
            "The input is exactly as large as the receptive field, so the last layer is 1x1 and sees all of it.",
            "Recurrence per layer (no padding): r_out = r_in + (F - 1)*j_in, j_out = j_in*S, "
            "start_out = start_in + (F - 1)/2*j_in, starting from r = 1, j = 1, start = 0.",
            RECEPTIVE_FIELD_COLUMN,
        ], rule=""),
        table(["Layer", "Output", "Receptive field r", "Field (size, jump, start)"], rows),
        f"Closed form: {closed}, so the stack sees a {size}x{size} window of its input.",
    ]
    if stride == 1:
        single = size * size * channels * channels
        lines.append(
            f"One {size}x{size} convolution sees the same window. With {channels} channels in and out, the stack has "
            f"{layers}*({kernel}*{kernel}*{channels})*{channels} = {layers * kernel * kernel * channels**2:,} weights "
            f"and one {size}x{size} convolution has ({size}*{size}*{channels})*{channels} = {single:,}; "
            f"the stack also has {layers - 1} more non-linearities (Simonyan and Zisserman 2015, Section 2.3)."
        )
    return "\n\n".join(lines) + "\n"
