"""Weak and semi-supervised learning at small scale (Problem 4): LeNet-5 on Fashion-MNIST.

  teacher-student  Yalniz et al. 2019: teacher on a labelled set L, top-K images per class of the
                   unlabelled rest U (each image considered for its P best classes), student
                   pre-trained on them and fine-tuned on L; a sweep of K and P
  label-noise      Mahajan et al. 2018: p% of the training labels replaced by other classes
  resampling       Mahajan et al. 2018: natural, square-root and uniform sampling of a long tail

examples:
  python -m pyimagesearch.semisupervised teacher-student --quick
  python -m pyimagesearch.semisupervised teacher-student --k 100,1000,4000 --p 1,3
  python -m pyimagesearch.semisupervised label-noise --noise 0,10,25,50
  python -m pyimagesearch.semisupervised resampling --imbalance 100

Each writes into output/semisupervised/<experiment>/ (with --quick: .../<experiment>/quick/):
config.json, log.txt, results.json, results.csv, results.md, the figures, and runs/<name>/
(history.csv, metrics.json, test_predictions.npy) for every model trained. Results are written
as each point finishes; run the same command again and finished points are kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Sequence

from pyimagesearch.core.cli import (
    HelpFormatter, UserError, add_verbose_argument, positive_float, positive_int, quiet_tensorflow,
)
from pyimagesearch.lenet.data import add_data_arguments
from pyimagesearch.semisupervised import label_noise, resampling_run, teacher_student
from pyimagesearch.semisupervised.resampling import SAMPLINGS

OUTPUT_ROOT = Path("output/semisupervised")
EXPERIMENTS = {"teacher-student": teacher_student, "label-noise": label_noise, "resampling": resampling_run}
DEFAULT_LR = 0.02  # the fixed-LR baseline of train_lenet.py in the README
DEFAULT_BATCH = 64


def _numbers(values) -> str:
    return ",".join(f"{value:g}" for value in values)


def build_parser() -> argparse.ArgumentParser:
    ts_full, ts_quick = teacher_student.FULL, teacher_student.QUICK
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true",
                        help=f"small budgets on the first {teacher_student.QUICK['limit']:,} training and test images (unless --limit), "
                             "a few minutes; writes to <experiment>/quick/ by default")
    common.add_argument("--lr", type=positive_float, default=DEFAULT_LR, help="fixed learning rate of every run (SGD, momentum 0.9)")
    common.add_argument("--batch", type=positive_int, default=DEFAULT_BATCH, help="batch size of every run")
    common.add_argument("--output", type=Path, default=None,
                        help="folder for the results (default: output/semisupervised/<experiment>, /quick with --quick)")
    common.add_argument("--overwrite", action="store_true",
                        help="discard the results already in --output and train every point again")
    common.add_argument("--quiet", action="store_true", help="no progress lines (log.txt still has them)")
    add_verbose_argument(common)
    add_data_arguments(common)

    parser = argparse.ArgumentParser(prog="python -m pyimagesearch.semisupervised", description=__doc__,
                                     formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="experiment", required=True, metavar="{" + ",".join(EXPERIMENTS) + "}")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], formatter_class=HelpFormatter, help=help, description=help)

    sub = command("teacher-student", "Yalniz et al.: teacher on L, top-K pseudo-labelled images per class of U, "
                                     "student pre-trained on them and fine-tuned on L, against K and P")
    sub.add_argument("--labelled", type=int, default=None, metavar="N",
                     help=f"size of the labelled set L, class-balanced and seeded "
                          f"(default: {ts_full['labelled']}; --quick: {ts_quick['labelled']})")
    sub.add_argument("--k", default=None, metavar="LIST",
                     help=f"images kept per class, comma-separated, each at most |U| / 10 (default: those of "
                          f"{_numbers(ts_full['k'])} below |U| / 10, then |U| / 10 itself; --quick: {_numbers(ts_quick['k'])} "
                          "and |U| / 10)")
    sub.add_argument("--p", default=None, metavar="LIST",
                     help=f"classes each unlabelled image is considered for, comma-separated, 1-10 "
                          f"(default: {_numbers(ts_full['p'])}; --quick: {_numbers(ts_quick['p'])})")

    sub = command("label-noise", "Mahajan et al.: LeNet-5 trained with p%% of its labels replaced by random other classes")
    sub.add_argument("--noise", "--p", dest="noise", default=None, metavar="LIST",
                     help=f"percentages of training labels replaced, comma-separated, each in [0, 100) "
                          f"(default: {_numbers(label_noise.FULL['noise'])})")

    sub = command("resampling", "Mahajan et al.: natural, square-root and uniform sampling of a long-tailed training set")
    sub.add_argument("--imbalance", type=float, default=None, metavar="R",
                     help=f"most / least frequent class in the long-tailed set, >= 1; counts decay geometrically "
                          f"(default: {resampling_run.DEFAULT_IMBALANCE:g})")
    sub.add_argument("--sampling", default=None, metavar="LIST",
                     help=f"samplings to train, comma-separated among {', '.join(SAMPLINGS)} (default: all three)")
    return parser


def parse_list(text: str | None, flag: str, kind: Callable[[str], float], what: str) -> list | None:
    """A comma-separated flag value as a list (duplicates dropped), or None when the flag was not given."""
    if text is None:
        return None
    try:
        values = [kind(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise UserError(f"{flag} {text!r} is not a comma-separated list of {what}")
    return list(dict.fromkeys(values))


def sampling_name(text: str) -> str:
    if text not in SAMPLINGS:
        raise ValueError(text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.experiment == "teacher-student":
        args.k = parse_list(args.k, "--k", int, "integers")
        args.p = parse_list(args.p, "--p", int, "integers")
    elif args.experiment == "label-noise":
        args.noise = parse_list(args.noise, "--noise", float, "percentages")
    else:
        args.sampling = parse_list(args.sampling, "--sampling", sampling_name, ", ".join(SAMPLINGS))
    quiet_tensorflow(args.verbose)
    import matplotlib
    import tensorflow as tf

    # Every resampling epoch and every model of a sweep traces new tf.functions; TensorFlow's warning about it is noise here.
    tf.get_logger().setLevel("ERROR")

    matplotlib.use("Agg")
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.core.outputs import prepare_dir
    from pyimagesearch.lenet.data import load_splits

    experiment = EXPERIMENTS[args.experiment]
    if args.quick and args.limit is None:
        args.limit = experiment.QUICK["limit"]
    if args.output is None:
        args.output = OUTPUT_ROOT / args.experiment / ("quick" if args.quick else "")
    folder = prepare_dir(args.output)
    data = load_splits(args.data_dir, val_fraction=args.val_fraction, seed=args.seed, limit=args.limit)
    log = RunLog(folder / "log.txt", echo=not args.quiet, append=not args.overwrite)
    experiment.run(args, data, folder, log)
    return 0
