"""Turning walked networks into Markdown tables, JSON objects and CSV rows.

Every number in the Markdown is shown as the calculation that gives it.
"""

from __future__ import annotations

from pyimagesearch.architectures.layers import Network
from pyimagesearch.architectures.networks import convolution_macs
from pyimagesearch.architectures.receptive_field import stacked_size, stacked_size_strided

COUNTING_RULE = (
    "Operations are counted as multiply-adds (MACs): one weight times one input value, added to a sum; "
    "FLOPs = 2 x MACs. Bias additions, activation functions, normalisation and pooling are not counted as "
    "operations. Activations are the elements of a layer's output; the totals include the input image, and "
    "flatten and concatenation add none."
)

RECEPTIVE_FIELD_COLUMN = (
    "Receptive field r x r: the window of input pixels that one unit sees; jump j: the distance in input pixels "
    "between the windows of two neighbouring units; start: the input coordinate of the centre of the first "
    "(top-left) unit's window, where input pixel i has its centre at i (padding can make it negative, and a window "
    "of even size puts it between two pixels, at .5)."
)

BYTES_PER_ACTIVATION = 4  # float32

CSV_FIELDS = [
    "network", "name", "type", "output_shape", "activations", "weights", "biases", "params", "macs",
    "receptive_field_size", "receptive_field_jump", "receptive_field_start", "calculation",
]


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown pipe table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def sum_text(values: list[int]) -> str:
    """``"2*64 + 2*128 + 1,000 = 1,384"``: zeros left out, runs of equal neighbours written as count*value."""
    runs: list[list[int]] = []
    for value in values:
        if not value:
            continue
        if runs and runs[-1][0] == value:
            runs[-1][1] += 1
        else:
            runs.append([value, 1])
    if not runs:
        return "0"
    terms = [f"{value:,}" if count == 1 else f"{count}*{value:,}" for value, count in runs]
    if len(runs) == 1 and runs[0][1] == 1:
        return terms[0]
    return " + ".join(terms) + f" = {sum(values):,}"


def bytes_text(count: int) -> str:
    """``"63.1 MiB"``, ``"34.7 KiB"``: binary units, one decimal."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def shape_text(shape) -> str:
    return "x".join(map(str, shape))


def layer_table(network: Network) -> str:
    """Every layer: operation, output size, activations, parameters, MACs and receptive field, with calculations."""
    rows = [
        [
            f"{row.name}", row.description, row.size_calculation, shape_text(row.output_shape),
            row.activations_calculation, row.calculation, row.macs_calculation, row.receptive_field.describe(),
        ]
        for row in network.rows
    ]
    totals = network.totals
    rows.append(["**total**", "", "", "", f"{totals['activations']:,}", f"{totals['params']:,}", f"{totals['macs']:,}", ""])
    headers = [
        "Layer", "Operation", "Output size", "Output", "Activations", "Parameters (weights + biases)", "Multiply-adds",
        "Receptive field",
    ]
    return table(headers, rows) + "\n\n" + receptive_field_notes(network)


def receptive_field_notes(network: Network) -> str:
    """What the receptive-field column means, and why some fields are larger than the input."""
    height, width = network.input_shape[:2]
    larger = [row.name for row in network.rows
              if row.receptive_field.size[0] > height or row.receptive_field.size[1] > width]
    notes = [RECEPTIVE_FIELD_COLUMN]
    if larger:
        notes.append(
            f"{', '.join(larger)}: fields larger than the {height}x{width} input. The recurrence measures a window "
            "that includes the zero padding around the image, where there are no pixels; a fully connected layer's "
            "field spans the windows of all the units it connects to, so each of its units sees every input pixel."
        )
    return "\n".join(f"- {note}" for note in notes)


def totals_text(network: Network) -> str:
    """The totals as explicit sums: activations and memory, weights + biases, MACs and FLOPs."""
    totals = network.totals
    counted = [row.activations for row in network.rows if row.type not in ("flatten", "concat")]
    return "\n".join(
        [
            f"- Activations: {sum_text(counted)}; at {BYTES_PER_ACTIVATION} bytes each (float32) "
            f"{totals['activations']:,}*{BYTES_PER_ACTIVATION} = {totals['activations'] * BYTES_PER_ACTIVATION:,} bytes "
            f"= {bytes_text(totals['activations'] * BYTES_PER_ACTIVATION)} per image for the forward pass.",
            f"- Weights: {sum_text([row.weights for row in network.rows])}.",
            f"- Biases: {sum_text([row.biases for row in network.rows])}.",
            f"- Parameters: weights + biases = {totals['weights']:,} + {totals['biases']:,} = {totals['params']:,}.",
            f"- Multiply-adds: {sum_text([row.macs for row in network.rows])}; "
            f"FLOPs = 2 x MACs = 2*{totals['macs']:,} = {2 * totals['macs']:,}.",
        ]
    )


def header(title: str, network: Network, notes: list[str] = (), rule: str = COUNTING_RULE) -> str:
    lines = [f"# {title}", "", f"Input {shape_text(network.input_shape)}. {rule}".rstrip()]
    lines += ["", *[f"- {note}" for note in notes]] if notes else []
    return "\n".join(lines)


def network_markdown(title: str, network: Network, notes: list[str] = ()) -> str:
    """A plain report: header, the layer table and the totals."""
    parts = [header(title, network, notes), "## Layer by layer", layer_table(network), "## Totals", totals_text(network)]
    return "\n\n".join(parts) + "\n"


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


def inception_markdown(naive: Network, reduction: Network, saving: dict) -> str:
    """Both Inception modules branch by branch and the saving of the dimension reductions."""
    n, r = saving["naive_macs"], saving["reduction_macs"]
    lines = [
        header("Inception module (Szegedy et al. 2015, Figure 2)", naive, [
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


def csv_rows(network: Network) -> list[dict]:
    """One dict per layer plus a ``total`` row, for ``outputs.write_csv`` with ``CSV_FIELDS``."""
    rows = []
    for row in network.rows:
        field = row.receptive_field
        rows.append({
            **{key: value for key, value in row.to_dict().items() if key not in ("output_shape", "receptive_field")},
            "network": network.name,
            "output_shape": shape_text(row.output_shape),
            "receptive_field_size": shape_text(field.size),
            "receptive_field_jump": shape_text(field.jump),
            "receptive_field_start": shape_text(field.to_dict()["start"]),
        })
    rows.append({"network": network.name, "name": "total", **network.totals})
    return rows
