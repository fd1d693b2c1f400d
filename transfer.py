"""Transfer ResNet50's ImageNet features to a Visual Decathlon target (or a folder of images, or the offline stand-in).

Fine-tuning (every layer trains) against feature extraction (the base is frozen, only a new Dense layer trains),
with SGD (momentum 0.9), batch 64 and a multi-step LR schedule. Each --lr value is one run per mode in
output/transfer/<dataset>/<mode>_lr<lr>/. The data set folder is the sweep's: one process writes it at a time, it
keeps the settings it was made with (others are refused; --overwrite replaces the sweep), finished runs are kept and
a fine-tuning run resumes after its last finished epoch. complete.json, written last, says that every run in it
finished, at quick or full settings. A seeded, stratified --selection-fraction of each class of the training split
makes the choices (each mode's best LR, the winner); the figures are reported on validation (the Decathlon's test
labels are withheld). Offline stand-in: --dataset digits (scikit-learn's digits) and --weights fashion-mnist (a
ResNet50 pretrained here on Fashion-MNIST, once, into <--pretrain-dir>/pretrain/, then reused), at 32x32.

examples:
  python transfer.py --describe --dataset vgg-flowers
  python transfer.py --mode finetune --lr 0.01
  python transfer.py --dataset vgg-flowers --mode both      # the task's 3 + 4 learning rates
  python transfer.py --summary --dataset vgg-flowers
  python transfer.py --data-dir ~/photos --val-fraction 0.2 --mode both --weights resnet50_notop.h5
  python transfer.py --dataset digits --weights fashion-mnist --mode both --quick   # offline
  python transfer.py --dataset vgg-flowers --mode both --executor ray   # the 7 runs side by side on Ray Tune
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from pyimagesearch.core.cli import (
    ArgumentParser, HelpFormatter, UserError, add_verbose_argument, bounded_float, bounded_int, fraction, learning_rate,
    quiet_tensorflow, run,
)
from pyimagesearch.core.distribute import add_strategy_argument
from pyimagesearch.core.sweep import add_executor_arguments, check_executor_arguments

DATASETS = ("aircraft", "cifar100", "daimlerpedcls", "dtd", "gtsrb", "omniglot", "svhn", "ucf101", "vgg-flowers")
STANDIN = "digits"  # scikit-learn's digits, the offline stand-in for a Decathlon target
DEFAULT_DATASET = "vgg-flowers"  # the smallest target: 1,020 training images, a 60-epoch fine-tuning run fits in an hour on a CPU
# Limits of what one command may ask for: generous for the task, small enough to refuse a typo before it allocates.
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 512  # ResNet50 without its top needs 32x32; 512 px is 5 times its 224 px
MAX_EPOCHS, MAX_BATCH = 1_000, 4_096
MAX_LRS = 16  # learning rates per --lr: each is one run per mode
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit
STANDIN_IMAGE_SIZE = 32  # the digits (8x8) and the Fashion-MNIST base (28x28) at ResNet50's smallest input
QUICK_EPOCHS, QUICK_MILESTONES = 4, [1, 2, 3]  # --quick: the task's three drops of the LR, one epoch apart
BN_IMAGES = 1_024  # re-estimate a fine-tuning run's BatchNorm statistics before each evaluation (transfer.batchnorm)
UNSET = object()  # the value of a flag not given on the command line (see parse_args)
# Flags that only a training run uses; --describe and --summary refuse them.
TRAINING_ONLY = ("mode", "lr", "strategy", "save_weights", "tensorboard", "pretrain_dir", "quick", "executor",
                 "ray_address", "trial_cpus", "trial_gpus")
# Flags --summary uses: it reads the finished runs of a data set folder and writes summary.md.
SUMMARY_FLAGS = {"summary", "dataset", "data_dir", "output", "verbose"}


def lr_list(text: str) -> list[float]:
    """argparse type: one LR or up to ``MAX_LRS`` comma-separated, each through ``cli.learning_rate`` (duplicates dropped)."""
    parts = [part.strip() for part in text.split(",", MAX_LRS) if part.strip()]
    if len(parts) > MAX_LRS:
        raise argparse.ArgumentTypeError(f"more than {MAX_LRS} learning rates: each is one run per mode; "
                                         "split the sweep into several commands")
    if not parts:
        raise argparse.ArgumentTypeError(f"{text!r} holds no learning rate")
    return list(dict.fromkeys(learning_rate(part) for part in parts))


def milestone_list(text: str) -> list[int]:
    """argparse type: comma-separated epochs, each an integer in [0, MAX_EPOCHS], at most MAX_EPOCHS of them."""
    parts = [part.strip() for part in text.split(",", MAX_EPOCHS) if part.strip()]
    if len(parts) > MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"more than {MAX_EPOCHS:,} milestones, the most epochs a run may have")
    epoch = bounded_int(0, MAX_EPOCHS, "a milestone")
    return [epoch(part) for part in parts]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", metavar="NAME", help=(
        f"Visual Decathlon target loaded with TFDS: {', '.join(DATASETS)} (default: {DEFAULT_DATASET}), or {STANDIN} "
        "(scikit-learn's handwritten digits, the offline stand-in, split 1,437/180/180); with --data-dir, the name of "
        "the output folder (default: the folder's name)"))
    data.add_argument("--data-dir", metavar="DIR",
                      help="a folder with one subfolder of images (.jpg, .png, .bmp, .gif) per class, instead of TFDS")
    data.add_argument("--val-dir", metavar="DIR",
                      help="with --data-dir: a folder of validation images with the same class subfolders "
                           "(default: a seeded split of --val-fraction of each class)")
    data.add_argument("--val-fraction", type=fraction, default=0.2,
                      help="with --data-dir and no --val-dir: fraction of each class held out for validation")
    data.add_argument("--selection-fraction", type=bounded_float(0, 0.5, "--selection-fraction", low_open=True), default=0.1,
                      help="of each class of the training split, held out for the choices: each mode's best LR, the winner")
    data.add_argument("--image-size", type=bounded_int(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE, "--image-size"), default=64,
                      help=f"side of the square model input, {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE}; images are resized "
                           "to a shorter side of image_size * 72/64 and centre-cropped (72 -> 64 px for the Decathlon); "
                           f"{STANDIN_IMAGE_SIZE} with --dataset {STANDIN} or --weights fashion-mnist")
    data.add_argument("--augment", choices=("none", "crop", "crop-flip"), default="none", help="training augmentation: "
                      "a random crop instead of the centre one, and a random left-right flip (not for digits or letters)")

    action = parser.add_mutually_exclusive_group()
    action.add_argument("--describe", action="store_true",
                        help="only write dataset.json, class_distribution.png and samples.png (every training run "
                             "writes them too) into the sweep's folder, which keeps the settings given")
    action.add_argument("--summary", action="store_true",
                        help="only write summary.md from the finished runs of --dataset")

    train = parser.add_argument_group("training")
    train.add_argument("--mode", choices=("finetune", "feature", "both"), default="finetune",
                       help="finetune: every layer trains with one LR; feature: ResNet50 is frozen (BatchNorm in inference "
                            "mode) and only the new Dense layer trains, on the base's pooled features (computed once "
                            "without --augment, once per epoch with it); both: finetune runs, then feature runs")
    train.add_argument("--lr", type=lr_list, metavar="LR[,LR...]",
                       help=f"learning rate, or up to {MAX_LRS} comma-separated: one run per value (default: the "
                            "task's lists, finetune 0.1,0.01,0.001 and feature 1,0.1,0.01,0.001)")
    train.add_argument("--epochs", type=bounded_int(1, MAX_EPOCHS, "--epochs"), default=60,
                       help=f"epochs per run, at most {MAX_EPOCHS:,}")
    train.add_argument("--milestones", type=milestone_list, metavar="E[,E...]",
                       help="epochs after which the LR is multiplied by --gamma, each in 1..epochs-1 (default: 1/4, "
                            "1/2 and 3/4 of --epochs, fewer when --epochs < 4)")
    train.add_argument("--gamma", type=fraction, default=0.1, help="LR factor at each milestone")
    train.add_argument("--batch", "--batch-size", dest="batch_size", type=bounded_int(1, MAX_BATCH, "--batch"),
                       default=64, help=f"images per SGD step (momentum 0.9), at most {MAX_BATCH:,}")
    train.add_argument("--weights", default="imagenet", metavar="{imagenet,fashion-mnist,none,PATH}",
                       help="imagenet (Keras' cache ~/.keras/models, else a download), fashion-mnist (the offline "
                            "stand-in: a ResNet50 pretrained here on Fashion-MNIST, trained once into --pretrain-dir), "
                            "none (random, for smoke tests) or PATH to a ResNet50 notop weights file")
    train.add_argument("--pretrain-dir", metavar="DIR",
                       help="with --weights fashion-mnist: the folder whose pretrain/ holds the pretrained bases "
                            "(default: --output, so every data set there shares one base)")
    train.add_argument("--quick", action="store_true",
                       help=f"quick settings: {QUICK_EPOCHS} epochs (milestones {','.join(map(str, QUICK_MILESTONES))}) "
                            "unless --epochs is given, and with --weights fashion-mnist the smaller pretraining")
    train.add_argument("--mixed-precision", action="store_true", help="compute in mixed_float16 on a GPU or "
                       "mixed_bfloat16 on a CPU (variables and the softmax stay float32)")
    train.add_argument("--seed", type=bounded_int(0, MAX_SEED, "--seed"), default=42,
                       help="seed of weights, shuffling, splits and augmentation")

    out = parser.add_argument_group("output")
    out.add_argument("--output", default="output/transfer", help="folder that holds one subfolder per data set")
    add_strategy_argument(train)
    out.add_argument("--overwrite", action="store_true",
                     help="delete the data set folder's sweep (every run, its description and summary) and start again")
    out.add_argument("--save-weights", action="store_true", help="also save each run's trained model as "
                     "model.weights.h5 (about 95 MB for ResNet50)")
    out.add_argument("--tensorboard", action="store_true", help="also write TensorBoard logs (loss, accuracy, the LR of "
                     "every step) into each run's tensorboard/ folder; view them with: tensorboard --logdir output")
    add_verbose_argument(out)
    add_executor_arguments(parser)
    return parser


def flag(dest: str) -> str:  # the flag of an argparse destination
    return "--batch" if dest == "batch_size" else "--" + dest.replace("_", "-")


def parse_args(argv=None) -> argparse.Namespace:
    """The flags, with ``args.given`` the names of those given on the command line; flags that would be ignored are refused.

    Every flag starts as ``UNSET`` in the namespace, so argparse fills in
    only what was given; the defaults are filled in afterwards.
    """
    parser = build_parser()
    dests = [action.dest for action in parser._actions if action.dest != "help"]
    args = parser.parse_args(argv, namespace=argparse.Namespace(**dict.fromkeys(dests, UNSET)))
    args.given = {dest for dest in dests if getattr(args, dest) is not UNSET}
    for dest in dests:
        if getattr(args, dest) is UNSET:
            setattr(args, dest, parser.get_default(dest))
    if args.data_dir is None and args.dataset is None:
        args.dataset = DEFAULT_DATASET
    if (args.dataset == STANDIN and args.data_dir is None or args.weights == "fashion-mnist") and "image_size" not in args.given:
        args.image_size = STANDIN_IMAGE_SIZE
    if args.quick and "epochs" not in args.given:
        args.epochs = QUICK_EPOCHS
        if "milestones" not in args.given:
            args.milestones = list(QUICK_MILESTONES)
    return args


def refuse_ignored_flags(args) -> None:
    """``UserError`` for a flag the command would not use, rather than accepting and ignoring it."""
    def refuse(dests, why):
        given = [flag(dest) for dest in dests if dest in args.given]
        if given:
            raise UserError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not used {why}; leave "
                            f"{'it' if len(given) == 1 else 'them'} out")

    if args.summary:
        refuse(sorted(args.given - SUMMARY_FLAGS), "by --summary, which only reads the finished runs")
    if args.describe:
        refuse(TRAINING_ONLY, "by --describe, which trains nothing")
    if args.val_dir is not None and args.data_dir is None:
        raise UserError("--val-dir goes with --data-dir: pass the training images' folder too")
    if args.data_dir is None or args.val_dir is not None:
        refuse(["val_fraction"], "without --data-dir or with --val-dir (the validation images are given)")
    if args.mode == "feature" and not args.describe:
        refuse(["strategy"], "by feature extraction, which trains one Dense layer on one device")
    if args.weights != "fashion-mnist":
        refuse(["pretrain_dir"], "without --weights fashion-mnist")
    if args.dataset == STANDIN and args.data_dir is None:
        refuse(["selection_fraction"], f"by --dataset {STANDIN}, whose split is fixed (1,437/180/180)")
    if args.executor == "ray" and args.strategy == "multiworker":
        raise UserError("--strategy multiworker spreads one run over the workers of TF_CONFIG; with --executor ray "
                        "each run is a trial of its own: leave one of them out")
    if args.weights == "fashion-mnist" and args.image_size != STANDIN_IMAGE_SIZE:
        raise UserError(f"--image-size {args.image_size} does not fit --weights fashion-mnist, whose base was "
                        f"pretrained at {STANDIN_IMAGE_SIZE}x{STANDIN_IMAGE_SIZE}; leave --image-size out")


KERAS_STYLE = re.compile(r"Argument `\w+` (?P<rule>.+?)\. Received: .*$", re.S)


def flag_error(name: str, given: str, error: ValueError) -> UserError:
    """The one sentence for a library's Keras-style ``ValueError`` about the value ``given`` to flag ``name``."""
    match = KERAS_STYLE.match(str(error))
    return UserError(f"{name} {given} {match['rule'] if match else error}")


