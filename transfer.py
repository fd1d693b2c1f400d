"""Transfer ResNet50's ImageNet features to a Visual Decathlon target (or a folder of images).

Fine-tuning (every layer trains) against feature extraction (the base is
frozen, only a new Dense layer trains), with SGD (momentum 0.9), batch 64 and
a multi-step LR schedule. Each --lr value is one run per mode in
output/transfer/<dataset>/<mode>_lr<lr>/; finished runs are kept and a
fine-tuning run resumes after its last finished epoch, so an interrupted
sweep resumes where it stopped.

examples:
  python transfer.py --describe --dataset vgg-flowers
  python transfer.py --mode finetune --lr 0.01
  python transfer.py --dataset vgg-flowers --mode both      # the task's 3 + 4 learning rates
  python transfer.py --summary --dataset vgg-flowers
  python transfer.py --data-dir ~/photos --val-fraction 0.2 --mode both --weights resnet50_notop.h5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyimagesearch.core.cli import (
    HelpFormatter, UserError, add_verbose_argument, fraction, learning_rate, positive_int,
    quiet_tensorflow, run,
)
from pyimagesearch.core.distribute import add_strategy_argument

DATASETS = ("aircraft", "cifar100", "daimlerpedcls", "dtd", "gtsrb", "omniglot", "svhn", "ucf101", "vgg-flowers")
DEFAULT_DATASET = "vgg-flowers"  # the smallest target: 1,020 training images, a 60-epoch fine-tuning run fits in an hour on a CPU
MIN_IMAGE_SIZE = 32  # ResNet50 without its top needs at least 32x32 inputs


def lr_list(text: str) -> list[float]:
    """argparse type: one LR or a comma-separated list, each a float32 number > 0 (duplicates dropped)."""
    values = [learning_rate(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} holds no learning rate")
    return list(dict.fromkeys(values))


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated integers."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None


def image_size(text: str) -> int:
    """argparse type: an image side of at least 32 pixels."""
    value = positive_int(text)
    if value < MIN_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= {MIN_IMAGE_SIZE} (ResNet50's smallest input)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", metavar="NAME",
                      help=f"Visual Decathlon target loaded with TFDS: {', '.join(DATASETS)} (default: "
                           f"{DEFAULT_DATASET}); with --data-dir, the name of the output folder (default: the folder's name)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="a folder with one subfolder of images (.jpg, .png, .bmp, .gif) per class, instead of TFDS")
    data.add_argument("--val-dir", metavar="DIR",
                      help="with --data-dir: a folder of validation images with the same class subfolders "
                           "(default: a seeded split of --val-fraction of each class)")
    data.add_argument("--val-fraction", type=fraction, default=0.2,
                      help="with --data-dir and no --val-dir: fraction of each class held out for validation")
    data.add_argument("--image-size", type=image_size, default=64,
                      help="side of the square model input; images are resized to a shorter side of "
                           "image_size * 72/64 and centre-cropped (72 -> 64 px for the Decathlon)")
    data.add_argument("--augment", choices=("none", "crop", "crop-flip"), default="none",
                      help="training augmentation: a random crop instead of the centre one, and a random left-right "
                           "flip (leave the flip out for digits, letters and traffic signs)")

    action = parser.add_mutually_exclusive_group()
    action.add_argument("--describe", action="store_true",
                        help="only write dataset.json, class_distribution.png and samples.png (every training run "
                             "writes them too)")
    action.add_argument("--summary", action="store_true",
                        help="only write summary.md from the finished runs of --dataset")

    train = parser.add_argument_group("training")
    train.add_argument("--mode", choices=("finetune", "feature", "both"), default="finetune",
                       help="finetune: every layer trains with one LR; feature: ResNet50 is frozen (BatchNorm in "
                            "inference mode) and only the new Dense layer trains, on the base's pooled features, which "
                            "are computed once and cached for all epochs and LRs without --augment, or once per "
                            "epoch with it; both: finetune runs, then feature runs")
    train.add_argument("--lr", type=lr_list, metavar="LR[,LR...]",
                       help="learning rate, or a comma-separated list: one run per value (default: the task's "
                            "lists, finetune 0.1,0.01,0.001 and feature 1,0.1,0.01,0.001)")
    train.add_argument("--epochs", type=positive_int, default=60, help="epochs per run")
    train.add_argument("--milestones", type=int_list, metavar="E[,E...]",
                       help="epochs after which the LR is multiplied by --gamma, each in 1..epochs-1 (default: 1/4, "
                            "1/2 and 3/4 of --epochs, fewer when --epochs < 4)")
    train.add_argument("--gamma", type=fraction, default=0.1, help="LR factor at each milestone")
    train.add_argument("--batch", "--batch-size", dest="batch_size", type=positive_int, default=64, help="images per SGD step (momentum 0.9)")
    train.add_argument("--weights", default="imagenet", metavar="{imagenet,none,PATH}",
                       help="imagenet (Keras' cache ~/.keras/models, else a download), none (random, for smoke tests) "
                            "or PATH to a ResNet50 notop weights file")
    train.add_argument("--mixed-precision", action="store_true",
                       help="compute in mixed_float16 on a GPU or mixed_bfloat16 on a CPU (variables and the softmax "
                            "stay float32)")
    train.add_argument("--seed", type=int, default=42, help="seed of weights, shuffling, splits and augmentation")

    out = parser.add_argument_group("output")
    out.add_argument("--output", default="output/transfer", help="folder that holds one subfolder per data set")
    add_strategy_argument(train)
    out.add_argument("--overwrite", action="store_true", help="train runs again even when they finished earlier")
    out.add_argument("--save-weights", action="store_true",
                     help="also save each run's trained model as model.weights.h5 (about 95 MB for ResNet50)")
    out.add_argument("--tensorboard", action="store_true",
                     help="also write TensorBoard logs (loss, accuracy, the LR of every step) into each run's "
                          "tensorboard/ folder; view them with: tensorboard --logdir output")
    add_verbose_argument(out)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir is None and args.dataset is None:
        args.dataset = DEFAULT_DATASET
    if args.val_dir is not None and args.data_dir is None:
        parser.error("--val-dir goes with --data-dir")
    return args


def dataset_name(args) -> str:
    """The output folder's name: --dataset, or the --data-dir folder's name.

    Without --data-dir the name must be a Decathlon target, except for
    --summary, which reads any data set's folder.
    """
    from pyimagesearch.transfer import data as decathlon

    if args.data_dir is None and not args.summary:
        decathlon.check_decathlon_name(args.dataset)
    name = args.dataset or Path(args.data_dir).expanduser().resolve().name
    if not name or Path(name).name != name or name in (".", ".."):
        raise UserError(f"--dataset {name!r} cannot name an output folder; pass a plain name such as flowers")
    return name


def main(argv=None) -> int:
    args = parse_args(argv)
    quiet_tensorflow(args.verbose)
    import matplotlib

    matplotlib.use("Agg")
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.core.outputs import prepare_dir
    from pyimagesearch.transfer import data as decathlon
    from pyimagesearch.transfer.describe import write_description
    from pyimagesearch.transfer.settings import (
        MODES, TASK_LRS, TransferSettings, check_weights, dtype_policy_name, resolve_milestones,
    )
    from pyimagesearch.transfer.summary import write_summary
    from pyimagesearch.transfer.sweep import sweep

    name = dataset_name(args)
    if args.summary:
        print(write_summary(Path(args.output) / name, name))
        return 0
    distribution = Distribution.create(args.strategy, Path(args.output) / name)
    folder = distribution.folder
    new_folder = not folder.exists()
    folder = prepare_dir(folder)
    try:
        if not args.describe:  # checked before the data set is read, which can take a while
            milestones = resolve_milestones(args.epochs, args.milestones)
            weights = check_weights(args.weights)
        if args.data_dir is None:
            image_set = decathlon.load_decathlon(name)
        else:
            image_set = decathlon.load_folder(args.data_dir, args.val_dir, args.val_fraction, args.seed, name)
        decathlon.check_images(image_set)
    except BaseException:
        if new_folder and not any(folder.iterdir()):
            folder.rmdir()  # a start that failed leaves no empty data set folder behind
        raise
    say = RunLog(folder / "transfer.log", append=True)
    write_description(image_set, folder, say)
    if args.describe:
        return 0

    settings = TransferSettings(
        data=image_set.origin, epochs=args.epochs, milestones=tuple(milestones), gamma=args.gamma,
        batch_size=args.batch_size, image_size=args.image_size, augment=args.augment, weights=weights,
        dtype_policy=dtype_policy_name(args.mixed_precision), seed=args.seed,
    )
    modes = MODES if args.mode == "both" else (args.mode,)
    say(f"milestones {milestones}, gamma {args.gamma:g}, dtype policy {settings.dtype_policy}, weights {weights}")
    described = distribution.describe(args.batch_size)
    say(f"finetune: {described['strategy']}, {described['replicas']} replica(s), global batch "
        f"{described['global_batch']}, learning rates used as given; feature: one device, batch {args.batch_size}")
    lrs = args.lr or {mode: TASK_LRS[mode] for mode in modes}
    sweep(image_set, modes, lrs, settings, folder, say, vars(args), overwrite=args.overwrite,
             save_weights=args.save_weights, progress=sys.stdout.isatty(), distribution=distribution,
             tensorboard=args.tensorboard)
    write_summary(folder, name)
    say(f"summary: {folder / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
