"""The architecture calculator without any framework: known numbers, brute-force receptive fields, errors, CLI."""

import json
import random
import re
import subprocess
import sys
from math import ceil
from pathlib import Path

import pytest

from pyimagesearch.architectures import (
    Conv2D,
    Dense,
    Flatten,
    Parallel,
    Pool2D,
    alexnet,
    convolution_macs,
    convolution_stack,
    inception_naive,
    inception_reduction,
    inception_saving,
    lenet5,
    stacked_size,
    stacked_size_strided,
    vgg19,
    walk,
)
from pyimagesearch.architectures.command import main
from pyimagesearch.architectures.report import bytes_text, sum_text
from pyimagesearch.architectures.errors import LayerError
from pyimagesearch.core.cli import UserError, run
from pyimagesearch.core.run import completion
from pyimagesearch.lenet.model import LENET5_PARAMS

ROOT = Path(__file__).resolve().parents[2]


# --- independent references --------------------------------------------------------------


def conv_macs(out_h, out_w, filters, kernel, in_channels, groups=1):
    """Each output element is one filter applied at one position: k*k*C/g multiply-adds."""
    return out_h * out_w * filters * kernel * kernel * in_channels // groups


def conv_params(kernel, in_channels, filters, groups=1):
    return kernel * kernel * (in_channels // groups) * filters + filters


def window_1d(n, kernel, stride, dilation, padding):
    """Output size and padding before the input along one axis; None if the size is not whole."""
    effective = dilation * (kernel - 1) + 1
    if padding == "same":
        out = ceil(n / stride)
        return out, max((out - 1) * stride + effective - n, 0) // 2
    span = n + 2 * padding - effective
    if span < 0 or span % stride:
        return None
    return span // stride + 1, padding


def brute_force_field(windows, index):
    """Input coordinates (padding included) that reach output unit ``index`` along one axis.

    ``windows`` lists (kernel, stride, dilation, pad_before) from the input up;
    unit o of a layer reads units o*s - p + d*t, t = 0..k-1, of the layer below.
    """
    positions = {index}
    for kernel, stride, dilation, pad in reversed(windows):
        positions = {o * stride - pad + dilation * t for o in positions for t in range(kernel)}
    return positions


# --- the task's numbers ------------------------------------------------------------------


def test_vgg19_matches_the_given_cells_of_table_1():
    network = vgg19()
    cells = {
        "input": (150_528, 0),
        "conv1_1": (3_211_264, 1_728),
        "conv1_2": (3_211_264, 36_864),
        "pool1": (802_816, 0),
        "pool2": (401_408, 0),
        "conv3_2": (802_816, 589_824),
        "conv4_1": (401_408, 1_179_648),
        "conv4_3": (401_408, 2_359_296),
        "fc6": (4096, 7 * 7 * 512 * 4096),
        "fc7": (4096, 16_777_216),
        "fc8": (1000, 4_096_000),
    }
    for name, (activations, weights) in cells.items():
        row = network.row(name)
        assert (row.activations, row.weights) == (activations, weights), name
    assert [row.label for row in network.rows][:5] == ["Input", "CONV3-64", "CONV3-64", "POOL2", "CONV3-128"]
    assert network.totals == {
        "activations": 16_542_184,
        "weights": 143_652_544,
        "biases": 14_696,
        "params": 143_667_240,
        "macs": 19_632_062_464,
    }


def test_vgg19_totals_against_a_loop_over_configuration_e():
    weights = macs = 0
    size, channels = 224, 3
    activations = size * size * channels
    for filters, convolutions in ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4)):
        for _ in range(convolutions):
            weights += 9 * channels * filters
            macs += conv_macs(size, size, filters, 3, channels)
            channels = filters
            activations += size * size * channels
        size //= 2
        activations += size * size * channels
    for n_in, n_out in ((7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)):
        weights += n_in * n_out
        macs += n_in * n_out
        activations += n_out
    totals = vgg19().totals
    assert (totals["weights"], totals["macs"], totals["activations"]) == (weights, macs, activations)


