"""Weak and semi-supervised learning at small scale (Problem 4): LeNet-5 on Fashion-MNIST.

  teacher-student  Yalniz et al. 2019: teacher on a labelled set L, top-K images per class of the
                   unlabelled rest U (each image considered for its P best classes), student
                   pre-trained on them and fine-tuned on L; a sweep of K and P
  label-noise      Mahajan et al. 2018: p% of the training labels replaced by other classes
  resampling       Mahajan et al. 2018: natural, square-root and uniform sampling of a long tail

examples:
  python -m pyimagesearch.semisupervised teacher-student --quick
  python -m pyimagesearch.semisupervised teacher-student --k 100,1000,4000 --p 1,3
  python -m pyimagesearch.semisupervised teacher-student --quick --finetune-lr-factors 0.1,1
  python -m pyimagesearch.semisupervised label-noise --noise 0,10,25,50
  python -m pyimagesearch.semisupervised resampling --imbalance 100

Each writes into output/semisupervised/<experiment>/ (with --quick: .../<experiment>/quick/):
config.json, log.txt, results.json, results.csv, results.md, the figures, complete.json once every
point has finished, and runs/<name>/ (config.json, history.csv, metrics.json, test_predictions.npy,
row.json, log.txt, a checkpoint while it trains) for every model. The points (noise levels,
samplings, the ceiling and the students after the teacher) are independent runs: --executor serial
trains them one after another in this process, --executor ray side by side as Ray Tune trials, to
the same numbers; the results are written once they have run. The same command again resumes an
interrupted model from its checkpoint and keeps the finished points. Other settings into the same
--output are refused; --overwrite replaces the results.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Sequence

from pyimagesearch.core.cli import (
    ArgumentParser, HelpFormatter, UserError, add_verbose_argument, bounded_float, bounded_int, learning_rate, quiet_tensorflow,
)
from pyimagesearch.core.sweep import add_executor_arguments, check_executor_arguments
from pyimagesearch.lenet.data import add_data_arguments
from pyimagesearch.semisupervised import label_noise, resampling_run, teacher_student, teacher_student_runs
from pyimagesearch.semisupervised.resampling import SAMPLINGS
from pyimagesearch.semisupervised.runs import ExperimentError

OUTPUT_ROOT = Path("output/semisupervised")
EXPERIMENTS = {"teacher-student": teacher_student, "label-noise": label_noise, "resampling": resampling_run}
TRAIN_POINT = {"teacher-student": teacher_student_runs.train_point, "label-noise": label_noise.train_point,
               "resampling": resampling_run.train_point}
DEFAULT_LR = 0.02  # the fixed-LR baseline of train_lenet.py in the README
DEFAULT_BATCH = 64
# Limits of the flags that size the work: each listed value trains a model; a batch is held in memory.
MAX_POINTS = 20
MAX_BATCH = 60_000  # the training split at most
MAX_FACTOR = 10.0  # a fine-tuning LR factor: generous, since fine-tuning usually lowers the LR


def _numbers(values) -> str:
    return ",".join(f"{value:g}" for value in values)


def build_parser() -> argparse.ArgumentParser:
    ts_full, ts_quick = teacher_student.FULL, teacher_student.QUICK
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true",
                        help=f"small budgets on the first {teacher_student.QUICK['limit']:,} training and test images (unless --limit), "
                             "a few minutes; writes to <experiment>/quick/ by default")
    common.add_argument("--lr", type=learning_rate, default=DEFAULT_LR, help="fixed learning rate of every run (SGD, momentum 0.9)")
    common.add_argument("--batch", type=bounded_int(1, MAX_BATCH, "the batch size"), default=DEFAULT_BATCH, help="batch size of every run")
    common.add_argument("--output", default=None,
                        help="folder for the results (default: output/semisupervised/<experiment>, /quick with --quick)")
    common.add_argument("--overwrite", action="store_true",
                        help="discard the results already in --output and train every point again")
    common.add_argument("--quiet", action="store_true", help="no progress lines (log.txt still has them)")
    add_verbose_argument(common)
    add_data_arguments(common)
    add_executor_arguments(common)

    parser = ArgumentParser(prog="python -m pyimagesearch.semisupervised", description=__doc__,
                                     formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="experiment", required=True, metavar="{" + ",".join(EXPERIMENTS) + "}")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], formatter_class=HelpFormatter, help=help, description=help)

    sub = command("teacher-student", "Yalniz et al.: teacher on L, top-K pseudo-labelled images per class of U, "
                                     "student pre-trained on them and fine-tuned on L, against K and P")
    sub.add_argument("--labelled", type=bounded_int(0, MAX_BATCH, "the labelled set's size"), default=None, metavar="N",
                     help=f"size of the labelled set L, class-balanced and seeded "
                          f"(default: {ts_full['labelled']}; --quick: {ts_quick['labelled']})")
    sub.add_argument("--k", default=None, metavar="LIST",
                     help=f"images kept per class, comma-separated, each at most |U| / 10 (default: those of "
                          f"{_numbers(ts_full['k'])} below |U| / 10, then |U| / 10 itself; --quick: {_numbers(ts_quick['k'])} "
                          "and |U| / 10)")
    sub.add_argument("--p", default=None, metavar="LIST",
                     help=f"classes each unlabelled image is considered for, comma-separated, 1-10 "
                          f"(default: {_numbers(ts_full['p'])}; --quick: {_numbers(ts_quick['p'])})")

    sub.add_argument("--finetune-lr-factors", default=None, metavar="LIST",
                     help=f"fine-tuning LR factors (x --lr), comma-separated, each in (0, {MAX_FACTOR:g}]; with several, "
                          "every student is fine-tuned at each and the one of the highest validation accuracy is kept "
                          f"(default: {_numbers(ts_full['finetune_lr_factors'])}, chosen per student on validation; "
                          "one factor: no choice)")

    sub = command("label-noise", "Mahajan et al.: LeNet-5 trained with p%% of its labels replaced by random other classes")
    sub.add_argument("--noise", "--p", dest="noise", default=None, metavar="LIST",
                     help=f"percentages of training labels replaced, comma-separated, each in [0, 100) "
                          f"(default: {_numbers(label_noise.FULL['noise'])})")

    sub = command("resampling", "Mahajan et al.: natural, square-root and uniform sampling of a long-tailed training set")
    sub.add_argument("--imbalance", type=bounded_float(1, resampling_run.MAX_IMBALANCE, "the imbalance"), default=None, metavar="R",
                     help=f"most / least frequent class in the long-tailed set, 1 to {resampling_run.MAX_IMBALANCE:g}; counts decay geometrically "
                          f"(default: {resampling_run.DEFAULT_IMBALANCE:g})")
    sub.add_argument("--sampling", default=None, metavar="LIST",
                     help=f"samplings to train, comma-separated among {', '.join(SAMPLINGS)} (default: all three)")
    return parser


def parse_list(text: str | None, flag: str, kind: Callable[[str], float], what: str) -> list | None:
    """A comma-separated flag value as a list (duplicates dropped), or None when the flag was not given."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) > MAX_POINTS:
        raise UserError(f"{flag} lists {len(parts):,} values; at most {MAX_POINTS} are allowed (each trains a model)")
    try:
        values = [kind(part) for part in parts]
    except ValueError:
        values = []
    if not values:
        raise UserError(f"{flag} {text!r} is not a comma-separated list of {what}")
    return list(dict.fromkeys(values))


