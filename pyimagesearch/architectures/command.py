"""Tables of activations, parameters, multiply-adds and receptive fields for CNN architectures.

  python -m pyimagesearch.architectures alexnet
  python -m pyimagesearch.architectures vgg19 --format json
  python -m pyimagesearch.architectures inception --input 32x32x256 --n1x1 128 --n3x3 192 --n5x5 96
  python -m pyimagesearch.architectures inception --filters googlenet-3a
  python -m pyimagesearch.architectures lenet5 --format csv
  python -m pyimagesearch.architectures receptive-field --layers 3 --kernel 5

Operations are counted as multiply-adds (MACs); FLOPs = 2 x MACs. Every run
writes <command>.md, <command>.json, <command>.csv, config.json and, last,
complete.json into its own folder <--output>/<command>/ and prints the
--format one, then (on stderr, so that the printed JSON or CSV stays whole)
the folder's absolute path and the files in it. The same settings again keep
a finished folder as it is; other settings are refused unless --overwrite is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from pyimagesearch.core.cli import ArgumentParser, HelpFormatter, UserError, positive_int
from pyimagesearch.core.outputs import prepare_dir, write_csv, write_json, write_text
from pyimagesearch.core.run import RunFolder, check_output_path
from pyimagesearch.core.wording import nouns
from pyimagesearch.architectures.errors import LayerError
from pyimagesearch.architectures.networks import (
    ALEXNET_INPUT,
    INCEPTION_FILTERS,
    INCEPTION_INPUTS,
    INCEPTION_SOURCES,
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
from pyimagesearch.architectures.pages import (
    alexnet_markdown, inception_markdown, receptive_field_markdown, vgg19_markdown,
)
from pyimagesearch.architectures.receptive_field import MAX_LAYERS, MAX_SIZE, stacked_size_strided
from pyimagesearch.architectures.report import CSV_FIELDS, csv_rows, network_markdown

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
    common.add_argument("--output", default=DEFAULT_OUTPUT,
                        help="parent folder: each calculation writes its .md, .json, .csv, config.json and "
                             "complete.json into <output>/<command>/")
    common.add_argument("--overwrite", action="store_true",
                        help="replace a calculation of other settings in its folder (otherwise it is kept and the "
                             "run refused)")

    parser = ArgumentParser(
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
    sub.add_argument("--filters", choices=tuple(INCEPTION_FILTERS), default="homework",
                     help="filter counts and default input: homework (the defaults below, at 32x32x256: "
                          "the counts this project uses for the homework's Question 2.4, not GoogLeNet's) or "
                          "googlenet-3a (GoogLeNet's inception (3a), Szegedy et al. Table 1: 1x1 64; 3x3 reduce 96 -> "
                          "128; 5x5 reduce 16 -> 32; pool proj 32; input 28x28x192)")
    sub.add_argument("--input", type=input_shape, default=None,
                     help="the previous layer HxWxC (default: 32x32x256, or 28x28x192 with --filters googlenet-3a)")
    homework = INCEPTION_FILTERS["homework"]
    for flag, what in (("n1x1", "filters of the 1x1 branch"), ("n3x3", "filters of the 3x3 convolution"),
                       ("n5x5", "filters of the 5x5 convolution"),
                       ("n3x3_reduce", "1x1 filters before the 3x3 (reduction module)"),
                       ("n5x5_reduce", "1x1 filters before the 5x5 (reduction module)"),
                       ("pool_proj", "1x1 filters after the max pooling (reduction module)")):
        sub.add_argument(f"--{flag.replace('_', '-')}", type=int, default=None,
                         help=f"{what} (default {homework[flag]}; not with --filters googlenet-3a)")

    sub = command("lenet5", "the LeNet-5 of train_lenet.py")
    sub.add_argument("--input", type=input_shape, default=_text(LENET5_INPUT), help="input HxWxC")

    sub = command("receptive-field", "receptive field of N stacked FxF convolutions and its closed form")
    sub.add_argument("--layers", type=positive_int, default=3,
                     help=f"N, the number of stacked convolutions (at most {MAX_LAYERS:,})")
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
    counts = _inception_filters(args)
    shape = args.input = args.input or INCEPTION_INPUTS[args.filters]
    vars(args).update(counts)  # config.json records the counts used
    naive = inception_naive(shape, counts["n1x1"], counts["n3x3"], counts["n5x5"])
    reduction = inception_reduction(shape, **counts)
    saving = inception_saving(naive, reduction)
    source = INCEPTION_SOURCES[args.filters] if counts == INCEPTION_FILTERS[args.filters] else "given on the command line"
    filters = {"preset": args.filters, "source": source, **counts}
    payload = {"naive": naive.to_dict(), "reduction": reduction.to_dict(), "saving": saving, "filters": filters}
    return inception_markdown(naive, reduction, saving, filters), payload, csv_rows(naive) + csv_rows(reduction)


def _inception_filters(args) -> dict[str, int]:
    """The preset's filter counts, with those given as flags instead (refused beside --filters googlenet-3a)."""
    given = {name: getattr(args, name) for name in INCEPTION_FILTERS["homework"] if getattr(args, name) is not None}
    if given and args.filters != "homework":
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
        raise UserError(f"--filters {args.filters} sets every filter count, so {flags} would be ignored; drop them, "
                        "or leave out --filters to give your own")
    return {**INCEPTION_FILTERS[args.filters], **given}