def main(argv=None) -> int:
    from pyimagesearch.transfer.images import DataError

    args = parse_args(argv)
    refuse_ignored_flags(args)
    check_executor_arguments(args)
    if args.executor == "ray":  # the trials' processes need the GPUs' memory; this one only describes and summarises
        os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    quiet_tensorflow(args.verbose)
    import matplotlib

    matplotlib.use("Agg")
    from pyimagesearch.core.run import check_output_path
    from pyimagesearch.transfer.models import WeightsError

    output = check_output_path(args.output)
    try:
        from pyimagesearch.transfer.targets import folder_name

        name = folder_name(args.dataset, args.data_dir, args.summary)
        if not args.summary:
            return sweep_folder(args, output, name)
        from pyimagesearch.transfer.summary import load_finished_runs, write_summary

        runs = load_finished_runs(output / name)  # each read through its record
        if not runs:
            raise UserError(f"no finished run in {output / name}; train first, e.g. python transfer.py --dataset {name}")
        print(write_summary(output / name, name, runs))
        return 0
    except (DataError, WeightsError) as error:
        raise UserError(str(error)) from None


def resolve_settings(args):
    """The ``TransferSettings`` of the sweep, checked before any folder is touched."""
    from pyimagesearch.transfer import targets
    from pyimagesearch.transfer.settings import TransferSettings, check_weights, dtype_policy_name, resolve_milestones

    try:
        milestones = resolve_milestones(args.epochs, args.milestones)
    except ValueError as error:
        raise flag_error("--milestones", ",".join(map(str, args.milestones)), error) from None
    if not milestones and "gamma" in args.given:
        raise UserError(f"--gamma is not used: {args.epochs} epoch(s) have no milestone at which the LR drops; leave it out")
    if args.weights == "fashion-mnist":
        weights = str(targets.standin_base(args.quick, pretrain_dir(args)))
    else:
        try:
            weights = check_weights(args.weights)
        except ValueError as error:
            raise flag_error("--weights", args.weights, error) from None
    origin = targets.origin(args.dataset, args.data_dir, args.val_dir, args.val_fraction, args.selection_fraction)
    return TransferSettings(
        data=origin, epochs=args.epochs, milestones=tuple(milestones), gamma=args.gamma, batch_size=args.batch_size,
        image_size=args.image_size, augment=args.augment, weights=weights,
        dtype_policy=dtype_policy_name(args.mixed_precision), seed=args.seed, bn_images=BN_IMAGES,
    )


