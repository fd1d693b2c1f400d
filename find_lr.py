"""LR range test of LeNet-5 on Fashion-MNIST, or the literal grid of LRs.

Range test (default): one training run in which the LR grows geometrically
every batch from --start-lr to --end-lr; the smoothed loss against the LR
suggests lr_min and lr_max for the cyclical policy. Writes to output/find_lr/:
lr_finder.png, lr_finder.csv, suggestion.json, config.json.

Grid (--grid N): N LRs log-spaced from --start-lr to --end-lr, a fresh model
trained --epochs epochs at each. Each LR is a run of its own in
output/lr_grid/lr-<lr>/ (grid_row.json, config.json, complete.json), one after
another in this process (--executor serial) or side by side on Ray Tune
(--executor ray: this machine's cores and GPUs, or a cluster); then this process
writes to output/lr_grid/: lr_grid.csv, lr_grid_history.csv, lr_grid.png,
suggestion.json, config.json. The numbers are the same either way.

A folder holds one sweep: run again with the same settings, a finished one
is kept and a grid cut short keeps the LRs it finished; other settings are
refused unless --overwrite replaces the results.

examples:
  python find_lr.py --batch 64
  python find_lr.py --grid 10 --epochs 5 --batch 64
  python find_lr.py --grid 10 --epochs 5 --batch 64 --executor ray --trial-cpus 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pyimagesearch.core.cli import (
    ArgumentParser, HelpFormatter, UserError, add_verbose_argument, bounded_int, fraction, learning_rate, nonnegative_int,
    positive_float, quiet_tensorflow, run,
)
from pyimagesearch.core.distribute import add_strategy_argument
from pyimagesearch.core.wording import plural
from pyimagesearch.core.sweep import add_executor_arguments
from pyimagesearch.lenet.arguments import MAX_BATCH, MAX_EPOCHS, count_up_to, output_argument
from pyimagesearch.lenet.data import add_data_arguments
from pyimagesearch.lr_range import DEFAULT_LR_MAX_RULE, LR_MAX_RULES

RANGE_FILES = ("lr_finder.csv", "lr_finder.png", "suggestion.json")
GRID_FILES = ("lr_grid.csv", "lr_grid_history.csv", "lr_grid.png", "suggestion.json")
MAX_GRID = 1000  # learning rates of one grid, each a fresh model trained --epochs epochs
MAX_SAMPLE_SIZE = 10_000_000  # batch updates of one range test


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--batch", type=count_up_to(MAX_BATCH, "the batch size"), default=64, help="batch size")
    parser.add_argument("--start-lr", type=learning_rate, default=1e-9, help="lowest learning rate of the sweep")
    parser.add_argument("--end-lr", type=learning_rate, default=1e1, help="highest learning rate of the sweep")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (the optimizer train_lenet.py uses)")
    parser.add_argument("--grid", type=bounded_int(0, MAX_GRID, "the grid size"), default=0,
                        help="run the literal grid of this many log-spaced LRs instead of the range test (0: range test)")
    parser.add_argument("--epochs", type=count_up_to(MAX_EPOCHS, "the number of epochs"), default=None,
                        help="epochs per LR in the grid (default 5); epochs of the range test "
                             "(default ceil(sample-size / batches per epoch))")
    parser.add_argument("--sample-size", type=count_up_to(MAX_SAMPLE_SIZE, "the sample size"), default=2048,
                        help="range test: least number of batch updates when --epochs is not given")
    parser.add_argument("--stop-factor", type=positive_float, default=4.0,
                        help="stop when the smoothed loss exceeds this multiple of the best one "
                             "(grid: of ln(10), the loss of a uniform guess)")
    parser.add_argument("--beta", type=fraction, default=0.98, help="range test: loss smoothing factor")
    parser.add_argument("--skip-begin", type=nonnegative_int, default=10,
                        help="range test: batches left out at the start of the plot and the suggestion")
    parser.add_argument("--skip-end", type=nonnegative_int, default=1,
                        help="range test: batches left out at the end of the plot and the suggestion")
    parser.add_argument("--lr-max-rule", choices=tuple(LR_MAX_RULES), default=DEFAULT_LR_MAX_RULE,
                        help="how lr_max is read from the curve: " + "; ".join(f"{k}: {v}" for k, v in LR_MAX_RULES.items()).replace("%", "%%"))
    parser.add_argument("--output", type=output_argument, default=None,
                        help="output folder (default output/find_lr, or output/lr_grid with --grid)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results in --output when they were made with other settings (or are finished)")
    add_data_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    add_verbose_argument(parser)
    add_strategy_argument(parser)
    add_executor_arguments(parser)
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.start_lr >= args.end_lr:
        parser.error(f"--start-lr ({args.start_lr:g}) must be below --end-lr ({args.end_lr:g})")
    if args.grid == 1:
        parser.error("--grid needs at least 2 learning rates")
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must be in [0, 1), got {args.momentum:g}")
    if args.stop_factor <= 1:
        parser.error(f"--stop-factor must be > 1, got {args.stop_factor:g}")
    from pyimagesearch.lenet.executor import check_sweep_flags

    check_sweep_flags(parser, args, sweep=bool(args.grid), one_run="the range test is one run; add --grid N")
    if args.output is None:
        args.output = Path("output") / ("lr_grid" if args.grid else "find_lr")
    return args


def range_test(args, data, folder: Path, strategy):
    import keras

    from pyimagesearch.core.outputs import save_figure
    from pyimagesearch.core.training import compile_classifier
    from pyimagesearch.learningratefinder import LearningRateFinder
    from pyimagesearch.lenet.model import build_lenet5
    from pyimagesearch.records.lr_finder import LRRangeSuggestion, write_finder_curve

    with strategy.scope():
        model = build_lenet5()
        compile_classifier(model, keras.optimizers.SGD(args.start_lr, momentum=args.momentum))
    finder = LearningRateFinder(model, stopFactor=args.stop_factor, beta=args.beta)
    started = time.perf_counter()
    finder.find((data.x_train, data.y_train), args.start_lr, args.end_lr, epochs=args.epochs,
                batchSize=args.batch * strategy.num_replicas_in_sync, sampleSize=args.sample_size,
                verbose=0 if args.quiet else 1, seed=args.seed)
    seconds = time.perf_counter() - started
    write_finder_curve(folder, finder.history)
    suggestion = finder.suggest(args.skip_begin, args.skip_end, args.lr_max_rule)
    title = f"LR range test, LeNet-5 on Fashion-MNIST, batch {args.batch}"
    save_figure(finder.plot_loss(args.skip_begin, args.skip_end, title=title, rule=args.lr_max_rule).figure,
                folder / "lr_finder.png")
    record = LRRangeSuggestion.of(
        suggestion, batches=len(finder.lrs), stop_reason=finder.stop_reason, seconds=round(seconds, 2),
        rule=f"lr_range.suggest_lr_range on the lag-free loss: lr_min 10% of the drop, lr_max "
             f"{LR_MAX_RULES[args.lr_max_rule]}")
    record.write(folder)
    print(f"{plural(len(finder.lrs), 'batch', 'batches')} in {seconds:.1f} s; results in {folder}")
    return record


def grid(args, folder: Path, replicas: int):
    """Every LR of the grid as a trial (``lenet.grid.run_grid_point``), then the grid's files from their rows."""
    from pyimagesearch.core.outputs import save_figure
    from pyimagesearch.core.sweep import run_trials
    from pyimagesearch.lenet.grid import grid_trials, read_points, run_grid_point
    from pyimagesearch.lenet.plots import plot_lr_grid
    from pyimagesearch.lr_policies import grid_lrs
    from pyimagesearch.lr_range import suggest_lr_range
    from pyimagesearch.records.lr_finder import LRRangeSuggestion, write_grid

    epochs = args.epochs or 5
    trials = grid_trials(folder, grid_lrs(args.start_lr, args.end_lr, args.grid),
                         {**vars(args), "epochs": epochs, "replicas": replicas}, quiet=args.quiet, executor=args.executor)
    started = time.perf_counter()
    run_trials(trials, run_grid_point, args, name="lr_grid", log=(lambda line: None) if args.quiet else None)
    seconds = time.perf_counter() - started
    points = read_points(trials)
    write_grid(folder, points)
    rows = [point.as_row() for point in points]
    losses = [float("nan") if r["diverged"] else r["final_train_loss"] for r in rows]
    suggestion = suggest_lr_range([r["lr"] for r in rows], losses, lr_max_rule=args.lr_max_rule)
    title = f"LeNet-5 on Fashion-MNIST: {plural(epochs, 'epoch')} per LR, batch {args.batch}"
    save_figure(plot_lr_grid(rows, suggestion, title=title).figure, folder / "lr_grid.png")
    record = LRRangeSuggestion.of(
        suggestion, learning_rates=len(rows), seconds=round(seconds, 2),
        rule=f"lr_range.suggest_lr_range on the final training losses, diverged LRs excluded: lr_min 10% of "
             f"the drop, lr_max {LR_MAX_RULES[args.lr_max_rule]}")
    record.write(folder)
    print(f"{plural(len(rows), 'learning rate')} in {seconds:.1f} s; results in {folder}")
    return record


