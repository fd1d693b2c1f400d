"""The benchmarks' record: ``output/benchmarks/results.json`` of ``python benchmarks/run.py``.

One ``BenchmarkResults`` holds the five measurements, the two sweeps
serial against Ray and the offline stand-in's two (each its own record, None until its step has run, or
when it was not asked for, so the file written after every step is valid
too), the load average sampled around them and which targets were met. A
ratio's spread is the min / median / max of the ratios of the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyimagesearch.records.base import ACCURACY, COUNT, NONNEGATIVE, POSITIVE, POSITIVE_COUNT, Record, each


def by_side(rule: dict, what: str) -> dict:
    """The rule of a ``{"side": [value, ...]}`` field: every list holds values that pass ``rule`` (``what`` names them)."""
    check = each(rule)["check"]

    def sides(value: dict) -> str | None:
        for side, values in value.items():
            problem = f"is not a list of {what}" if not isinstance(values, list) else check(values)
            if problem:
                return f"has {side!r} that {problem}"
        return None

    return {"check": sides}


SECONDS_BY_SIDE = by_side(NONNEGATIVE, "seconds")


@dataclass(frozen=True)
class Spread(Record):
    """min / median / max of the rounds' ratios."""

    KIND = "benchmark-spread"

    min: float = field(metadata=POSITIVE)
    median: float = field(metadata=POSITIVE)
    max: float = field(metadata=POSITIVE)

    def to_json(self) -> dict:
        """The plain ``{"min", "median", "max"}`` it always was: a value inside a record, not a file of its own."""
        self.validate(self.KIND)
        return {"min": self.min, "median": self.median, "max": self.max}

    def check(self) -> str | None:
        if not self.min <= self.median <= self.max:
            return f"has min {self.min}, median {self.median}, max {self.max}, which are not in order"
        return None


@dataclass(frozen=True)
class Throughput(Record):
    """1. LeNet-5 training throughput: the project's path against the CyclicLR callback and a plain fit."""

    KIND = "benchmark-throughput"

    images: int = field(metadata=POSITIVE_COUNT)
    rounds: int = field(metadata=POSITIVE_COUNT)
    seconds: dict = field(metadata=SECONDS_BY_SIDE)
    project_images_per_s: float = field(metadata=POSITIVE)
    reference_images_per_s: float = field(metadata=POSITIVE)
    plain_images_per_s: float = field(metadata=POSITIVE)
    throughput_ratio: float = field(metadata=POSITIVE)
    throughput_ratio_spread: Spread
    plain_ratio: float = field(metadata=POSITIVE)
    plain_ratio_spread: Spread
    reference_jit_compile: bool
    matmul_peak_gflops: float = field(metadata=POSITIVE)
    flops_per_image: float = field(metadata=POSITIVE)
    project_fraction_of_peak: float = field(metadata=POSITIVE)
    reference_fraction_of_peak: float = field(metadata=POSITIVE)
    plain_fraction_of_peak: float = field(metadata=POSITIVE)


@dataclass(frozen=True)
class Finder(Record):
    """2. The LR range test over N batches against a plain fit over the same batches."""

    KIND = "benchmark-finder"

    batches: int = field(metadata=POSITIVE_COUNT)
    rounds: int = field(metadata=POSITIVE_COUNT)
    losses_recorded: int = field(metadata=COUNT)
    seconds: dict = field(metadata=SECONDS_BY_SIDE)
    finder_s: float = field(metadata=POSITIVE)
    plain_fit_s: float = field(metadata=POSITIVE)
    finder_overhead: float = field(metadata=POSITIVE)
    finder_overhead_spread: Spread


@dataclass(frozen=True)
class Grid(Record):
    """3. find_lr.py --grid against separate model.fit runs (one pair)."""

    KIND = "benchmark-grid"

    lrs: int = field(metadata=POSITIVE_COUNT)
    epochs: int = field(metadata=POSITIVE_COUNT)
    grid_s: float = field(metadata=POSITIVE)
    separate_runs_s: float = field(metadata=POSITIVE)
    grid_ratio: float = field(metadata=POSITIVE)
    grid_ratio_spread: Spread
    diverged: int = field(metadata=COUNT)
    diverged_epochs_run: list[int] = field(metadata=each(COUNT))


@dataclass(frozen=True)
class Transfer(Record):
    """4. Seconds per transfer epoch after the first: feature mode against finetune mode."""

    KIND = "benchmark-transfer"

    epochs: int = field(metadata=POSITIVE_COUNT)
    image_size: int = field(metadata=POSITIVE_COUNT)
    batch: int = field(metadata=POSITIVE_COUNT)
    epoch_seconds: dict = field(metadata=SECONDS_BY_SIDE)
    finetune_epoch_s: float = field(metadata=POSITIVE)
    feature_epoch_s: float = field(metadata=POSITIVE)
    transfer_speedup: float = field(metadata=POSITIVE)
    transfer_speedup_spread: Spread