def _lenet5(args):
    network = lenet5(args.input)
    notes = [
        "The model of train_lenet.py (pyimagesearch.lenet.build_lenet5), layer for layer.",
        "ReLU activations and the softmax have no parameters and no multiply-adds in this count.",
    ]
    markdown = network_markdown("LeNet-5 (LeCun et al. 1998, adapted to 28x28 inputs)", network, notes)
    return markdown, network.to_dict(), csv_rows(network)


def _receptive_field(args):
    if args.layers > MAX_LAYERS:
        raise UserError(f"--layers {args.layers} is more than {MAX_LAYERS:,} convolutions, too many for a layer table; "
                        "lower --layers")
    if args.kernel > 0 and args.stride > 0 and stacked_size_strided(args.layers, args.kernel, args.stride) > MAX_SIZE:
        one = args.layers == 1  # then the input it sees is the kernel itself
        raise UserError(f"{args.layers} stacked {args.kernel}x{args.kernel} {nouns(args.layers, 'convolution')} of "
                        f"stride {args.stride} {'sees' if one else 'see'} an input more than 2**53 pixels wide, beyond "
                        f"exact arithmetic; lower {'--kernel' if one else '--layers or --stride'}")
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


def completion_summary(payload: dict) -> dict:
    """The headline figures a finished folder's completion record keeps: the receptive field first, then the totals."""
    closed_form, saving = payload.get("closed_form"), payload.get("saving")
    field = {"receptive_field": f"{closed_form['size']}x{closed_form['size']}"} if closed_form else {}
    if saving:  # the Inception modules: multiply-adds without and with the 1x1 reductions
        field = {"naive_macs": saving["naive_macs"], "reduction_macs": saving["reduction_macs"],
                 "macs_saved_percent": round(saving["percent"], 1)}
    return {**field, **(payload.get("totals") or {})}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_output_path(args.output)
    try:
        markdown, payload, rows = REPORTS[args.command](args)
    except LayerError as error:
        raise UserError(error.sentence) from None
    settings = {key: value for key, value in vars(args).items() if key not in ("format", "output", "overwrite")}
    with RunFolder(f"{args.output}/{args.command}", f"architecture-{args.command}", settings,
                   overwrite=args.overwrite) as run:
        stem = prepare_dir(run.folder) / args.command
        kept = run.finished
        if not kept:
            write_text(stem.with_suffix(".md"), markdown)
            write_json(stem.with_suffix(".json"), payload)
            write_csv(stem.with_suffix(".csv"), rows, CSV_FIELDS)
            run.complete(summary=completion_summary(payload))
        print(stem.with_suffix(SUFFIXES[args.format]).read_text(encoding="utf-8"), end="")
        print(where_files_are(run.folder, args.command, kept=kept), file=sys.stderr)
    return 0


def where_files_are(folder, command: str, kept: bool = False) -> str:
    """The line that ends a run: the folder's absolute path and the files the calculation wrote in it."""
    names = [f"{command}{suffix}" for suffix in SUFFIXES.values()] + ["config.json", "complete.json"]
    how = "already calculated with these settings, kept in" if kept else "files written to"
    return f"{how} {Path(folder).resolve()}: {', '.join(names)}"
