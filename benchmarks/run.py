"""Benchmarks: the project's training paths against the plain way, measured side by side.

Each figure compares the project with what a user would otherwise write,
in the same process, alternating the two (or three) sides round after round;
the ratio of every round is kept, and the table gives the median ratio with
its spread (min, median, max), because a shared 2-core machine is noisy and
only ratios measured side by side mean much. The load average before and
after the run says whether other work shared the machine.

1. LeNet-5 training throughput (images/s, full epochs, batch 64): the
   training path of train_lenet.py with the cyclical policy (the
   CyclicalLearningRate schedule inside the compiled step,
   steps_per_execution=32, tf.data) against two references: model.fit on
   NumPy arrays with the per-batch CyclicLR callback (the pyimagesearch way),
   and model.fit on NumPy arrays at a fixed LR with no callback (the baseline
   a Keras user would pick). Also the fraction of the machine's float32
   matrix-product peak, measured with NumPy here.
2. LR range test overhead: LearningRateFinder over N batches against a plain
   fit over the same N batches at a fixed LR.
3. The task's grid (10 LRs x 5 epochs): find_lr.py --grid against 10
   separate 5-epoch model.fit runs; one pair, as each side takes minutes.
4. Transfer: time per epoch after the first, feature mode against finetune
   mode (random weights, same batch and image size); the spread is over the
   epochs.
5. Peak resident memory of find_lr.py --batch 64 and of one transfer epoch.
6, 7. (--steps grid_ray,seeds_ray; benchmarks/ray_steps.py) The task's grid and
   train_lenet.py --seeds 3, each --executor serial against --executor ray with
   2 trials of 1 core each: wall-time ratio with its spread over the rounds.
8, 9. (--steps precision,standin_transfer; benchmarks/standin_steps.py) Problem 3's
   offline stand-in: its pretraining's images/s in float32 against
   mixed_bfloat16, and a feature-extraction epoch against a fine-tuning epoch
   on the digits with a pretrained base.

Writes output/benchmarks/results.json (a ``records.benchmark.BenchmarkResults``,
rewritten after every step), results.md, config.json and, last,
complete.json. A folder holding a finished run of the same settings is
kept (--overwrite measures again); one of other settings is refused.

usage: python benchmarks/run.py [--quick] [--overwrite] [--steps throughput,...,grid_ray,seeds_ray,precision,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyimagesearch.core.cli import (
    ArgumentParser,  # noqa: E402
    HelpFormatter, add_verbose_argument, bounded_int, quiet_tensorflow, run,
)

import numpy as np  # noqa: E402

from pyimagesearch.records.benchmark import (  # noqa: E402
    BenchmarkResults, Finder, Grid, LoadSample, Memory, Spread, Throughput, Transfer,
)
from benchmarks import ray_steps, standin_steps  # noqa: E402

BATCH = 64
MAX_ROUNDS = 100  # rounds of alternation: each takes a few epochs of three trainings
IDLE_LOAD = 0.5  # 1-minute load average below which the machine counts as idle when the run begins
TARGETS = {
    "throughput_ratio": ">= 1.25 (project / reference images/s)",
    "finder_overhead": "<= 1.10 (finder / plain fit time)",
    "grid_ratio": "<= 0.80 (grid / separate runs time)",
    "transfer_speedup": ">= 10 (finetune / feature epoch time)",
}
STEPS = ("throughput", "finder", "grid", "transfer", "memory")  # the default steps, each with its target
ALL_STEPS = STEPS + ray_steps.RAY_STEPS + standin_steps.STANDIN_STEPS


def step_list(text: str) -> list[str]:
    """argparse type of ``--steps``: a comma-separated list of the steps to run, in the order of the list."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_STEPS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: the steps are {', '.join(ALL_STEPS)}")
    return [name for name in ALL_STEPS if name in names]


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def spread(values) -> Spread:
    """min, median and max of a list of ratios."""
    return Spread(min=min(values), median=statistics.median(values), max=max(values))