@dataclass(frozen=True)
class Memory(Record):
    """5. Peak resident memory, in MiB."""

    KIND = "benchmark-memory"

    tensorflow_import_mb: float = field(metadata=POSITIVE)
    find_lr_peak_mb: float = field(metadata=POSITIVE)
    find_lr_float32_images_mb: float = field(metadata=POSITIVE)
    transfer_epoch_peak_mb: float = field(metadata=POSITIVE)
    resnet50_weights_mb: float = field(metadata=POSITIVE)


@dataclass(frozen=True)
class SweepExecutor(Record):
    """6, 7. A sweep's whole command, ``--executor serial`` against ``--executor ray`` (trials side by side), rounds alternated."""

    KIND = "benchmark-sweep-executor"

    command: str  # the command line both sides run, the executor's flags aside
    trials: int = field(metadata=POSITIVE_COUNT)
    trial_cpus: float = field(metadata=POSITIVE)  # CPUs (and TensorFlow threads) per Ray trial
    ray_cpus: int = field(metadata=POSITIVE_COUNT)  # CPUs of the local Ray the command starts
    rounds: int = field(metadata=POSITIVE_COUNT)
    seconds: dict = field(metadata=SECONDS_BY_SIDE)  # {"serial": [...], "ray": [...]}, wall time of the command
    serial_s: float = field(metadata=POSITIVE)
    ray_s: float = field(metadata=POSITIVE)
    ray_ratio: float = field(metadata=POSITIVE)  # ray / serial wall time: the median of the rounds' ratios
    ray_ratio_spread: Spread
    max_difference: float = field(metadata=NONNEGATIVE)  # largest |ray - serial| of the results' numbers


@dataclass(frozen=True)
class PretrainPrecision(Record):
    """8. The stand-in's pretraining, float32 against mixed_bfloat16: training images/s and held-out accuracy."""

    KIND = "benchmark-pretrain-precision"

    train_images: int = field(metadata=POSITIVE_COUNT)
    epochs: int = field(metadata=POSITIVE_COUNT)
    rounds: int = field(metadata=POSITIVE_COUNT)
    images_per_second: dict = field(metadata=by_side(NONNEGATIVE, "images per second"))  # {"float32": [...], ...}
    val_accuracy: dict = field(metadata=by_side(ACCURACY, "accuracies"))
    float32_ips: float = field(metadata=POSITIVE)
    bfloat16_ips: float = field(metadata=POSITIVE)
    bfloat16_ratio: float = field(metadata=POSITIVE)  # bfloat16 / float32 images/s: the median of the rounds' ratios
    bfloat16_ratio_spread: Spread


@dataclass(frozen=True)
class StandinTransfer(Record):
    """9. Seconds per epoch after the first on the digits with a pretrained base: feature mode against finetune."""

    KIND = "benchmark-standin-transfer"

    epochs: int = field(metadata=POSITIVE_COUNT)
    train_images: int = field(metadata=POSITIVE_COUNT)
    image_size: int = field(metadata=POSITIVE_COUNT)
    epoch_seconds: dict = field(metadata=SECONDS_BY_SIDE)
    feature_epoch_s: float = field(metadata=POSITIVE)
    finetune_epoch_s: float = field(metadata=POSITIVE)
    speedup: float = field(metadata=POSITIVE)
    feature_seconds: float = field(metadata=NONNEGATIVE)  # computing the cached features, once


@dataclass(frozen=True)
class LoadSample(Record):
    """The 1-minute load average at one moment of the run ("before", "after throughput" ...)."""

    KIND = "benchmark-load"

    when: str
    load_1min: float = field(metadata=NONNEGATIVE)


TARGET_NAMES = ("throughput_ratio", "finder_overhead", "grid_ratio", "transfer_speedup")


@dataclass(frozen=True)
class BenchmarkResults(Record):
    """Everything ``benchmarks/run.py`` measured; a step not run yet is None."""

    KIND = "benchmark"
    FILE = "results.json"

    quick: bool
    when: str
    machine: str
    load: list[LoadSample]
    throughput: Throughput | None = None
    finder: Finder | None = None
    grid: Grid | None = None
    transfer: Transfer | None = None
    memory: Memory | None = None
    grid_ray: SweepExecutor | None = None
    seeds_ray: SweepExecutor | None = None
    precision: PretrainPrecision | None = None
    standin_transfer: StandinTransfer | None = None
    targets_met: dict | None = None  # None where not every step with a target ran

    def check(self) -> str | None:
        if not self.load:
            return "has no load sample (the one taken before the run is always there)"
        if self.targets_met is not None and (set(self.targets_met) != set(TARGET_NAMES)
                                             or not all(isinstance(v, bool) for v in self.targets_met.values())):
            return f"has targets_met that is not true or false for each of {', '.join(TARGET_NAMES)}"
        return None
