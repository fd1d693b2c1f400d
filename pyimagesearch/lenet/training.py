"""Training LeNet-5 on Fashion-MNIST under one LR policy, and comparing two runs.

Policies (SGD with momentum throughout, the optimizer of the LR range test):

- ``clr``: cyclical learning rate between lr_min and lr_max (Smith 2017,
  arXiv 1506.01186) through the ``CyclicalLearningRate`` schedule, step size
  given in epochs;
- ``batch-growth``: a fixed LR while the batch size doubles every K epochs
  from ``batch_start`` to ``batch_end`` (Smith, Kindermans, Ying & Le 2018,
  "Don't Decay the Learning Rate, Increase the Batch Size", arXiv 1711.00489);
- ``fixed``: a fixed LR and batch size, the baseline.

Every policy runs as a list of stages (one batch size each, a few epochs
each) on one model compiled once, so the epoch count and the optimizer step
continue across stages. The LR is a schedule or a constant, evaluated inside
the compiled step, so ``steps_per_execution`` can run many batches per call.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from pyimagesearch.core.cli import UserError
from pyimagesearch.lr_policies import CLR_MODES, batch_growth, batch_sizes
from pyimagesearch.core.outputs import read_json, write_csv, write_json, write_text

POLICIES = ("clr", "batch-growth", "fixed")
OUTPUT_DIRS = {"clr": "output/clr", "batch-growth": "output/batch_growth", "fixed": "output/fixed"}
COMPARISON_DIR = "output/comparison"

# Defaults of the flags that belong to one policy (the script shows them in --help).
DEFAULTS = {
    "mode": "exp_range",
    # Epochs per half cycle (Smith: 2-10 epochs' worth of iterations); 2.5 makes the default
    # 20 epochs four whole cycles, ending at lr_min, and did best of 2, 2.5, 4, 5 and 10 here.
    "step_size": 2.5,
    "gamma": 0.99994,  # exp_range decay per iteration (bckenstler's example value)
    "batch": 64,
    "epochs": 20,
    "batch_start": 32,
    "batch_end": 4096,
    "epochs_per_stage": 2,
}
# Which policies each policy-specific option applies to.
OPTION_POLICIES = {
    "lr_min": ("clr",),
    "lr_max": ("clr",),
    "mode": ("clr",),
    "step_size": ("clr",),
    "gamma": ("clr",),
    "batch": ("clr", "fixed"),
    "lr": ("batch-growth", "fixed"),
    "batch_start": ("batch-growth",),
    "batch_end": ("batch-growth",),
    "epochs_per_stage": ("batch-growth",),
}
# Files a training run writes besides config.json; stale ones from an earlier run are removed first.
RUN_FILES = ("history.csv", "log.txt", "metrics.json", "model.keras", "curves.png", "lr_trace.png",
             "loss_vs_log2_batch.png")
EVAL_BATCH = 1024
HISTORY_FIELDS = ["epoch", "batch_size", "steps", "iterations", "lr", "loss", "accuracy", "val_loss",
                  "val_accuracy", "time_s"]


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


# --- settings -----------------------------------------------------------------------------------


def read_finder_suggestion(path: str | os.PathLike) -> tuple[float, float]:
    """``(lr_min, lr_max)`` from an LR range test's ``suggestion.json``."""
    if not Path(path).exists():
        raise UserError(f"LR finder suggestion {path} does not exist; run find_lr.py first or pass the LRs as flags")
    suggestion = read_json(path, what="LR finder suggestion")
    values = suggestion if isinstance(suggestion, dict) else {}
    lr_min, lr_max = values.get("lr_min"), values.get("lr_max")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                  for v in (lr_min, lr_max))
    if not numbers or not lr_min < lr_max:
        raise UserError(
            f"LR finder suggestion {path} does not hold positive numbers lr_min < lr_max "
            f"(found lr_min={lr_min!r}, lr_max={lr_max!r}); rerun find_lr.py or pass the LRs as flags"
        )
    return float(lr_min), float(lr_max)


