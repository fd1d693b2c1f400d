"""Turning walked networks into Markdown tables, JSON objects and CSV rows (``pages`` builds each network's page).

Every number in the Markdown is shown as the calculation that gives it.
"""

from __future__ import annotations

from pyimagesearch.architectures.layers import Network

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
