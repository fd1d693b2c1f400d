"""Choosing the ``tf.distribute`` strategy for every script.

``--strategy``:

- ``auto`` (default): ``MirroredStrategy`` over all visible GPUs when there
  are two or more, otherwise the default strategy (one GPU, or the CPU);
- ``default``: TensorFlow's default strategy, one device;
- ``mirrored``: ``MirroredStrategy`` over all visible GPUs (also one); with
  no GPU, over the logical CPU devices if a program split its CPU into two
  or more (as the tests do), else a ``StrategyError``;
- ``multiworker``: ``MultiWorkerMirroredStrategy``, one process per machine,
  configured by the ``TF_CONFIG`` environment variable (checked here first).

Batch sizes given on the command line are per replica: the global batch is
``batch * replicas``. Learning rates are used as given (no scaling rule): a
larger global batch may want a larger LR, which the LR range test run under
the same strategy measures directly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyimagesearch.core.errors import RunError

STRATEGIES = ("auto", "default", "mirrored", "multiworker")


class StrategyError(RunError):
    """A strategy that cannot be built here (malformed TF_CONFIG, no GPU for mirrored); one sentence."""


def add_strategy_argument(parser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES, default="auto",
                        help="tf.distribute strategy: auto = mirrored over 2+ GPUs, else one device; "
                             "multiworker reads TF_CONFIG (see README); --batch is per replica")


@dataclass(frozen=True)
class Worker:
    """This process's place in a multi-worker cluster."""

    task_type: str
    index: int
    count: int

    @property
    def is_chief(self) -> bool:
        """Worker 0 writes the results (TensorFlow's convention when there is no 'chief' task)."""
        return self.task_type == "chief" or (self.task_type == "worker" and self.index == 0)