def sampling_name(text: str) -> str:
    if text not in SAMPLINGS:
        raise ValueError(text)
    return text


def integer(text: str) -> int:
    """An integer of at most 18 digits (a longer one is refused before it is built)."""
    if len(text.lstrip("+-")) > 18:
        raise ValueError(text)
    return int(text)


def factor(text: str) -> float:
    """A fine-tuning LR factor, in (0, MAX_FACTOR]."""
    value = float(text)
    if not 0 < value <= MAX_FACTOR:  # NaN too
        raise ValueError(text)
    return value


def percentage(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def check_data(args, data) -> None:
    """Refuse a subset without validation images (every run's divergence guard and scores need them)."""
    if len(data.y_val) == 0:
        raise UserError(f"--limit {args.limit} with --val-fraction {args.val_fraction:g} leaves no validation images "
                        f"(of {len(data.y_train):,} training images); raise --limit or --val-fraction")


def run_point(trial) -> None:
    """One point of any experiment as a ``core.sweep`` trial; what the data cannot meet is the command's sentence."""
    try:
        TRAIN_POINT[trial.settings["settings"]["experiment"]](trial)
    except ExperimentError as error:
        raise UserError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_executor_arguments(args)
    if args.experiment == "teacher-student":
        args.k = parse_list(args.k, "--k", integer, "integers")
        args.p = parse_list(args.p, "--p", integer, "integers")
        args.finetune_lr_factors = parse_list(args.finetune_lr_factors, "--finetune-lr-factors", factor,
                                              f"factors in (0, {MAX_FACTOR:g}]")
    elif args.experiment == "label-noise":
        args.noise = parse_list(args.noise, "--noise", percentage, "percentages")
    else:
        args.sampling = parse_list(args.sampling, "--sampling", sampling_name, ", ".join(SAMPLINGS))
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.core.outputs import prepare_dir
    from pyimagesearch.core.run import RunFolder, check_output_path
    from pyimagesearch.semisupervised.runs import data_location, splits

    experiment = EXPERIMENTS[args.experiment]
    if args.quick and args.limit is None:
        args.limit = experiment.QUICK["limit"]
    if args.output is None:
        args.output = OUTPUT_ROOT / args.experiment / ("quick" if args.quick else "")
    check_output_path(args.output)
    data = splits(**data_location(args))  # loaded once: the trials run here on --executor serial
    check_data(args, data)
    try:
        settings, points = experiment.plan(args, data)
        config = {**points, "data_source": data.source,
                  **{f"{split}_images": size for split, size in data.sizes().items()}}
        # The folder is locked (and its settings compared) before TensorFlow loads, so a second
        # process into it stops at once; each model's run seeds every generator on entering.
        with RunFolder(args.output, f"semisupervised-{args.experiment}", settings, overwrite=args.overwrite,
                       seed=args.seed, config=config) as folder_run:
            prepare_dir(folder_run.folder)  # leftovers of writes a killed process began go
            log = RunLog(folder_run.folder / "log.txt", echo=not args.quiet, append=True)
            quiet_tensorflow(args.verbose)
            import matplotlib
            import tensorflow as tf

            # Every resampling epoch and every model of a sweep traces new tf.functions; TensorFlow's warning about it is noise here.
            tf.get_logger().setLevel("ERROR")
            matplotlib.use("Agg")
            experiment.run(args, data, folder_run, log, run_point)
    except ExperimentError as error:
        raise UserError(str(error)) from None
    return 0
