"""Train LeNet-5 on Fashion-MNIST with a cyclical LR, a growing batch size or a fixed LR; compare two runs.

Policies (SGD with momentum, like the LR range test of find_lr.py):
  clr           the LR cycles between lr_min and lr_max (Smith 2017); writes output/clr/
  batch-growth  fixed LR while the batch size doubles every K epochs; writes output/batch_growth/
  fixed         fixed LR and batch size, the baseline; writes output/fixed/

Each run writes config.json, history.csv (one row per epoch), log.txt, metrics.json,
curves.png, model.keras, test_predictions.npz, and lr_trace.png (clr) or
loss_vs_log2_batch.png (batch-growth). --seeds runs one such run per seed into
<output>/seed-<s>/ and writes their mean, standard deviation and per-seed values
(metrics.json) and curves with a band (curves.png) into <output>/.
The seeds' runs go one after another (--executor serial) or side by side on Ray
Tune (--executor ray: this machine's cores and GPUs, or a cluster).
--compare DIR_A DIR_B (single runs or --seeds folders) writes comparison.md,
comparison.json and comparison.png (default output/comparison/).

A folder holds one run: run again with the same settings, a finished run is
kept as it is and an unfinished one resumes; other settings are refused
unless --overwrite replaces the results.

examples:
  python train_lenet.py --policy clr --from-finder output/find_lr/suggestion.json --mode exp_range
  python train_lenet.py --policy clr --mode triangular2 --lr-min 0.01 --lr-max 0.1 --step-size 2 --epochs 16
  python train_lenet.py --policy batch-growth --lr 0.05 --epochs-per-stage 2
  python train_lenet.py --policy fixed --lr 0.01
  python train_lenet.py --policy clr --from-finder output/find_lr/suggestion.json --seeds 42,1,2
  python train_lenet.py --policy clr --from-finder output/find_lr/suggestion.json --seeds 3 --executor ray
  python train_lenet.py --compare output/clr output/batch_growth
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyimagesearch.core.cli import ArgumentParser, HelpFormatter, UserError, add_verbose_argument, quiet_tensorflow, run
from pyimagesearch.core.distribute import add_strategy_argument
from pyimagesearch.core.sweep import add_executor_arguments
from pyimagesearch.core.wording import generalization_gap, plural
from pyimagesearch.lenet.arguments import count_up_to, output_argument
from pyimagesearch.lenet.compare import COMPARISON_DIR
from pyimagesearch.lenet.data import add_data_arguments
from pyimagesearch.lenet.seeds import seeds_argument
from pyimagesearch.lenet.settings import OUTPUT_DIRS, POLICIES, add_policy_options, given_options

# Flags that change what a run computes besides the policy's options: part of its settings.
RESUME_KEYS = ("seed", "limit", "data_dir", "val_fraction", "momentum", "weight_decay")
# What --compare reads: the two folders, where to write, and how much to print; any other flag is refused.
COMPARE_FLAGS = ("compare", "output", "overwrite", "quiet", "verbose")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--policy", choices=POLICIES, help="LR policy to train with")
    task.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"),
                      help="compare two finished runs instead of training")
    add_policy_options(parser)
    parser.add_argument("--from-finder", type=Path, default=None, metavar="PATH",
                        help="suggestion.json of find_lr.py: its lr_min/lr_max are the cycle (clr) and its lr_max the "
                             "fixed LR (batch-growth, fixed); explicit LR flags win")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum, in [0, 1)")
    parser.add_argument("--weight-decay", type=float, default=0.0,
                        help="decoupled weight decay of SGD: each step also does w -= lr * weight_decay * w (0: none)")
    parser.add_argument("--steps-per-execution", type=count_up_to(10_000, "steps per execution"), default=32,
                        help="batches per call of the compiled train step: speed only, the results are the same")
    parser.add_argument("--output", type=output_argument, default=None,
                        help="output folder (default: output/clr, output/batch_growth, output/fixed or output/comparison)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results in --output when they were made with other settings (or are finished)")
    add_data_arguments(parser)
    parser.add_argument("--seeds", type=seeds_argument, default=None, metavar="N|S1,S2,...",
                        help="one run per seed into <output>/seed-<s>/, then their mean, standard deviation and "
                             "curves in <output>/: a comma-separated list of seeds, or a number N (--seed, then 1, 2, ...)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines (log.txt still has them)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="continue an unfinished run of the same settings in --output after its last finished "
                             "epoch (a checkpoint is saved after every epoch); --no-resume starts over")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard logs (loss, accuracy, the LR of every step) into OUTPUT/tensorboard; "
                             "view them with: tensorboard --logdir output")
    add_verbose_argument(parser)
    add_strategy_argument(parser)
    add_executor_arguments(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.weight_decay < 1:
        parser.error(f"--weight-decay must be in [0, 1), got {args.weight_decay:g}")
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must be in [0, 1), got {args.momentum:g}")
    if args.policy:  # --compare refuses every training flag by itself
        from pyimagesearch.lenet.executor import check_sweep_flags

        check_sweep_flags(parser, args, sweep=bool(args.seeds), one_run="without --seeds this is one run; add --seeds")
    if args.output is None:
        args.output = Path(COMPARISON_DIR if args.compare else OUTPUT_DIRS[args.policy])
    return args


def given_flags(argv=None) -> list[str]:
    """The flags given on the command line (not left at their defaults), in the order the parser knows them."""
    parser = build_parser()
    dests = vars(parser.parse_args(argv))
    absent = object()  # not a string, so argparse leaves it as it is
    parser.set_defaults(**dict.fromkeys(dests, absent))
    given = vars(parser.parse_args(argv))
    return ["--" + dest.replace("_", "-") for dest in dests if given.get(dest, absent) is not absent]


def run_settings(args, settings, replicas: int) -> dict:
    """What determines a run's results (``RunFolder``'s settings): the resolved policy, the data, the seed, the replicas."""
    resolved = {key: value for key, value in settings.as_dict().items() if key != "lr_source"}
    return {**resolved, **{key: getattr(args, key) for key in RESUME_KEYS}, "replicas": replicas}


def compare(args, argv=None) -> int:
    import hashlib

    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.lenet.compare import read_side, write_comparison

    ignored = [flag for flag in given_flags(argv) if flag.removeprefix("--") not in COMPARE_FLAGS]
    if ignored:
        raise UserError(f"{', '.join(ignored)} set training, but --compare only reads finished runs; drop them")
    sides = [read_side(folder) for folder in args.compare]  # a missing or bad run stops before anything is written
    inputs = {run["folder"]: hashlib.sha256((Path(run["folder"]) / "metrics.json").read_bytes()).hexdigest()
              for side in sides for run in side["runs"]}
    with RunFolder(args.output, "lenet-comparison", {"compare": [str(folder) for folder in args.compare]},
                   overwrite=args.overwrite) as folder_run:
        folder = folder_run.folder
        if folder_run.finished:
            from pyimagesearch.core.run import completion

            if completion(folder)["summary"].get("inputs") == inputs:
                print(f"{folder} already compares these runs as they are now: kept")
                return 0
            folder_run.reopen()  # the runs changed since: the comparison of the same two folders is brought up to date
        verdict = write_comparison(*args.compare, folder)
        folder_run.complete(summary={"inputs": inputs})
    test = verdict["test_difference"]
    interval = (f"{100 * test['confidence']:.0f}% interval {100 * test['low']:+.2f} to {100 * test['high']:+.2f}, "
                f"{test['n']} seeds" if test["n"] > 1 else "one seed, no interval")
    confounded = f"; confounded: they differ in {' and '.join(verdict['budget_differs'])}" if verdict["budget_differs"] else ""
    print(f"test accuracy A - B: {100 * test['mean']:+.2f} points ({interval}){confounded}; "
          f"written {folder / 'comparison.md'}")
    return 0


def train(args, distribution=None, folder: Path | None = None) -> int:
    """One run into ``folder`` (default: ``--output``, or this worker's folder in it); ``distribution`` made when None."""
    import matplotlib

    matplotlib.use("Agg")
    from pyimagesearch.core.checkpoints import RunCheckpoint, save_model
    from pyimagesearch.core.distribute import Distribution
    from pyimagesearch.core.logging import RunLog
    from pyimagesearch.core.loop import resume_epoch as agreed_resume_epoch
    from pyimagesearch.core.outputs import prepare_dir
    from pyimagesearch.core.pipeline import steps_per_epoch
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.lenet import training as lt
    from pyimagesearch.lenet.data import load_splits
    from pyimagesearch.lenet.plots import save_run_plots
    from pyimagesearch.lenet.settings import check_step_size, cycle_note, describe, resolve_settings
    from pyimagesearch.records.lenet import RunMetrics

    settings = resolve_settings(args.policy, given_options(args), args.from_finder)
    distribution = distribution or Distribution.create(args.strategy, Path(args.output))
    described = distribution.describe(settings.stages[0].batch_size)
    settings.scale_batches(distribution.replicas)
    folder = folder or distribution.folder
    data = load_splits(args.data_dir, val_fraction=args.val_fraction, seed=args.seed, limit=args.limit)
    if len(data.x_val) == 0:
        raise UserError(f"--limit {args.limit} leaves no validation images at --val-fraction {args.val_fraction:g}; raise --limit")
    settings.set_train_size(len(data.x_train), drop_remainder=distribution.multiworker)
    check_step_size(settings)
    description = describe(settings)
    config = {**vars(args), "description": description, "lr_source": settings.lr_source, "data_source": data.source,
              "distribution": described, **{f"{split}_images": size for split, size in data.sizes().items()}}
    # Seeded on entering, before the checkpoint is looked up: a resumed process draws what an uninterrupted one draws.
    with RunFolder(folder, "lenet-run", run_settings(args, settings, distribution.replicas), overwrite=args.overwrite,
                   seed=args.seed, tensorflow=True, config=config, keep=worker_folders(distribution.worker)) as run_folder:
        prepare_dir(folder)  # under the lock: the leftovers of a killed write are no live writer's
        if run_folder.finished:
            print(f"{folder} holds this run, finished: its results are kept (pass --overwrite to train it again)")
            return 0
        # Workers may have to roll back to the epoch every one of them has: they keep one checkpoint more.
        checkpoint = RunCheckpoint(folder, {
            **settings.as_dict(), **{key: getattr(args, key) for key in RESUME_KEYS}, "replicas": distribution.replicas,
        }, keep=3 if distribution.multiworker else 2, required=("reference_loss",))
        if not args.resume:
            checkpoint.clear()
        notes: list[str] = []
        with distribution.watch():
            resume_epoch = agreed_resume_epoch(checkpoint, distribution, notes.append)
            if not resume_epoch:
                checkpoint.clear()
                lt.remove_stale_results(folder)
            log = RunLog(folder / "log.txt", echo=not args.quiet, append=bool(resume_epoch))
            log(f"{description}; {len(data.x_train):,} training, {len(data.x_val):,} validation, {len(data.x_test):,} test "
                f"images from {data.source}")
            log(f"{described['strategy']}: {described['replicas']} replica(s), global batch = "
                f"{described['replicas']} x per-replica batch; learning rates used as given")
            if cycle_note(settings):
                log(cycle_note(settings))
            for note in notes:
                log(note)

            result = lt.train(settings, data, folder, log, momentum=args.momentum, weight_decay=args.weight_decay or None,
                              steps_per_execution=args.steps_per_execution, seed=args.seed, distribution=distribution,
                              checkpoint=checkpoint, resume_epoch=resume_epoch,
                              tensorboard=args.tensorboard)
            history = result["history"]
            if history:
                save_run_plots(folder, history, settings.policy, f"LeNet-5 on Fashion-MNIST\n{description}",
                               result["lr_at"], steps_per_epoch(len(data.x_train), settings.stages[0].batch_size,
                                                                distribution.multiworker), settings)
            if result["diverged"]:
                checkpoint.clear()
                epoch = history[-1]["epoch"] if history else 1
                lr_flag = "--lr-max" if settings.policy == "clr" else "--lr"
                message = (f"training diverged in epoch {epoch}: {result['diverged']}; lower the learning rate ({lr_flag}) "
                           f"and run again (the epochs so far are in {folder})")
                log(f"error: {message}", echo=False)
                raise UserError(message)
            metrics = RunMetrics(policy=args.policy, **lt.evaluate(result["trainer"], data, history, result["train_time_s"]))
            lt.write_test_predictions(folder, lt.predict_test_set(result["model"], data))
        metrics.write(folder)
        save_model(result["model"], folder / "model.keras")
        log(f"test accuracy {metrics.test_accuracy:.4f}, test loss {metrics.test_loss:.4f}, "
            f"{generalization_gap(metrics.generalization_gap)}; {plural(metrics.optimizer_steps, 'step')} in "
            f"{metrics.train_time_s:.1f} s; results in {folder}")
        # Last: a run killed before this point resumes from its final checkpoint and writes the same results.
        checkpoint.clear()
        run_folder.complete(quick=args.limit is not None, summary={"test_accuracy": metrics.test_accuracy})
    return 0


def worker_folders(worker) -> tuple[str, ...]:
    """The other workers' folders inside the chief's: ``--overwrite`` of the chief leaves them to their workers."""
    return tuple(f"worker-{index}" for index in range(1, worker.count)) if worker is not None else ()


def train_seeds(args) -> int:
    """One run per seed into <output>/seed-<s>/ (``core.sweep`` trials), then the aggregate (by the chief) in <output>/."""
    from pyimagesearch.core.distribute import Distribution, output_folder
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.core.sweep import check_executor_arguments, run_trials
    from pyimagesearch.lenet.executor import process_strategy
    from pyimagesearch.lenet.seeds import describe_aggregate, resolve_seeds, run_seed, seed_trials, seeds_title
    from pyimagesearch.lenet.seeds import write_seed_summary
    from pyimagesearch.lenet.settings import resolve_settings
    from pyimagesearch.lenet.training import remove_stale_results

    check_executor_arguments(args)  # before anything is written: Ray missing, or a Ray flag without --executor ray
    seeds = resolve_seeds(args.seeds, args.seed)
    settings = resolve_settings(args.policy, given_options(args), args.from_finder)
    strategy, worker = process_strategy(args.strategy, args.executor)
    distribution = Distribution(strategy, worker, output_folder(Path(args.output), worker))
    # A worker other than the chief keeps its copy of every seed's run in its own folder and aggregates nothing.
    folder, worker = distribution.folder, distribution.worker
    common = {key: value for key, value in run_settings(args, settings, distribution.replicas).items()
              if key != "seed"}
    with RunFolder(folder, "lenet-seeds", {**common, "seeds": seeds}, overwrite=args.overwrite,
                   config={key: value for key, value in vars(args).items() if key != "seed"},
                   keep=worker_folders(worker)) as seeds_folder:
        if seeds_folder.finished:
            print(f"{folder} holds these seeds' runs, finished: their results are kept (pass --overwrite to train "
                  "them again)")
            return 0
        remove_stale_results(folder)  # a single run's files left here must not pass for the aggregate
        run_trials(seed_trials(folder, seeds, args), run_seed, args, name="seeds")
        if not distribution.is_chief:
            seeds_folder.complete(quick=args.limit is not None, summary={"worker": worker.index})
            return 0
        aggregate = write_seed_summary(folder, seeds, seeds_title(folder, seeds, args.policy))
        seeds_folder.complete(quick=args.limit is not None, summary={"test_accuracy": aggregate.test_accuracy.mean})
    print(f"{describe_aggregate(aggregate)}; results in {folder}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    quiet_tensorflow(args.verbose)
    if args.compare:
        return compare(args, argv)
    return train_seeds(args) if args.seeds else train(args)


if __name__ == "__main__":
    sys.exit(run(main))