def parse_tf_config(text: str | None) -> Worker:
    """Check ``TF_CONFIG`` and say where this process stands; ``StrategyError`` when malformed.

    Expected form::

        {"cluster": {"worker": ["host1:port", "host2:port"]},
         "task": {"type": "worker", "index": 0}}
    """
    if not text:
        raise StrategyError("--strategy multiworker needs the TF_CONFIG environment variable (see README)")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise StrategyError(f"TF_CONFIG is not valid JSON ({error})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(cluster.get("worker", cluster.get("chief")), list):
        raise StrategyError('TF_CONFIG needs "cluster": {"worker": ["host:port", ...]}')
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise StrategyError('TF_CONFIG needs "task": {"type": "worker", "index": N}')
    task_type, index = task["type"], task["index"]
    if task_type not in cluster or not isinstance(cluster[task_type], list):
        raise StrategyError(f'TF_CONFIG task type "{task_type}" is not in its cluster ({", ".join(cluster)})')
    if not isinstance(index, int) or isinstance(index, bool):
        raise StrategyError(f'TF_CONFIG task index {json.dumps(index)} is not an integer; write it without quotes, '
                        f'as in "index": 0')
    if not 0 <= index < len(cluster[task_type]):
        raise StrategyError(f"TF_CONFIG task index {index} is out of range: cluster.{task_type} lists "
                        f"{len(cluster[task_type])} address(es), so the index must be 0-{len(cluster[task_type]) - 1}")
    for role, addresses in cluster.items():
        for address in addresses:
            host, _, port = str(address).rpartition(":")
            if not host or not port.isdigit():
                raise StrategyError(f'TF_CONFIG cluster.{role} address "{address}" is not host:port')
    count = sum(len(addresses) for role, addresses in cluster.items() if role in ("chief", "worker"))
    return Worker(task_type, index, count)


def make_strategy(name: str = "auto"):
    """Build the strategy ``name`` (see the module docstring); returns ``(strategy, worker or None)``.

    Must be called before the program creates other TensorFlow objects, and
    before the model, the optimizer and the schedules, which are then created
    inside ``strategy.scope()``.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"Argument `name` must be one of {STRATEGIES}. Received: name={name!r}")
    if name == "multiworker":
        worker = parse_tf_config(os.environ.get("TF_CONFIG"))
        return tf.distribute.MultiWorkerMirroredStrategy(), worker
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "mirrored":
        devices = gpus or [device.name for device in tf.config.list_logical_devices("CPU")]
        if len(devices) < 1 or (not gpus and len(devices) < 2):
            raise StrategyError("--strategy mirrored needs at least one GPU and TensorFlow sees none; "
                            "use --strategy auto to train on the CPU")
        return tf.distribute.MirroredStrategy(devices), None
    if name == "auto" and len(gpus) >= 2:
        return tf.distribute.MirroredStrategy(gpus), None
    return tf.distribute.get_strategy(), None


def describe(strategy, per_replica_batch: int, worker: Worker | None = None) -> dict:
    """What a run records about its distribution: strategy, replicas, batches."""
    replicas = strategy.num_replicas_in_sync
    info = {
        "strategy": type(strategy).__name__.replace("_DefaultDistributionStrategy", "DefaultStrategy"),
        "replicas": replicas,
        "per_replica_batch": per_replica_batch,
        "global_batch": per_replica_batch * replicas,
        "lr_scaling": "none (learning rates are used as given)",
    }
    if worker is not None:
        info.update(worker=worker.index, task_type=worker.task_type, workers=worker.count)
    return info


def output_folder(folder, worker: Worker | None) -> Path:
    """Where a process writes: ``folder`` for one process or the chief; ``folder/worker-N`` for worker N.

    The chief's files are the results; the other workers keep their own copy.
    """
    folder = Path(folder).absolute()  # messages name it whatever the current folder
    return folder if worker is None or worker.is_chief else folder / f"worker-{worker.index}"


@dataclass(frozen=True)
class Distribution:
    """How this process trains: the ``tf.distribute`` strategy, its place among the workers, its folder.

    ``worker`` is None for a single process (one device or mirrored over the
    local GPUs) and this process's ``Worker`` under
    ``MultiWorkerMirroredStrategy``; ``folder`` is where it writes
    (``output_folder``: the results folder, or ``worker-N`` inside it), None
    when the caller names its folders itself.
    """

    strategy: Any
    worker: Worker | None = None
    folder: Path | None = None

    @classmethod
    def create(cls, name: str = "auto", folder=None) -> "Distribution":
        """Build the strategy ``name`` (``make_strategy``) and this process's folder for the results ``folder``."""
        strategy, worker = make_strategy(name)
        return cls(strategy, worker, None if folder is None else output_folder(folder, worker))

    @classmethod
    def local(cls, folder=None) -> "Distribution":
        """The current strategy (TensorFlow's default one, unless inside a scope), one process."""
        import tensorflow as tf

        return cls(tf.distribute.get_strategy(), None, None if folder is None else Path(folder))

    @property
    def multiworker(self) -> bool:
        """Whether the workers of a cluster train together (each a process of its own)."""
        return self.worker is not None

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the results (one process always does)."""
        return self.worker is None or self.worker.is_chief

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    def on_one_device(self) -> "Distribution":
        """The same process and folder, training on one device (feature extraction)."""
        return Distribution.local(self.folder)

    def describe(self, per_replica_batch: int) -> dict:
        """``describe(strategy, per_replica_batch, worker)``: what a run records about its distribution."""
        return describe(self.strategy, per_replica_batch, self.worker)

    def trainer(self, model, steps_per_execution: int = 32):
        """What trains ``model``: the model, or ``custom_loop.StrategyLoop`` for multi-worker (where ``fit`` fails)."""
        if not self.multiworker:
            return model
        from pyimagesearch.core.custom_loop import StrategyLoop

        return StrategyLoop(model, steps_per_execution)

    def watch(self):
        """``peers.watch``: around the part of a run that talks to other workers (nothing for one process)."""
        from pyimagesearch.core import peers

        return peers.watch(self.worker)