@dataclass
class Stage:
    """Epochs ``first_epoch`` (0-based) up to, not including, ``end_epoch`` at one batch size."""

    batch_size: int
    first_epoch: int
    end_epoch: int


def batch_growth_stages(batch_start: int, batch_end: int, epochs_per_stage: int, epochs: int) -> list[Stage]:
    """Stages of the batch-growth policy: ``lr_policies.batch_growth`` per epoch, grouped.

    With 32 -> 4096 and K epochs per stage: 32 for epochs 0..K-1, 64 for K..2K-1,
    ..., 4096 from epoch 7K on (8 stages); epochs beyond 8K stay at 4096.
    """
    stages: list[Stage] = []
    for epoch in range(epochs):
        size = batch_growth(epoch, batch_start, batch_end, epochs_per_stage)
        if stages and stages[-1].batch_size == size:
            stages[-1].end_epoch = epoch + 1
        else:
            stages.append(Stage(size, epoch, epoch + 1))
    return stages


@dataclass
class Settings:
    """What a training run does, resolved from the flags (and the LR finder's suggestion)."""

    policy: str
    epochs: int
    stages: list[Stage]
    lr_source: str
    lr: float | None = None
    lr_min: float | None = None
    lr_max: float | None = None
    mode: str | None = None
    step_size: float | None = None  # in epochs
    gamma: float | None = None
    batch_start: int | None = None
    batch_end: int | None = None
    epochs_per_stage: int | None = None
    step_size_iterations: float | None = None  # clr, once the training set size is known

    def set_train_size(self, num_images: int) -> None:
        """Turn the clr step size from epochs into iterations for ``num_images`` training images."""
        if self.policy == "clr":
            self.step_size_iterations = clr_step_size_iterations(self.step_size, num_images, self.stages[0].batch_size)

    def scale_batches(self, replicas: int) -> None:
        """Turn per-replica batch sizes into global ones: ``batch * replicas``."""
        for stage in self.stages:
            stage.batch_size *= replicas
        if self.batch_start is not None:
            self.batch_start *= replicas
            self.batch_end *= replicas

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def resolve_settings(policy: str, given: dict[str, Any], from_finder: str | None = None) -> Settings:
    """Check the policy's options and fill in defaults; a ``UserError`` for impossible combinations.

    ``given`` holds only the options the user passed (see ``OPTION_POLICIES``
    and ``epochs``). Explicit LRs win over the finder's suggestion.
    """
    if policy not in POLICIES:
        raise ValueError(f"Argument `policy` must be one of {POLICIES}. Received: policy={policy!r}")
    for option in given:
        if option in OPTION_POLICIES and policy not in OPTION_POLICIES[option]:
            users = " or ".join(f"--policy {p}" for p in OPTION_POLICIES[option])
            raise UserError(f"{flag(option)} applies only to {users}, not to --policy {policy}; drop it")
    options = {**DEFAULTS, **given}
    suggestion = read_finder_suggestion(from_finder) if from_finder else None
    if policy == "clr":
        return _resolve_clr(options, given, suggestion, from_finder)
    if "lr" in given:
        lr, source = given["lr"], "--lr"
    elif suggestion:
        lr, source = suggestion[1], f"lr_max of {from_finder}"
    else:
        raise UserError(f"--policy {policy} needs a learning rate: pass --lr or --from-finder with an LR range test's suggestion.json")
    if policy == "fixed":
        epochs = options["epochs"]
        return Settings(policy, epochs, [Stage(options["batch"], 0, epochs)], source, lr=lr)
    try:
        stages_count = len(batch_sizes(options["batch_start"], options["batch_end"]))
    except ValueError:
        raise UserError(
            f"--batch-end {options['batch_end']} cannot be reached by doubling --batch-start {options['batch_start']}; "
            "choose --batch-end = batch-start x 2**k"
        ) from None
    epochs = given.get("epochs", stages_count * options["epochs_per_stage"])
    stages = batch_growth_stages(options["batch_start"], options["batch_end"], options["epochs_per_stage"], epochs)
    return Settings(policy, epochs, stages, source, lr=lr, batch_start=options["batch_start"],
                    batch_end=options["batch_end"], epochs_per_stage=options["epochs_per_stage"])


