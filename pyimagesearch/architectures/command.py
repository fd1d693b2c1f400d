"""Tables of activations, parameters, multiply-adds and receptive fields for CNN architectures.

  python -m pyimagesearch.architectures alexnet
  python -m pyimagesearch.architectures vgg19 --format json
  python -m pyimagesearch.architectures inception --input 32x32x256 --n1x1 128 --n3x3 192 --n5x5 96
  python -m pyimagesearch.architectures lenet5 --format csv
  python -m pyimagesearch.architectures receptive-field --layers 3 --kernel 5

Operations are counted as multiply-adds (MACs); FLOPs = 2 x MACs. Every run
writes <command>.md, <command>.json, <command>.csv and <command>.config.json
into --output and prints the --format one.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.cli import HelpFormatter, positive_int
from pyimagesearch.core.outputs import prepare_dir, write_csv, write_json, write_text
from pyimagesearch.architectures.networks import (
    ALEXNET_INPUT,
    INCEPTION_INPUT,
    LENET5_INPUT,
    VGG19_INPUT,
    alexnet,
    convolution_stack,
    inception_naive,
    inception_reduction,
    inception_saving,
    lenet5,
    vgg19,
)
from pyimagesearch.architectures.receptive_field import check_stack, stacked_size_strided
from pyimagesearch.architectures.report import (
    CSV_FIELDS,
    alexnet_markdown,
    csv_rows,
    inception_markdown,
    network_markdown,
    receptive_field_markdown,
    vgg19_markdown,
)

DEFAULT_OUTPUT = "output/architectures"
SUFFIXES = {"markdown": ".md", "json": ".json", "csv": ".csv"}


def input_shape(text: str) -> tuple[int, ...]:
    """argparse type: ``"HxWxC"`` such as ``224x224x3``; sizes are checked by the network's first layer."""
    try:
        shape = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape HxWxC such as 224x224x3")
    return shape


def _text(shape) -> str:
    return "x".join(map(str, shape))


def build_parser() -> argparse.ArgumentParser:
    """One sub-command per network; --format and --output are shared by all of them."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--format", choices=tuple(SUFFIXES), default="markdown", help="what to print (all three formats are written to --output)"
    )
    common.add_argument("--output", default=DEFAULT_OUTPUT, help="folder for the .md, .json, .csv and .config.json files")

    parser = argparse.ArgumentParser(
        prog="python -m pyimagesearch.architectures", description=__doc__, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(REPORTS) + "}")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], formatter_class=HelpFormatter, help=help, description=help)

    sub = command("alexnet", "AlexNet on two GPUs (groups=2) layer by layer, compared with one GPU")
    sub.add_argument(
        "--input", type=input_shape, default=_text(ALEXNET_INPUT), help="input HxWxC; the paper's 224x224x3 gives no whole conv1 size"
    )

    sub = command("vgg19", "VGG19 (configuration E) in the layout of the task's Table 1")
    sub.add_argument("--input", type=input_shape, default=_text(VGG19_INPUT), help="input HxWxC")

    sub = command("inception", "naive and dimension-reduction Inception modules and the saving")
    sub.add_argument("--input", type=input_shape, default=_text(INCEPTION_INPUT), help="the previous layer HxWxC")
    sub.add_argument("--n1x1", type=int, default=128, help="filters of the 1x1 branch")
    sub.add_argument("--n3x3", type=int, default=192, help="filters of the 3x3 convolution")
    sub.add_argument("--n5x5", type=int, default=96, help="filters of the 5x5 convolution")
    sub.add_argument("--n3x3-reduce", type=int, default=64, help="1x1 filters before the 3x3 (reduction module)")
    sub.add_argument("--n5x5-reduce", type=int, default=64, help="1x1 filters before the 5x5 (reduction module)")
    sub.add_argument("--pool-proj", type=int, default=64, help="1x1 filters after the max pooling (reduction module)")

    sub = command("lenet5", "the LeNet-5 of train_lenet.py")
    sub.add_argument("--input", type=input_shape, default=_text(LENET5_INPUT), help="input HxWxC")

    sub = command("receptive-field", "receptive field of N stacked FxF convolutions and its closed form")
    sub.add_argument("--layers", type=positive_int, default=3, help="N, the number of stacked convolutions")
    sub.add_argument("--kernel", type=int, default=5, help="F, the kernel size of each convolution")
    sub.add_argument("--stride", type=int, default=1, help="stride S of each convolution")
    sub.add_argument("--channels", type=int, default=64, help="channels in and out of each convolution (parameter comparison)")
    return parser


def _alexnet(args):
    two_gpus, single_gpu = alexnet(args.input, two_gpus=True), alexnet(args.input, two_gpus=False)
    payload = {**two_gpus.to_dict(), "single_gpu": single_gpu.to_dict()}
    return alexnet_markdown(two_gpus, single_gpu), payload, csv_rows(two_gpus) + csv_rows(single_gpu)


def _vgg19(args):
    network = vgg19(args.input)
    return vgg19_markdown(network), network.to_dict(), csv_rows(network)


def _inception(args):
    naive = inception_naive(args.input, args.n1x1, args.n3x3, args.n5x5)
    reduction = inception_reduction(
        args.input, args.n1x1, args.n3x3, args.n5x5, args.n3x3_reduce, args.n5x5_reduce, args.pool_proj
    )
    saving = inception_saving(naive, reduction)
    payload = {"naive": naive.to_dict(), "reduction": reduction.to_dict(), "saving": saving}
    return inception_markdown(naive, reduction, saving), payload, csv_rows(naive) + csv_rows(reduction)


def _lenet5(args):
    network = lenet5(args.input)
    notes = [
        "The model of train_lenet.py (pyimagesearch.lenet.build_lenet5), layer for layer.",
        "ReLU activations and the softmax have no parameters and no multiply-adds in this count.",
    ]
    markdown = network_markdown("LeNet-5 (LeCun et al. 1998, adapted to 28x28 inputs)", network, notes)
    return markdown, network.to_dict(), csv_rows(network)


def _receptive_field(args):
    check_stack(args.layers, args.kernel, args.stride)
    stack = convolution_stack(args.layers, args.kernel, args.stride, args.channels)
    closed_form = {
        "layers": args.layers,
        "kernel": args.kernel,
        "stride": args.stride,
        "size": stacked_size_strided(args.layers, args.kernel, args.stride),
        "formula": "N*F - N + 1" if args.stride == 1 else "1 + (F - 1)*(S^N - 1)/(S - 1)",
    }
    markdown = receptive_field_markdown(stack, args.layers, args.kernel, args.stride)
    return markdown, {**stack.to_dict(), "closed_form": closed_form}, csv_rows(stack)


REPORTS = {
    "alexnet": _alexnet,
    "vgg19": _vgg19,
    "inception": _inception,
    "lenet5": _lenet5,
    "receptive-field": _receptive_field,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    markdown, payload, rows = REPORTS[args.command](args)
    folder = prepare_dir(args.output)
    stem = Path(folder) / args.command
    write_text(stem.with_suffix(".md"), markdown)
    write_json(stem.with_suffix(".json"), payload)
    write_csv(stem.with_suffix(".csv"), rows, CSV_FIELDS)
    # outputs.write_config would import TensorFlow just to record its version; nothing here depends on it.
    write_json(stem.with_suffix(".config.json"), {**vars(args), "environment": {"python": platform.python_version()}})
    print(stem.with_suffix(SUFFIXES[args.format]).read_text(encoding="utf-8"), end="")
    return 0