def test_alexnet_two_gpus_and_one_gpu():
    two, one = alexnet(), alexnet(two_gpus=False)
    expected_two = {
        "conv1": conv_params(11, 3, 96),
        "conv2": conv_params(5, 96, 256, groups=2),
        "conv3": conv_params(3, 256, 384),
        "conv4": conv_params(3, 384, 384, groups=2),
        "conv5": conv_params(3, 384, 256, groups=2),
        "fc6": 6 * 6 * 256 * 4096 + 4096,
        "fc7": 4096 * 4096 + 4096,
        "fc8": 4096 * 1000 + 1000,
    }
    assert {row.name: row.params for row in two.rows if row.params} == expected_two
    assert two.totals["params"] == 60_965_224
    assert one.totals["params"] == 62_378_344
    assert one.row("conv2").params == conv_params(5, 96, 256) == 614_656
    assert [two.row(name).output_shape for name in ("conv1", "pool1", "conv2", "pool2", "conv5", "pool5")] == [
        (55, 55, 96), (27, 27, 96), (27, 27, 256), (13, 13, 256), (13, 13, 256), (6, 6, 256),
    ]
    assert two.row("conv2").macs == conv_macs(27, 27, 256, 5, 96, groups=2)
    assert two.row("conv2").calculation == "2*((5*5*48)*128 + 128) = 307,456"
    assert two.row("conv1").calculation == "(11*11*3)*96 + 96 = 34,944"
    assert two.totals["macs"] == 724_406_816
    assert one.totals["macs"] == 1_135_256_096


def test_alexnet_rejects_the_papers_224_input():
    with pytest.raises(LayerError) as caught:
        alexnet((224, 224, 3))
    assert re.match(r"^layer conv1: .*\(224 - 11\)/4 \+ 1 = 54\.25 is not a whole number", caught.value.sentence)


def test_inception_modules_and_saving():
    naive, reduction = inception_naive(), inception_reduction()
    assert naive.rows[-1].output_shape == (32, 32, 128 + 192 + 96 + 256)
    assert reduction.rows[-1].output_shape == (32, 32, 128 + 192 + 96 + 64)
    hw = 32 * 32
    expected_naive = {
        "1x1/conv": hw * 128 * 256,
        "3x3/conv": hw * 192 * 9 * 256,
        "5x5/conv": hw * 96 * 25 * 256,
    }
    expected_reduction = {
        "1x1/conv": hw * 128 * 256,
        "3x3/reduce": hw * 64 * 256,
        "3x3/conv": hw * 192 * 9 * 64,
        "5x5/reduce": hw * 64 * 256,
        "5x5/conv": hw * 96 * 25 * 64,
        "pool/proj": hw * 64 * 256,
    }
    assert {row.name: row.macs for row in naive.rows if row.type == "conv"} == expected_naive
    assert {row.name: row.macs for row in reduction.rows if row.type == "conv"} == expected_reduction
    assert convolution_macs(naive) == 1_115_684_864
    assert convolution_macs(reduction) == 354_418_688
    saving = inception_saving(naive, reduction)
    assert saving["saved_macs"] == 761_266_176
    assert saving["ratio"] == pytest.approx(1_115_684_864 / 354_418_688)
    assert saving["percent"] == pytest.approx(68.233, abs=1e-3)


def test_inception_filter_counts_are_parameters():
    naive = inception_naive((16, 16, 64), n1x1=8, n3x3=16, n5x5=4)
    assert naive.rows[-1].output_shape == (16, 16, 8 + 16 + 4 + 64)
    assert naive.row("5x5/conv").params == conv_params(5, 64, 4)
    reduction = inception_reduction((16, 16, 64), 8, 16, 4, n3x3_reduce=2, n5x5_reduce=3, pool_proj=5)
    assert reduction.rows[-1].output_shape == (16, 16, 8 + 16 + 4 + 5)
    assert reduction.row("5x5/conv").macs == conv_macs(16, 16, 4, 5, 3)