def _resolve_clr(options, given, suggestion, from_finder) -> Settings:
    sources = {}
    bounds = {}
    for index, name in enumerate(("lr_min", "lr_max")):
        if name in given:
            bounds[name], sources[name] = given[name], flag(name)
        elif suggestion:
            bounds[name], sources[name] = suggestion[index], str(from_finder)
        else:
            raise UserError("--policy clr needs --lr-min and --lr-max, or --from-finder with an LR range test's suggestion.json")
    if not bounds["lr_min"] < bounds["lr_max"]:
        raise UserError(f"lr_min ({bounds['lr_min']:g}) must be below lr_max ({bounds['lr_max']:g}); swap or change them")
    if options["mode"] not in CLR_MODES:
        raise ValueError(f"Argument `mode` must be one of {CLR_MODES}. Received: mode={options['mode']!r}")
    if "gamma" in given and options["mode"] != "exp_range":
        raise UserError(f"--gamma applies only to --mode exp_range, not to --mode {options['mode']}; drop it")
    epochs = options["epochs"]
    source = (f"lr_min and lr_max from {sources['lr_min']}" if sources["lr_min"] == sources["lr_max"]
              else f"lr_min from {sources['lr_min']}, lr_max from {sources['lr_max']}")
    return Settings("clr", epochs, [Stage(options["batch"], 0, epochs)], source, lr_min=bounds["lr_min"],
                    lr_max=bounds["lr_max"], mode=options["mode"], step_size=options["step_size"],
                    gamma=options["gamma"])


def cycle_note(settings: Settings) -> str:
    """A note when a clr run stops mid-cycle, "" otherwise.

    Smith (section 3.2) stops training at the end of a cycle, when the LR is
    back at lr_min; that needs ``epochs`` to be a multiple of ``2 * step_size``.
    """
    if settings.policy != "clr":
        return ""
    cycles = settings.epochs / (2 * settings.step_size)
    if cycles >= 1 and math.isclose(cycles, round(cycles), rel_tol=1e-9):
        return ""
    return (f"note: {settings.epochs} epochs are {cycles:.3g} cycles of {2 * settings.step_size:g} epochs, so training "
            "stops mid-cycle above lr_min; Smith stops at the end of a cycle (--epochs a multiple of 2 x --step-size)")


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``num_images`` (the last batch may be partial)."""
    return math.ceil(num_images / batch_size)


def clr_step_size_iterations(step_size_epochs: float, num_images: int, batch_size: int) -> float:
    """Smith's step size in iterations: ``step_size_epochs * ceil(num_images / batch_size)``."""
    return step_size_epochs * steps_per_epoch(num_images, batch_size)


# --- recording ----------------------------------------------------------------------------------


class RunLog:
    """Print progress lines and keep them in ``log.txt`` (rewritten whole after every line).

    With ``append`` the lines already in the file are kept (a resumed run).
    """

    def __init__(self, path: str | os.PathLike, echo: bool = True, append: bool = False):
        self.path = Path(path)
        self.echo = echo
        self.lines: list[str] = self.path.read_text().splitlines() if append and self.path.is_file() else []

    def __call__(self, line: str, echo: bool | None = None) -> None:
        if self.echo if echo is None else echo:
            print(line, flush=True)
        self.lines.append(line)
        write_text(self.path, "\n".join(self.lines) + "\n")