def report(suggestion, plot: Path) -> int:
    if not suggestion:
        raise UserError(f"no LR range can be suggested: {suggestion.reason} (see {plot})")
    print(f"suggested lr_min = {suggestion.lr_min:.3g}, lr_max = {suggestion.lr_max:.3g}")
    if suggestion.still_decreasing:
        print(f"note: {suggestion.reason}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    quiet_tensorflow(args.verbose)
    import matplotlib

    matplotlib.use("Agg")
    from pyimagesearch.core.distribute import describe, output_folder
    from pyimagesearch.core.outputs import prepare_dir, remove_stale
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.core.sweep import check_executor_arguments
    from pyimagesearch.lenet.executor import process_strategy
    from pyimagesearch.lenet.grid import point_data
    from pyimagesearch.records.lr_finder import LRRangeSuggestion

    check_executor_arguments(args)  # before any data is loaded: Ray missing, or a Ray flag without --executor ray
    strategy, worker = process_strategy(args.strategy, args.executor)
    folder = output_folder(args.output, worker)
    data = point_data(vars(args))  # loaded once: the grid's points trained in this process use it too
    if len(data.x_train) < args.batch:
        raise UserError(f"only {len(data.x_train)} training images for a batch of {args.batch}; lower --batch or raise --limit")
    distribution = describe(strategy, args.batch, worker)
    config = {"data_source": data.source, "distribution": distribution, **{f"{k}_images": v for k, v in data.sizes().items()}}
    settings = {**vars(args), "replicas": distribution["replicas"]}
    plot = folder / ("lr_grid.png" if args.grid else "lr_finder.png")
    keep = [f"worker-{index}" for index in range(1, worker.count)] if worker is not None else []
    with RunFolder(folder, "lr-grid" if args.grid else "lr-range-test", settings, overwrite=args.overwrite,
                   seed=args.seed, tensorflow=True, config=config, keep=keep) as run_folder:
        prepare_dir(folder)  # under the lock: the leftovers of a killed write are no live writer's
        if run_folder.finished:
            print(f"{folder} holds this {'grid' if args.grid else 'range test'}, finished: its results are kept "
                  "(pass --overwrite to run it again)")
            return report(LRRangeSuggestion.read(folder), plot)
        # Written again at the end; a grid of the same settings cut short keeps the LRs it finished in lr-<lr>/.
        remove_stale(folder, dict.fromkeys(RANGE_FILES + GRID_FILES))
        if distribution["replicas"] > 1:
            print(f"{distribution['strategy']}: {distribution['replicas']} replicas, global batch {distribution['global_batch']}")
        if args.grid:
            suggestion = grid(args, folder, distribution["replicas"])
        else:
            suggestion = range_test(args, data, folder, strategy)
        run_folder.complete(quick=args.limit is not None, summary={"lr_min": suggestion.lr_min, "lr_max": suggestion.lr_max})
    return report(suggestion, plot)


if __name__ == "__main__":
    sys.exit(run(main))