def pretrain_dir(args) -> Path:  # --pretrain-dir, by default the output folder, which every data set there shares
    return Path(args.pretrain_dir or args.output).expanduser()


def sweep_folder(args, output: Path, name: str) -> int:
    """Train (or only describe) in the data set folder, which ``sweep.run_sweep`` owns from its lock to complete.json."""
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.transfer.pretrain import standin_note
    from pyimagesearch.transfer.settings import MODES, TASK_LRS
    from pyimagesearch.transfer.sweep import run_sweep

    settings = resolve_settings(args)
    if args.describe:
        distribution = None
    elif args.executor == "ray":  # each trial builds its own strategy (transfer.trials)
        distribution = Distribution.local(output / name)
    else:
        distribution = Distribution.create(args.strategy, output / name)
    modes = MODES if args.mode == "both" else (args.mode,)
    requested = [] if args.describe else [(mode, lr) for mode in modes for lr in (args.lr or TASK_LRS[mode])]
    note = standin_note(name if args.data_dir is None else "", args.weights)
    run_sweep(output / name if distribution is None else distribution.folder, name, settings, requested,
              lambda: load_images(args, name), {key: value for key, value in vars(args).items() if key != "given"},
              describe=args.describe, overwrite=args.overwrite, distribution=distribution,
              save_weights=args.save_weights, tensorboard=args.tensorboard, progress=sys.stdout.isatty(), note=note,
              executor=args, target=target_location(args, name))
    return 0


def target_location(args, name: str) -> dict:
    """``targets.load_target``'s arguments, folders absolute: what a trial in another process loads."""
    def absolute(folder):
        return None if folder is None else os.path.abspath(os.path.expanduser(folder))

    return {"dataset": name, "data_dir": absolute(args.data_dir), "val_dir": absolute(args.val_dir),
            "val_fraction": args.val_fraction, "selection_fraction": args.selection_fraction, "seed": args.seed}


def load_images(args, name: str):
    """The ``ImageSet`` of --dataset or --data-dir (with its selection split), once the base it needs exists."""
    from pyimagesearch.transfer import targets

    if args.weights == "fashion-mnist" and not args.describe:
        targets.train_standin_base(args.quick, pretrain_dir(args), progress=sys.stdout.isatty())
    return targets.load_target(name, args.data_dir, args.val_dir, args.val_fraction, args.selection_fraction, args.seed,
                               args.describe)


if __name__ == "__main__":
    sys.exit(run(main))