def _epoch_recorder(history: list[dict], history_path: Path, log: RunLog, lr_at: Callable, epochs: int,
                    batch_size: int, after_epoch: Callable[[], None] | None = None):
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        """One history row per epoch, written to ``history.csv`` at once and logged; then ``after_epoch()``."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.first_step = int(self.model.optimizer.iterations.numpy())

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            iterations = int(self.model.optimizer.iterations.numpy())
            row = {
                "epoch": epoch + 1,
                "batch_size": batch_size,
                "steps": iterations - self.first_step,
                "iterations": iterations,
                "lr": float(lr_at(max(iterations - 1, 0))),
                **{key: float(logs.get(key, float("nan"))) for key in ("loss", "accuracy", "val_loss", "val_accuracy")},
                "time_s": time.perf_counter() - self.started,
            }
            history.append(row)
            write_csv(history_path, history, HISTORY_FIELDS)
            log(f"epoch {row['epoch']:3d}/{epochs}  batch {batch_size:5d}  lr {row['lr']:.5g}  loss {row['loss']:.4f}  "
                f"acc {row['accuracy']:.4f}  val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}  "
                f"({row['time_s']:.1f} s)")
            if after_epoch:
                after_epoch()

    return EpochRecorder()


def remove_stale_results(folder: Path) -> None:
    """Delete the result files of an earlier run in ``folder``, so none can pass for this run's."""
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)


# --- training -----------------------------------------------------------------------------------


def build_optimizer(settings: Settings, momentum: float, weight_decay: float | None = None):
    """SGD with momentum; its LR is a ``CyclicalLearningRate`` (clr) or a constant.

    ``weight_decay`` is Keras' decoupled decay: every step also does
    ``w -= lr * weight_decay * w`` (L2 regularisation, as in Smith's runs).

    Returns ``(optimizer, lr_at)`` with ``lr_at(steps)`` the LR the optimizer
    uses at each of ``steps`` (an int or an array of ints), as a NumPy array.
    """
    import keras
    import numpy as np

    from pyimagesearch.clr_callback import CyclicalLearningRate

    if settings.policy == "clr":
        if settings.step_size_iterations is None:
            raise ValueError("call settings.set_train_size() before building the clr optimizer")
        schedule = CyclicalLearningRate(settings.lr_min, settings.lr_max, settings.step_size_iterations,
                                        settings.mode, settings.gamma)
        return (keras.optimizers.SGD(schedule, momentum=momentum, weight_decay=weight_decay),
                lambda steps: keras.ops.convert_to_numpy(schedule(np.asarray(steps))))
    return (keras.optimizers.SGD(settings.lr, momentum=momentum, weight_decay=weight_decay),
            lambda steps: np.full(np.shape(steps), settings.lr, dtype=np.float32))