def alternate(sides: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds of every side in every round; each round starts one side later, so no side always goes first."""
    names = list(sides)
    times = {name: [] for name in names}
    for index in range(rounds):
        for name in names[index % len(names):] + names[:index % len(names)]:
            times[name].append(timed(sides[name]))
    return times


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Best float32 matrix-product rate NumPy reaches here, in GFLOP/s (2 n^3 per product)."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def lenet_flops_per_image() -> float:
    """Forward + backward FLOPs of one image: 3 x forward, forward = 2 x multiply-adds."""
    from pyimagesearch.architectures import lenet5

    return 3 * 2 * lenet5().totals["macs"]


# --- 1. throughput --------------------------------------------------------------------------------

def bench_throughput(data, rounds: int) -> Throughput:
    import keras

    from pyimagesearch.clr_callback import CyclicLR, CyclicalLearningRate
    from pyimagesearch.core.pipeline import make_dataset
    from pyimagesearch.lenet.model import build_lenet5
    from pyimagesearch.core.training import compile_classifier

    x, y = data.x_train, data.y_train
    steps = int(np.ceil(len(x) / BATCH))
    clr = dict(base_lr=1e-3, max_lr=0.05, step_size=2.5 * steps, mode="exp_range", gamma=0.99994)

    keras.utils.set_random_seed(0)
    project = build_lenet5()
    compile_classifier(project, keras.optimizers.SGD(CyclicalLearningRate(**clr), momentum=0.9), steps_per_execution=32)
    dataset = make_dataset((x, y), BATCH, shuffle=True, seed=0)
    reference = build_lenet5()
    reference.compile(optimizer=keras.optimizers.SGD(clr["base_lr"], momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callback = CyclicLR(**clr)
    plain = build_lenet5()
    plain.compile(optimizer=keras.optimizers.SGD(clr["base_lr"], momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    project.fit(dataset.take(64), verbose=0)
    reference.fit(x[:64 * BATCH], y[:64 * BATCH], batch_size=BATCH, callbacks=[callback], verbose=0)
    plain.fit(x[:64 * BATCH], y[:64 * BATCH], batch_size=BATCH, verbose=0)

    times = alternate({
        "project": lambda: project.fit(dataset, verbose=0),
        "reference": lambda: reference.fit(x, y, batch_size=BATCH, callbacks=[callback], verbose=0),
        "plain": lambda: plain.fit(x, y, batch_size=BATCH, verbose=0),
    }, rounds)
    images_per_s = {side: len(x) / statistics.median(seconds) for side, seconds in times.items()}
    # A round's images/s ratio is the other side's time over the project's.
    ratios = {side: [t / p for t, p in zip(times[side], times["project"])] for side in ("reference", "plain")}
    peak = matmul_peak_gflops()
    flops = lenet_flops_per_image()
    return Throughput(
        images=len(x), rounds=rounds, seconds=times,
        project_images_per_s=images_per_s["project"], reference_images_per_s=images_per_s["reference"],
        plain_images_per_s=images_per_s["plain"],
        throughput_ratio=statistics.median(ratios["reference"]), throughput_ratio_spread=spread(ratios["reference"]),
        plain_ratio=statistics.median(ratios["plain"]), plain_ratio_spread=spread(ratios["plain"]),
        reference_jit_compile=bool(reference.jit_compile),
        matmul_peak_gflops=peak, flops_per_image=float(flops),
        project_fraction_of_peak=images_per_s["project"] * flops / (peak * 1e9),
        reference_fraction_of_peak=images_per_s["reference"] * flops / (peak * 1e9),
        plain_fraction_of_peak=images_per_s["plain"] * flops / (peak * 1e9),
    )


# --- 2. LR range test overhead --------------------------------------------------------------------

def bench_finder(data, rounds: int, batches: int) -> Finder:
    import keras

    from pyimagesearch.core.pipeline import make_dataset
    from pyimagesearch.learningratefinder import LearningRateFinder
    from pyimagesearch.lenet.model import build_lenet5

    def compiled(lr):
        model = build_lenet5()
        model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9), loss="sparse_categorical_crossentropy")
        return model

    batches = min(batches, int(np.ceil(len(data.x_train) / BATCH)))
    dataset = make_dataset((data.x_train, data.y_train), BATCH, shuffle=True, seed=0).take(batches)
    finder = LearningRateFinder(compiled(1e-3), stopFactor=float("inf"))
    plain = compiled(1e-3)
    finder.find(dataset.take(32), 1e-5, 1e-2, epochs=1, verbose=0)
    plain.fit(dataset.take(32), verbose=0)
    times = alternate({
        "finder": lambda: finder.find(dataset, 1e-5, 1e-2, epochs=1, verbose=0),
        "plain": lambda: plain.fit(dataset, verbose=0),
    }, rounds)
    ratios = [f / p for f, p in zip(times["finder"], times["plain"])]
    recorded = len(finder.raw_losses)
    return Finder(
        batches=batches, rounds=rounds, losses_recorded=recorded, seconds=times,
        finder_s=statistics.median(times["finder"]), plain_fit_s=statistics.median(times["plain"]),
        finder_overhead=statistics.median(ratios), finder_overhead_spread=spread(ratios),
    )


# --- 3. the grid ------------------------------------------------------------------------------------

def bench_grid(data, lrs, epochs: int, limit: int | None) -> Grid:
    import keras

    import find_lr
    from pyimagesearch.lenet.model import build_lenet5
    from pyimagesearch.core.outputs import read_csv

    folder = Path(tempfile.mkdtemp(prefix="grid-"))
    argv = ["--grid", str(len(lrs)), "--epochs", str(epochs), "--batch", str(BATCH), "--start-lr", str(lrs[0]),
            "--end-lr", str(lrs[-1]), "--quiet", "--output", str(folder)]
    if limit:
        argv += ["--limit", str(limit)]
    project = timed(lambda: run(find_lr.main, argv))
    rows = read_csv(folder / "lr_grid.csv")

    def separate():
        for lr in lrs:
            keras.utils.set_random_seed(42)
            model = build_lenet5()
            model.compile(optimizer=keras.optimizers.SGD(float(lr), momentum=0.9),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(data.x_train, data.y_train, batch_size=BATCH, epochs=epochs, verbose=0)

    reference = timed(separate)
    diverged = [row for row in rows if row["diverged"] == "yes"]
    return Grid(
        lrs=len(lrs), epochs=epochs, grid_s=project, separate_runs_s=reference,
        grid_ratio=project / reference, grid_ratio_spread=spread([project / reference]), diverged=len(diverged),
        diverged_epochs_run=[int(row["epochs_run"]) for row in diverged],
    )


# --- 4. transfer ------------------------------------------------------------------------------------

def write_images(folder: Path, classes: int, per_class: int, size: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in range(classes):
        (folder / f"class{label}").mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"class{label}" / f"{index}.png")
    return folder


def bench_transfer(images: Path, epochs: int, image_size: int) -> Transfer:
    """Each mode runs as ``python transfer.py``, as a user runs it, in a process of its own."""
    from pyimagesearch.core.outputs import read_csv

    out = Path(tempfile.mkdtemp(prefix="transfer-"))
    seconds, epochs_s = {}, {}
    for mode in ("finetune", "feature"):
        argv = ["--data-dir", str(images), "--val-fraction", "0.2", "--mode", mode, "--lr", "1e-5",
                "--epochs", str(epochs), "--batch", str(BATCH), "--image-size", str(image_size), "--weights", "none",
                "--output", str(out)]
        result = subprocess.run([sys.executable, "transfer.py", *argv], cwd=ROOT, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"transfer.py {' '.join(argv)} exited {result.returncode}: {result.stderr[-2000:]}")
        history = read_csv(out / images.name / f"{mode}_lr1e-05" / "history.csv")
        epochs_s[mode] = [float(row["seconds"]) for row in history[1:]]
        seconds[mode] = statistics.median(epochs_s[mode])
    ratios = [f / e for f, e in zip(epochs_s["finetune"], epochs_s["feature"])]
    return Transfer(
        epochs=epochs, image_size=image_size, batch=BATCH, epoch_seconds=epochs_s,
        finetune_epoch_s=seconds["finetune"], feature_epoch_s=seconds["feature"],
        transfer_speedup=statistics.median(ratios), transfer_speedup_spread=spread(ratios),
    )


# --- 5. memory --------------------------------------------------------------------------------------

RSS_LAUNCHER = (
    "import resource, subprocess, sys; "
    "status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
    "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss_mb(command: list[str]) -> float:
    """Peak resident set size of ``command``, in MiB.

    Measured by a small launcher process (``ru_maxrss`` of its children, KiB
    on Linux): a child forked from this large process would start out
    counting this process's memory as its own.
    """
    output = subprocess.run([sys.executable, "-c", RSS_LAUNCHER, *command], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    status, kib = int(output[0]), int(output[1])
    if status:
        raise RuntimeError(f"{' '.join(command)} exited {status}")
    return kib / 1024


def bench_memory(images: Path, quick: bool) -> Memory:
    python = sys.executable
    baseline = peak_rss_mb([python, "-c", "import tensorflow, keras; tensorflow.constant(1)"])
    data_mb = 0.0
    find = [python, "find_lr.py", "--batch", str(BATCH), "--quiet", "--output", tempfile.mkdtemp(prefix="mem-")]
    if quick:
        find += ["--limit", "6000", "--sample-size", "200"]
    train_images = 6000 * 0.9 if quick else 54000
    data_mb = (train_images + (6000 if quick else 16000)) * 28 * 28 * 4 / 2**20
    transfer = [python, "transfer.py", "--data-dir", str(images), "--mode", "finetune", "--lr", "1e-5",
                "--epochs", "1", "--batch", str(BATCH), "--image-size", "64", "--weights", "none",
                "--output", tempfile.mkdtemp(prefix="mem-")]
    return Memory(
        tensorflow_import_mb=baseline,
        find_lr_peak_mb=peak_rss_mb(find),
        find_lr_float32_images_mb=data_mb,
        transfer_epoch_peak_mb=peak_rss_mb(transfer),
        resnet50_weights_mb=23.6e6 * 4 / 2**20,
    )


# --- report -----------------------------------------------------------------------------------------

def verdicts(results: BenchmarkResults) -> dict:
    t, f, g, r = results.throughput, results.finder, results.grid, results.transfer
    return {
        "throughput_ratio": t.throughput_ratio >= 1.25,
        "finder_overhead": f.finder_overhead <= 1.10,
        "grid_ratio": g.grid_ratio <= 0.80,
        "transfer_speedup": r.transfer_speedup >= 10,
    }


def spread_text(values: Spread, digits: int = 2) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in (values.min, values.median, values.max))


def load_text(load: list[LoadSample], cores: int) -> str:
    """The 1-minute load averages sampled during the run, and whether the machine was idle when it began."""
    before = load[0].load_1min
    samples = ", ".join(f"{sample.load_1min:.2f} {sample.when}" for sample in load)
    state = (f"the machine was idle when the run began (below {IDLE_LOAD} on {cores} cores)" if before < IDLE_LOAD
             else f"the machine was busy when the run began ({before:.2f} on {cores} cores: other jobs were running, "
                  "so the figures are less reliable than on an idle machine)")
    return (f"Load average over the last minute: {samples}; {state}. The benchmark itself keeps both cores "
            "busy, so the load during the run includes its own.")


def markdown(results: BenchmarkResults) -> str:
    if any(getattr(results, name) is None for name in STEPS):  # some steps only (--steps): their tables
        lines = [f"Benchmarks ({'quick' if results.quick else 'full'} run, {results.when}, {results.machine}), "
                 "some steps only.", *ray_steps.markdown_lines(results), *standin_steps.markdown_lines(results), "", load_text(results.load, os.cpu_count() or 1)]
        return "\n".join(lines) + "\n"
    t, f, g, r, m = results.throughput, results.finder, results.grid, results.transfer, results.memory
    met = {key: "met" if ok else "**not met**" for key, ok in verdicts(results).items()}
    lines = [
        f"Benchmarks ({'quick' if results.quick else 'full'} run, {results.when}, {results.machine}). "
        "Sides alternated round after round in one process; the ratio is the median of the rounds' ratios, the "
        "spread their min / median / max.",
        "",
        "| benchmark | project | reference | ratio | spread of the ratio | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| LeNet-5 training, images/s ({t.images:,} images, batch {BATCH}, {t.rounds} rounds): reference "
        f"model.fit with the per-batch CyclicLR callback | {t.project_images_per_s:,.0f} | "
        f"{t.reference_images_per_s:,.0f} | {t.throughput_ratio:.2f}x | {spread_text(t.throughput_ratio_spread)} | "
        f"{TARGETS['throughput_ratio']}: {met['throughput_ratio']} |",
        f"| the same, reference plain model.fit at a fixed LR, no callback | {t.project_images_per_s:,.0f} | "
        f"{t.plain_images_per_s:,.0f} | {t.plain_ratio:.2f}x | {spread_text(t.plain_ratio_spread)} | "
        "reported, no target |",
        f"| LR range test over {f.batches} batches, s ({f.rounds} rounds): reference plain fit | "
        f"{f.finder_s:.2f} | {f.plain_fit_s:.2f} | {f.finder_overhead:.2f} | "
        f"{spread_text(f.finder_overhead_spread)} | {TARGETS['finder_overhead']}: {met['finder_overhead']} |",
        f"| grid of {g.lrs} LRs x {g.epochs} epochs, s (1 pair): reference separate model.fit runs | "
        f"{g.grid_s:.1f} | {g.separate_runs_s:.1f} | {g.grid_ratio:.2f} | one pair | "
        f"{TARGETS['grid_ratio']}: {met['grid_ratio']} |",
        f"| transfer epoch after the first, s ({r.image_size} px, batch {BATCH}, {len(r.epoch_seconds['feature'])} "
        f"epochs): feature mode against finetune | {r.feature_epoch_s:.3f} | {r.finetune_epoch_s:.2f} | "
        f"{r.transfer_speedup:.0f}x | {spread_text(r.transfer_speedup_spread, 0)} | "
        f"{TARGETS['transfer_speedup']}: {met['transfer_speedup']} |",
        "",
        load_text(results.load, os.cpu_count() or 1),
        "",
        f"LeNet-5 costs {t.flops_per_image / 1e6:.2f} MFLOP per image (forward + backward = 3 x 2 x multiply-adds); "
        f"NumPy's float32 matrix product reaches {t.matmul_peak_gflops:.0f} GFLOP/s here, so training runs at "
        f"{100 * t.project_fraction_of_peak:.1f}% of that peak (the CyclicLR reference "
        f"{100 * t.reference_fraction_of_peak:.1f}%, plain fit {100 * t.plain_fraction_of_peak:.1f}%; the "
        f"references compile with jit_compile={t.reference_jit_compile}). "
        f"The finder recorded {f.losses_recorded} true batch losses. "
        f"The grid stopped {g.diverged} diverging LR(s) after {g.diverged_epochs_run} epoch(s).",
        "",
        f"Peak resident memory: find_lr.py {m.find_lr_peak_mb:,.0f} MiB, one transfer epoch "
        f"{m.transfer_epoch_peak_mb:,.0f} MiB. Importing TensorFlow and Keras alone takes "
        f"{m.tensorflow_import_mb:,.0f} MiB; the Fashion-MNIST images as float32 are "
        f"{m.find_lr_float32_images_mb:,.0f} MiB (held once in NumPy and once more by tf.data); ResNet50's "
        f"weights are {m.resnet50_weights_mb:,.0f} MiB, and fine-tuning keeps its activations for the backward pass.",
        *ray_steps.markdown_lines(results),
        *standin_steps.markdown_lines(results),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    load = [LoadSample(when="before", load_1min=os.getloadavg()[0])]  # before this process adds to it
    parser = ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a reduced run, under two minutes (figures, not targets)")
    parser.add_argument("--rounds", type=bounded_int(1, MAX_ROUNDS, "--rounds"), default=None,
                        help="rounds of alternation for the throughput and range-test comparisons (7; quick 3)")
    parser.add_argument("--output", default=str(ROOT / "output" / "benchmarks"), help="output folder")
    parser.add_argument("--overwrite", action="store_true",
                        help="measure again into a folder that holds a finished run (or one of other settings)")
    parser.add_argument("--steps", type=step_list, default=list(STEPS),
                        help=f"the steps to run (default {','.join(STEPS)}; also {','.join(ray_steps.RAY_STEPS)}: the "
                             f"grid and 3 seeds, --executor serial against ray; {','.join(standin_steps.STANDIN_STEPS)}: "
                             "the stand-in's pretraining in float32 against mixed_bfloat16, and its epoch times)")
    add_verbose_argument(parser)
    args = parser.parse_args(argv)
    quiet_tensorflow(args.verbose)

    from pyimagesearch.core.outputs import prepare_dir, write_text
    from pyimagesearch.core.run import RunFolder
    from pyimagesearch.lenet.data import load_splits
    from pyimagesearch.lr_policies import grid_lrs

    rounds = args.rounds or (3 if args.quick else 7)
    settings = {"quick": args.quick, "rounds": rounds, **({"steps": args.steps} if args.steps != list(STEPS) else {})}
    with RunFolder(args.output, "benchmark", settings, overwrite=args.overwrite) as run:
        folder = run.folder
        if run.finished:
            print(f"{folder} holds a finished benchmark run at these settings (results.md); kept as it is. Pass "
                  "--overwrite to measure again.")
            return 0
        prepare_dir(folder)
        classic = set(STEPS) & set(args.steps)
        data = load_splits(limit=6000 if args.quick else None) if classic - {"transfer", "memory"} else None
        images = (write_images(Path(tempfile.mkdtemp(prefix="images-")), 3, 16 if args.quick else 128, 72)
                  if classic & {"transfer", "memory"} else None)
        results = BenchmarkResults(quick=args.quick, when=time.strftime("%Y-%m-%d %H:%M"),
                                   machine=f"{os.cpu_count()} CPU cores", load=load)
        steps = [
            ("throughput", lambda: bench_throughput(data, rounds)),
            ("finder", lambda: bench_finder(data, rounds, 100 if args.quick else 844)),
            ("grid", lambda: bench_grid(data, grid_lrs(1e-9, 1e1, 4 if args.quick else 10), 1 if args.quick else 5,
                                        6000 if args.quick else None)),
            ("transfer", lambda: bench_transfer(images, 3 if args.quick else 5, 32 if args.quick else 64)),
            ("memory", lambda: bench_memory(images, args.quick)),
            *ray_steps.steps(args.quick, rounds).items(),
            *standin_steps.steps(args.quick, rounds).items(),
        ]
        for name, step in [(name, step) for name, step in steps if name in args.steps]:
            print(f"running {name} ...", flush=True)
            measured = step()
            load = [*load, LoadSample(when=f"after {name}", load_1min=os.getloadavg()[0])]
            results = dataclasses.replace(results, **{name: measured}, load=load)
            results.write(folder)
        if classic == set(STEPS):
            results = dataclasses.replace(results, targets_met=verdicts(results))
        results.write(folder)
        table = markdown(results)
        write_text(folder / "results.md", table)
        run.complete(quick=args.quick, summary={"targets_met": results.targets_met})
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