def test_lenet5_matches_the_numbers_in_lenet_py():
    network = lenet5()
    assert network.totals["params"] == LENET5_PARAMS
    assert network.totals["macs"] == 416_520
    assert [row.name for row in network.rows] == ["input", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2", "output"]


# --- receptive fields ------------------------------------------------------------------------


def random_stack(rng):
    """A random stack of windows (convolution or pooling) that gives whole output sizes."""
    while True:
        height, width = rng.randint(8, 60), rng.randint(8, 60)
        layers, windows, sizes = [], [], [(height, width)]
        ok = True
        for i in range(rng.randint(1, 5)):
            kernel, stride = rng.randint(1, 5), rng.randint(1, 3)
            dilation = rng.randint(1, 3) if rng.random() < 0.5 else 1
            padding = rng.choice(["same", 0, 1, 2])
            is_pool = rng.random() < 0.3
            if is_pool:
                dilation = 1
                kind = rng.choice(["max", "avg"])
                layers.append(Pool2D(f"pool{i}", kernel, stride=stride, padding=padding or "valid", kind=kind))
            else:
                layers.append(Conv2D(f"conv{i}", rng.randint(1, 4), kernel, stride=stride, padding=padding, dilation=dilation))
            axes = [window_1d(n, kernel, stride, dilation, padding) for n in sizes[-1]]
            if None in axes:
                ok = False
                break
            sizes.append(tuple(out for out, _ in axes))
            windows.append([(kernel, stride, dilation, pad) for _, pad in axes])
        if ok:
            return (height, width, 2), layers, windows, sizes


def test_receptive_fields_against_brute_force_on_random_stacks():
    rng = random.Random(0)
    for _ in range(200):
        shape, layers, windows, sizes = random_stack(rng)
        network = walk("random", shape, layers)
        assert [row.output_shape[:2] for row in network.rows] == sizes
        field = network.rows[-1].receptive_field
        for axis in range(2):
            axis_windows = [layer[axis] for layer in windows]
            last = sizes[-1][axis] - 1
            for index in sorted({0, last // 2, last}):
                reached = brute_force_field(axis_windows, index)
                centre = field.start[axis] + index * field.jump[axis]
                assert min(reached) == centre - (field.size[axis] - 1) / 2
                assert max(reached) == centre + (field.size[axis] - 1) / 2
            if last > 0:
                assert min(brute_force_field(axis_windows, 1)) - min(brute_force_field(axis_windows, 0)) == field.jump[axis]


def test_receptive_field_of_a_concatenation_is_the_widest_branch():
    block = Parallel("concat", {
        "a": [Conv2D("conv", 4, 3, padding="same"), Conv2D("conv2", 4, 3, padding="same")],
        "b": [Conv2D("conv", 4, 7, padding="same")],
        "c": [Pool2D("max", 3, stride=1, padding="same")],
    })
    network = walk("block", (20, 20, 3), [block])
    concat = network.rows[-1]
    assert concat.output_shape == (20, 20, 4 + 4 + 3)
    reached = set()
    for branch in ([(3, 1, 1, 1), (3, 1, 1, 1)], [(7, 1, 1, 3)], [(3, 1, 1, 1)]):
        reached |= brute_force_field(branch, 10)
    assert concat.receptive_field.size == (max(reached) - min(reached) + 1,) * 2 == (7, 7)
    assert concat.receptive_field.start[0] + 10 == (max(reached) + min(reached)) / 2


def test_nested_blocks_and_empty_branches():
    inner = Parallel("inner", {"x": [Conv2D("conv", 2, 1)], "skip": []})
    outer = Parallel("outer", {"a": [inner], "b": [Pool2D("pool", 3, stride=1, padding="same")]})
    network = walk("nested", (8, 8, 3), [outer])
    assert [(row.name, row.branch, row.output_shape) for row in network.rows] == [
        ("input", None, (8, 8, 3)),
        ("a/x/conv", "x", (8, 8, 2)),
        ("a/inner", "a", (8, 8, 2 + 3)),
        ("b/pool", "b", (8, 8, 3)),
        ("outer", None, (8, 8, 5 + 3)),
    ]
    assert network.totals["activations"] == 8 * 8 * (3 + 2 + 3)


@pytest.mark.parametrize("layers, kernel", [(1, 3), (2, 3), (3, 3), (3, 5), (4, 7), (6, 2)])
def test_stacked_closed_form_against_recurrence_and_brute_force(layers, kernel):
    size = stacked_size(layers, kernel)
    assert size == layers * kernel - layers + 1
    stack = convolution_stack(layers, kernel, channels=1)
    assert stack.input_shape[:2] == (size, size)
    assert stack.rows[-1].output_shape == (1, 1, 1)
    assert stack.rows[-1].receptive_field.size == (size, size)
    reached = brute_force_field([(kernel, 1, 1, 0)] * layers, 0)
    assert reached == set(range(size))


def test_three_5x5_convolutions_see_13x13():
    assert stacked_size(3, 5) == 13
    assert (stacked_size(2, 3), stacked_size(3, 3)) == (5, 7)


@pytest.mark.parametrize("layers, kernel, stride", [(2, 3, 2), (3, 3, 2), (3, 5, 3), (4, 2, 2)])
def test_strided_closed_form(layers, kernel, stride):
    size = stacked_size_strided(layers, kernel, stride)
    stack = convolution_stack(layers, kernel, stride=stride, channels=1)
    assert stack.rows[-1].output_shape == (1, 1, 1)
    assert stack.rows[-1].receptive_field.size == (size, size)
    assert brute_force_field([(kernel, stride, 1, 0)] * layers, 0) == set(range(size))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layers, shape, message",
    [
        ([Conv2D("conv1", 8, 7)], (5, 5, 3), r"^layer conv1: its kernel of 7 pixels is larger than its input height of 5"),
        ([Conv2D("conv1", 8, 3, dilation=3)], (6, 9, 3), r"^layer conv1: its kernel of 7 pixels is larger than its input height of 6"),
        ([Conv2D("conv1", 8, 3, stride=2)], (8, 8, 3),
         r"^layer conv1: its output height \(8 - 3\)/2 \+ 1 = 3\.5 is not a whole number"),
        ([Conv2D("conv1", -4, 3)], (8, 8, 3), r"^layer conv1: `filters` must be a positive integer, received filters=-4\.$"),
        ([Conv2D("conv1", 4, 0)], (8, 8, 3), r"^layer conv1: `kernel` must be a positive integer"),
        ([Conv2D("conv1", 4, 3, padding=-1)], (8, 8, 3), r"^layer conv1: `padding` must be"),
        ([Flatten("flat"), Dense("fc", -10)], (8, 8, 3), r"^layer fc: `units` must be a positive integer, received units=-10\.$"),
        ([Conv2D("conv2", 6, 3, groups=4)], (8, 8, 6), r"^layer conv2: `groups`=4 must divide"),
        ([Flatten("flat"), Conv2D("conv9", 4, 3)], (8, 8, 3), r"^layer conv9: a convolution needs an HxWxC feature map"),
        ([], (0, 8, 3), r"^layer input: "),
        ([Parallel("mix", {"a": [Conv2D("c", 2, 3)], "b": [Conv2D("c", 2, 1)]})], (8, 8, 3),
         r"^layer mix: the branches end in different spatial sizes \(a 6x6x2, b 8x8x2\)"),
    ],
)
def test_bad_layers_name_themselves_in_one_sentence(layers, shape, message):
    # Library code raises ValueError (Keras-style text), never the command line's UserError; the command
    # line prints its `sentence`.
    with pytest.raises(ValueError) as caught:
        walk("bad", shape, layers)
    assert isinstance(caught.value, LayerError) and not isinstance(caught.value, UserError)
    text = caught.value.sentence
    assert re.match(message, text), text
    assert text.count(". ") == 0 and text.endswith(".") and "\n" not in text
    keras_style = str(caught.value)
    assert keras_style.startswith(f"Layer {caught.value.layer}: ") and "\n" not in keras_style
    if caught.value.received:
        assert f". Received: {caught.value.received}." in keras_style


def test_pool_stride_one_with_whole_output_passes_where_the_stride_two_one_fails():
    assert walk("ok", (8, 8, 3), [Conv2D("c", 8, 3), Pool2D("pool1", 2)]).rows[-1].output_shape == (3, 3, 8)
    with pytest.raises(LayerError) as caught:
        walk("bad", (9, 9, 3), [Conv2D("c", 8, 3), Pool2D("pool1", 2)])
    assert re.match(r"^layer pool1: its output height \(7 - 2\)/2 \+ 1 = 3\.5", caught.value.sentence)
    assert str(caught.value) == ("Layer pool1: its output height (7 - 2)/2 + 1 = 3.5 is not a whole number. "
                                 "Change the input size or use 'same' padding.")


# --- reports and the command line ---------------------------------------------------------


def test_sum_text_groups_runs_of_equal_terms():
    assert sum_text([0, 64, 64, 128, 0, 128, 1000]) == "2*64 + 2*128 + 1,000 = 1,384"
    assert sum_text([0, 5, 0]) == "5"
    assert sum_text([0, 0]) == "0"
    assert [bytes_text(n) for n in (512, 35_512, 66_168_736, 3 * 2**30)] == ["512 bytes", "34.7 KiB", "63.1 MiB", "3.0 GiB"]


def run_cli(argv, capsys):
    status = run(main, argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_vgg19_markdown_has_table_1_and_files(tmp_path, capsys):
    status, out, _ = run_cli(["vgg19", "--output", str(tmp_path)], capsys)
    assert status == 0
    assert "| Layer | Number of Activations (Memory) | Parameters (Compute) |" in out
    assert "| Input | 224*224*3 = 150,528 | 0 |" in out
    assert "| CONV3-64 | 224*224*64 = 3,211,264 | (3*3*3)*64 = 1,728 |" in out
    assert "| CONV3-512 | 28*28*512 = 401,408 | (3*3*256)*512 = 1,179,648 |" in out
    assert "| FC | 4,096 | 4096*4096 = 16,777,216 |" in out
    assert "| TOTAL | 16,542,184 | 143,652,544 |" in out
    assert "143,652,544 + 14,696 = 143,667,240" in out
    assert "FLOPs = 2*19,632,062,464 = 39,264,124,928" in out
    folder = tmp_path / "vgg19"
    assert (folder / "vgg19.md").read_text() == out
    assert {p.name for p in folder.iterdir()} == {"vgg19.md", "vgg19.json", "vgg19.csv", "config.json", "complete.json",
                                                  ".lock"}
    assert json.loads((folder / "config.json").read_text())["input"] == [224, 224, 3]
    assert completion(folder)["kind"] == "architecture-vgg19"


def test_cli_json_has_the_documented_keys(tmp_path, capsys):
    status, out, _ = run_cli(["lenet5", "--format", "json", "--output", str(tmp_path)], capsys)
    assert status == 0
    payload = json.loads(out)
    assert set(payload) == {"network", "layers", "totals"}
    assert set(payload["totals"]) == {"activations", "weights", "biases", "params", "macs"}
    keys = {"name", "type", "output_shape", "activations", "weights", "biases", "params", "macs", "receptive_field", "calculation"}
    assert all(set(layer) == keys for layer in payload["layers"])
    fc1 = payload["layers"][6]
    assert fc1["calculation"] == "400*120 + 120 = 48,120"
    assert fc1["receptive_field"] == {"size": [32, 32], "jump": [4, 4], "start": [13.5, 13.5]}
    assert payload["totals"]["params"] == LENET5_PARAMS
    assert json.loads((tmp_path / "lenet5" / "lenet5.json").read_text()) == payload


def test_cli_inception_json_and_csv(tmp_path, capsys):
    status, out, _ = run_cli(["inception", "--format", "json", "--output", str(tmp_path)], capsys)
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"naive", "reduction", "saving", "filters"}
    assert payload["filters"]["preset"] == "homework" and "not GoogLeNet's" in payload["filters"]["source"]
    assert payload["naive"]["layers"][-1]["output_shape"] == [32, 32, 672]
    assert payload["reduction"]["totals"]["macs"] == 354_418_688
    assert payload["saving"]["saved_macs"] == 761_266_176
    argv = ["inception", "--format", "csv", "--input", "16x16x64", "--n3x3", "32", "--output", str(tmp_path / "csv")]
    status, out, _ = run_cli(argv, capsys)
    lines = out.splitlines()
    assert lines[0].startswith("network,name,type,output_shape,activations,weights,biases,params,macs")
    totals = [line for line in lines if ",total," in line]
    assert [line.split(",")[0] for line in totals] == ["inception-naive", "inception-reduction"]
    assert any(line.startswith("inception-naive,3x3/conv,conv,16x16x32,") for line in lines)


def test_cli_inception_markdown_shows_every_figure(tmp_path, capsys):
    _, out, _ = run_cli(["inception", "--output", str(tmp_path)], capsys)
    for text in [
        "32x32x(128 + 192 + 96 + 256) = 32x32x672",
        "32x32x(128 + 192 + 96 + 64) = 32x32x480",
        "32*32*192*(3*3*256) = 452,984,832",
        "| 5x5 | 16,777,216 + 157,286,400 = 174,063,616 |",
        "33,554,432 + 452,984,832 + 629,145,600 + 0 = 1,115,684,864",
        "1,115,684,864 / 354,418,688 = 3.15",
        "1,115,684,864 - 354,418,688 = 761,266,176",
        "= 68.2% of the naive module",
    ]:
        assert text in out, text


def test_cli_alexnet_markdown_compares_one_gpu(tmp_path, capsys):
    _, out, _ = run_cli(["alexnet", "--output", str(tmp_path)], capsys)
    assert "| conv2 | 2*((5*5*48)*128 + 128) = 307,456 | (5*5*96)*256 + 256 = 614,656 |" in out
    assert "62,378,344 - 60,965,224 = 1,413,120 more on one GPU" in out
    payload = json.loads((tmp_path / "alexnet" / "alexnet.json").read_text())
    assert payload["totals"]["params"] == 60_965_224
    assert payload["single_gpu"]["totals"]["params"] == 62_378_344


def test_fields_larger_than_the_input_are_named_and_explained(tmp_path, capsys):
    _, out, _ = run_cli(["lenet5", "--output", str(tmp_path)], capsys)
    assert "| fc1 |" in out and "32x32, jump 4, start 13.5 |" in out
    assert "- fc1, fc2, output: fields larger than the 28x28 input." in out
    assert "start: the input coordinate" in out
    _, out, _ = run_cli(["vgg19", "--output", str(tmp_path)], capsys)
    assert "- conv5_4, pool5, fc6, fc7, fc8: fields larger than the 224x224 input." in out


def test_cli_receptive_field(tmp_path, capsys):
    status, out, _ = run_cli(["receptive-field", "--layers", "3", "--kernel", "5", "--output", str(tmp_path)], capsys)
    assert status == 0
    assert "N*F - N + 1 = 3*5 - 3 + 1 = 13" in out
    assert "| conv3 | 1x1x64 | 9 + (5 - 1)*1 = 13 | 13x13, jump 1, start 6 |" in out
    assert "3*(5*5*64)*64 = 307,200 weights" in out and "(13*13*64)*64 = 692,224" in out
    assert "multiply-adds" not in out.lower() and "activations" not in out.lower()  # nothing of it is counted here
    assert "start: the input coordinate of the centre of the first (top-left) unit's window" in out
    argv = ["receptive-field", "--layers", "3", "--kernel", "3", "--stride", "2", "--format", "json", "--output",
            str(tmp_path / "strided")]
    _, out, _ = run_cli(argv, capsys)
    assert json.loads(out)["closed_form"]["size"] == 15


@pytest.mark.parametrize(
    "argv, message",
    [
        (["alexnet", "--input", "224x224x3"], "error: layer conv1: its output height (224 - 11)/4 + 1 = 54.25 is not a whole number"),
        (["inception", "--n5x5", "-3"], "error: layer 5x5/conv: `filters` must be a positive integer, received filters=-3."),
        (["lenet5", "--input", "4x4x1"], "error: layer conv2: its kernel of 5 pixels is larger than its input height of 2"),
        (["receptive-field", "--kernel", "-5"], "error: layer conv1: `kernel` must be a positive integer, received kernel=-5."),
    ],
)
def test_cli_bad_input_exits_2_with_one_sentence(tmp_path, capsys, argv, message):
    status, out, err = run_cli([*argv, "--output", str(tmp_path / "out")], capsys)
    assert status == 2
    assert out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_cli_runs_as_a_module_without_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from pyimagesearch.core.cli import run\n"
        "from pyimagesearch.architectures.command import main\n"
        f"status = run(main, ['alexnet', '--format', 'csv', '--output', {str(tmp_path)!r}])\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules]\n"
        "print(status, heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "0 []"
    result = subprocess.run(
        [sys.executable, "-m", "pyimagesearch.architectures", "vgg19", "--input", "100x100x3", "--output", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: layer pool3: its output height (25 - 2)/2 + 1 = 12.5 is not a whole number; "
        "change the input size or use 'same' padding.\n"
    )


@pytest.mark.parametrize("argv, message", [
    (["--layers", "100000", "--kernel", "3", "--stride", "2"],
     "--layers 100000 is more than 10,000 convolutions, too many for a layer table; lower --layers"),
    (["--layers", "3000", "--kernel", "3", "--stride", "2"],
     "3000 stacked 3x3 convolutions of stride 2 see an input more than 2**53 pixels wide, beyond exact arithmetic; "
     "lower --layers or --stride"),
    (["--layers", "53", "--kernel", "3", "--stride", "2"], "53 stacked 3x3 convolutions of stride 2"),
    (["--layers", "1", "--kernel", str(2**53 + 1), "--stride", "1"],
     f"1 stacked {2**53 + 1}x{2**53 + 1} convolution of stride 1 sees an input more than 2**53 pixels wide, beyond "
     "exact arithmetic; lower --kernel"),
])
def test_receptive_field_stacks_that_overflow_are_refused_before_anything_is_written(argv, message, tmp_path, capsys):
    assert run(main, ["receptive-field", *argv, "--output", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {message}") and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_the_deepest_exact_strided_stack_is_still_computed(tmp_path):
    # 1 + 2 * (2**52 - 1) = 2**53 - 1: the widest input below the limit.
    assert run(main, ["receptive-field", "--layers", "52", "--kernel", "3", "--stride", "2", "--format", "json",
                      "--output", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "receptive-field" / "receptive-field.json").read_text())["closed_form"]["size"] == 2**53 - 1