def train(settings: Settings, data, folder: Path, log: RunLog, momentum: float = 0.9,
          steps_per_execution: int = 32, seed: int = 42, weight_decay: float | None = None,
          strategy=None, multiworker: bool = False, checkpoint=None) -> dict[str, Any]:
    """Train LeNet-5 stage by stage, writing ``history.csv`` as epochs end.

    The model and optimizer are created in ``strategy``'s scope (default: the
    current strategy); stage batch sizes are global batches. ``multiworker``
    trains through ``custom_loop.StrategyLoop`` instead of ``model.fit``,
    which fails under ``MultiWorkerMirroredStrategy``. With a
    ``checkpoints.RunCheckpoint``, the state is saved after every epoch and a
    saved state is resumed: training continues after its last epoch.

    Returns ``{"model", "trainer", "history", "train_time_s", "lr_at", "diverged"}``;
    ``trainer`` has ``evaluate`` (the model, or the loop); ``diverged`` is "" or
    the reason ``DivergenceGuard`` stopped training (the epochs up to that point
    are in the history).
    """
    import keras
    import tensorflow as tf

    from pyimagesearch.core.custom_loop import StrategyLoop
    from pyimagesearch.lenet.data import make_dataset
    from pyimagesearch.lenet.model import build_lenet5
    from pyimagesearch.core.training import DivergenceGuard, compile_classifier

    strategy = strategy or tf.distribute.get_strategy()
    state = checkpoint.load() if checkpoint else None
    with strategy.scope():
        optimizer, lr_at = build_optimizer(settings, momentum, weight_decay)
        if state:
            # The saved optimizer carries the momentum, the iteration count and the schedule.
            model = keras.models.load_model(checkpoint.model_path)
            optimizer = model.optimizer
        else:
            model = build_lenet5()
        compile_classifier(model, optimizer, steps_per_execution=steps_per_execution)
    trainer = StrategyLoop(model, steps_per_execution) if multiworker else model
    # Validation runs after every epoch on the same batches: cache them once built.
    val_data = make_dataset(data.x_val, data.y_val, EVAL_BATCH).cache()
    history: list[dict] = list(state["history"]) if state else []
    if state:
        reference = state["reference_loss"]
        log(f"resuming after epoch {state['epochs_done']} from {checkpoint.folder}")
        write_csv(folder / "history.csv", history, HISTORY_FIELDS)
    else:
        # The untrained model's validation loss is the reference for DivergenceGuard: with
        # steps_per_execution > 1 the first logged loss is already a mean over many steps.
        initial = trainer.evaluate(val_data, verbose=0, return_dict=True)
        reference = float(initial["loss"])
        log(f"untrained: val_loss {initial['loss']:.4f}  val_acc {initial['accuracy']:.4f}")
    guard = DivergenceGuard(reference_loss=reference)
    done = len(history)

    def save_state():
        checkpoint.save(model, {"epochs_done": len(history), "history": history, "reference_loss": reference})

    train_time = sum(row["time_s"] for row in history)
    for index, stage in enumerate(settings.stages):
        if stage.end_epoch <= done:
            continue
        # A new seed per stage, so that stages do not replay the first stage's shuffling order.
        train_data = make_dataset(data.x_train, data.y_train, stage.batch_size, shuffle=True, seed=seed + index)
        recorder = _epoch_recorder(history, folder / "history.csv", log, lr_at, settings.epochs, stage.batch_size,
                                   save_state if checkpoint else None)
        started = time.perf_counter()
        trainer.fit(train_data, validation_data=val_data, initial_epoch=max(stage.first_epoch, done),
                    epochs=stage.end_epoch, callbacks=[guard, recorder], verbose=0)
        train_time += time.perf_counter() - started
        if guard.diverged:
            break
    return {"model": model, "trainer": trainer, "history": history, "train_time_s": train_time, "lr_at": lr_at,
            "diverged": guard.reason}


def evaluate(model, data, history: list[dict], train_time_s: float) -> dict[str, Any]:
    """Test, validation and training-set scores after training, with the generalization gap.

    ``model`` is anything with Keras' ``evaluate`` (a model, or a ``StrategyLoop``).
    ``final_train_loss``/``final_train_accuracy`` are the last epoch's running
    means, as Keras reports them; ``train_accuracy`` is measured on the whole
    training split after training, with the final weights, and the
    generalization gap is ``train_accuracy - test_accuracy``.
    """
    from pyimagesearch.lenet.data import make_dataset

    scores = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("val", data.x_val, data.y_val),
                        ("test", data.x_test, data.y_test)):
        result = model.evaluate(make_dataset(x, y, EVAL_BATCH), verbose=0, return_dict=True)
        scores[split] = {"loss": float(result["loss"]), "accuracy": float(result["accuracy"]), "images": len(x)}
    last = history[-1]
    best = max(history, key=lambda row: row["val_accuracy"])
    return {
        "test_accuracy": scores["test"]["accuracy"],
        "test_loss": scores["test"]["loss"],
        "final_train_loss": last["loss"],
        "final_train_accuracy": last["accuracy"],
        "val_accuracy": scores["val"]["accuracy"],
        "val_loss": scores["val"]["loss"],
        "train_accuracy": scores["train"]["accuracy"],
        "train_loss": scores["train"]["loss"],
        "generalization_gap": scores["train"]["accuracy"] - scores["test"]["accuracy"],
        "best_val_accuracy": best["val_accuracy"],
        "best_val_epoch": best["epoch"],
        "epochs": last["epoch"],
        "optimizer_steps": last["iterations"],
        "train_time_s": train_time_s,
        "train_images": scores["train"]["images"],
        "val_images": scores["val"]["images"],
        "test_images": scores["test"]["images"],
    }


def describe(settings: Settings) -> str:
    """One line saying what the run does."""
    if settings.policy == "clr":
        gamma = f", gamma {settings.gamma:g}" if settings.mode == "exp_range" else ""
        steps = f" ({settings.step_size_iterations:g} iterations)" if settings.step_size_iterations else ""
        return (f"clr {settings.mode}: lr {settings.lr_min:.3g} to {settings.lr_max:.3g}, step size {settings.step_size:g} "
                f"epochs{steps}{gamma}, batch {settings.stages[0].batch_size}, {settings.epochs} epochs")
    if settings.policy == "batch-growth":
        every = "every epoch" if settings.epochs_per_stage == 1 else f"every {settings.epochs_per_stage} epochs"
        return (f"batch-growth: lr {settings.lr:.3g}, batch {settings.batch_start} to {settings.batch_end} doubling {every}, "
                f"{settings.epochs} epochs")
    return f"fixed: lr {settings.lr:.3g}, batch {settings.stages[0].batch_size}, {settings.epochs} epochs"


# --- comparison ---------------------------------------------------------------------------------

COMPARISON_ROWS = [
    ("final training loss (last epoch)", "final_train_loss", "{:.4f}"),
    ("final training accuracy (last epoch)", "final_train_accuracy", "{:.4f}"),
    ("training accuracy (after training)", "train_accuracy", "{:.4f}"),
    ("validation accuracy", "val_accuracy", "{:.4f}"),
    ("test accuracy", "test_accuracy", "{:.4f}"),
    ("generalization gap (train - test accuracy)", "generalization_gap", "{:+.4f}"),
    ("epochs", "epochs", "{:d}"),
    ("optimizer steps", "optimizer_steps", "{:,d}"),
    ("wall time of training (s)", "train_time_s", "{:.1f}"),
]


def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``metrics.json`` and ``config.json`` of a finished run, or a ``UserError``."""
    folder = Path(folder)
    metrics = read_json(folder / "metrics.json", what="metrics file")
    config = read_json(folder / "config.json", what="config file")
    missing = [key for _, key, _ in COMPARISON_ROWS if not isinstance(metrics, dict) or metrics.get(key) is None]
    if missing:
        raise UserError(f"{folder / 'metrics.json'} lacks {', '.join(missing)}; rerun train_lenet.py into {folder}")
    name = config.get("description") or config.get("policy") or folder.name
    return {"folder": str(folder), "name": name, "policy": config.get("policy", folder.name), "metrics": metrics}


def accuracy_standard_error(accuracy: float, images: int) -> float:
    """Binomial standard error of an accuracy measured on ``images`` images: sqrt(p(1-p)/n)."""
    return math.sqrt(accuracy * (1 - accuracy) / images)


def gap_standard_error(metrics: dict[str, Any]) -> float:
    """Standard error of train - test accuracy from the sampling of both sets (taken as independent)."""
    return math.hypot(accuracy_standard_error(metrics["train_accuracy"], metrics["train_images"]),
                      accuracy_standard_error(metrics["test_accuracy"], metrics["test_images"]))


def generalization_verdict(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Compare two runs' generalization gaps against the sampling noise of the accuracies.

    The gaps count as similar when they differ by at most two standard errors
    of the difference, ``2 * sqrt(se_a**2 + se_b**2)`` with ``se`` from
    ``gap_standard_error``. This covers only the finite train and test sets,
    not the spread between seeds, which is usually larger.
    """
    ma, mb = a["metrics"], b["metrics"]
    difference = ma["generalization_gap"] - mb["generalization_gap"]
    threshold = 2 * math.hypot(gap_standard_error(ma), gap_standard_error(mb))
    test_difference = ma["test_accuracy"] - mb["test_accuracy"]
    test_se = math.hypot(accuracy_standard_error(ma["test_accuracy"], ma["test_images"]),
                         accuracy_standard_error(mb["test_accuracy"], mb["test_images"]))
    return {
        "gap_difference": difference,
        "threshold": threshold,
        "similar": abs(difference) <= threshold,
        "test_accuracy_difference": test_difference,
        "test_accuracy_difference_in_se": test_difference / test_se if test_se > 0 else float("inf"),
    }


def _points(value: float) -> str:
    return f"{100 * value:.2f} points"


def comparison_paragraph(a: dict[str, Any], b: dict[str, Any], verdict: dict[str, Any]) -> str:
    """One paragraph computed from the two runs' numbers."""
    ma, mb = a["metrics"], b["metrics"]
    judgement = ("within" if verdict["similar"] else "beyond")
    conclusion = ("so the two policies generalize similarly" if verdict["similar"]
                  else f"so they generalize differently: {a['policy'] if ma['generalization_gap'] < mb['generalization_gap'] else b['policy']} "
                       "has the smaller gap")
    steps_ratio = ma["optimizer_steps"] / mb["optimizer_steps"]
    time_ratio = ma["train_time_s"] / mb["train_time_s"]
    return (
        f"The generalization gap (training minus test accuracy) is {_points(ma['generalization_gap'])} for {a['policy']} "
        f"and {_points(mb['generalization_gap'])} for {b['policy']}: they differ by {_points(abs(verdict['gap_difference']))}, "
        f"{judgement} two standard errors of that difference from the finite training and test sets "
        f"({_points(verdict['threshold'])}), {conclusion}. "
        f"Test accuracy is {ma['test_accuracy']:.4f} against {mb['test_accuracy']:.4f} "
        f"({_points(abs(verdict['test_accuracy_difference']))} apart, "
        f"{abs(verdict['test_accuracy_difference_in_se']):.1f} standard errors). "
        f"{a['policy']} used {ma['optimizer_steps']:,} optimizer steps in {ma['epochs']} epochs against "
        f"{mb['optimizer_steps']:,} in {mb['epochs']} ({steps_ratio:.2f}x) and trained for {ma['train_time_s']:.0f} s "
        f"against {mb['train_time_s']:.0f} s ({time_ratio:.2f}x). "
        "These standard errors cover only the finite training and test sets, not the spread between seeds, "
        "which one pair of runs does not measure."
    )


def comparison_markdown(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``comparison.md`` text for runs ``a`` and ``b`` (from ``read_run``), and the verdict numbers."""
    verdict = generalization_verdict(a, b)
    lines = [
        f"# {a['policy']} vs {b['policy']}",
        "",
        f"- A: `{a['folder']}`: {a['name']}",
        f"- B: `{b['folder']}`: {b['name']}",
        "",
        f"| | A: {a['policy']} | B: {b['policy']} |",
        "|---|---:|---:|",
    ]
    for label, key, fmt in COMPARISON_ROWS:
        lines.append(f"| {label} | {fmt.format(a['metrics'][key])} | {fmt.format(b['metrics'][key])} |")
    lines += ["", comparison_paragraph(a, b, verdict), ""]
    return "\n".join(lines), verdict


def write_comparison(dir_a, dir_b, folder: Path) -> dict[str, Any]:
    """Write ``comparison.md`` and ``comparison.json`` into ``folder``; return the verdict."""
    a, b = read_run(dir_a), read_run(dir_b)
    text, verdict = comparison_markdown(a, b)
    write_text(folder / "comparison.md", text)
    table = {label: {"A": a["metrics"][key], "B": b["metrics"][key]} for label, key, _ in COMPARISON_ROWS}
    write_json(folder / "comparison.json", {"A": a["folder"], "B": b["folder"], "table": table, "verdict": verdict})
    return verdict
