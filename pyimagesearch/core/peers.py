"""Multi-worker recovery: agreeing where to resume, and ending cleanly when a peer stops.

Workers share no file system; each keeps its own checkpoints. Right after
the strategy is built, every worker reports the newest epoch it holds a whole
checkpoint of and all take the smallest (``agree_on_epoch``, one all-gather
of one number), so they resume together from checkpoints they all have
(each keeps the last few, see ``checkpoints.RunCheckpoint``).

When a peer dies, TensorFlow's next collective fails (``UnavailableError``
"Collective ops is aborted by ...", within about a second on a local
network); ``watch`` turns that into one sentence. A peer whose machine goes
silent can leave a collective waiting without end, so ``watch`` also probes
every peer's address over TCP and, when one has not answered for
``patience`` seconds, prints the same sentence and ends the process.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable

from pyimagesearch.core.cli import EXIT_USER_ERROR
from pyimagesearch.core.errors import RunError
from pyimagesearch.core.distribute import Worker

class PeerStopped(RunError):
    """Another worker stopped; the sentence says to start every worker again."""


PROBE_INTERVAL = 2.0  # seconds between two probes of a peer
PATIENCE = 30.0  # seconds a peer may stay unreachable before the run ends
TASK = re.compile(r"/job:worker/replica:\d+/task:(\d+)")


def stopped_message(peer: str | None) -> str:
    return f"{peer or 'another worker'} stopped responding; start every worker again with the same command to resume"


def agree_on_epoch(strategy, epoch: int) -> int:
    """The smallest ``epoch`` over all workers (each passes its own), by one all-gather."""
    import tensorflow as tf

    def gather():
        return tf.distribute.get_replica_context().all_gather(tf.constant([epoch], tf.int64), axis=0)

    values = strategy.experimental_local_results(tf.function(lambda: strategy.run(gather))())[0]
    return int(min(values.numpy()))


def peer_addresses(worker: Worker, tf_config: str | None = None) -> dict[str, str]:
    """``{"worker N" or "chief": "host:port"}`` of the other tasks of the ``TF_CONFIG`` cluster."""
    cluster = json.loads(tf_config or os.environ["TF_CONFIG"])["cluster"]
    peers = {}
    for task_type in ("chief", "worker"):
        for index, address in enumerate(cluster.get(task_type, [])):
            if (task_type, index) != (worker.task_type, worker.index):
                peers["chief" if task_type == "chief" else f"worker {index}"] = address
    return peers


def failed_peer(error: Exception, worker: Worker) -> str | None:
    """The worker a TensorFlow error names as the failed one ("worker N"), or the only peer of a pair."""
    tasks = {int(task) for task in TASK.findall(str(error))} - {worker.index}
    if len(tasks) == 1:
        return f"worker {tasks.pop()}"
    if worker.count == 2 and worker.task_type == "worker":
        return f"worker {1 - worker.index}"
    return None


def is_peer_failure(error: Exception) -> bool:
    """Whether a TensorFlow error is a collective that failed because a peer went away."""
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.AbortedError,
            tf.errors.CancelledError)
    return isinstance(error, lost) or (isinstance(error, tf.errors.OpError) and "Collective ops is aborted" in str(error))


def reachable(address: str, timeout: float) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError:
        return False
    return True


class PeerWatch:
    """A daemon thread that probes every peer over TCP and calls ``on_lost(name)`` for one silent too long."""

    def __init__(self, peers: dict[str, str], on_lost: Callable[[str], None], interval: float = PROBE_INTERVAL,
                 patience: float = PATIENCE):
        self.peers, self.on_lost, self.interval, self.patience = dict(peers), on_lost, interval, patience
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peer-watch", daemon=True)

    def _run(self) -> None:
        last_seen = {name: time.monotonic() for name in self.peers}
        while not self._stop.wait(self.interval):
            for name, address in self.peers.items():
                if reachable(address, timeout=self.interval):
                    last_seen[name] = time.monotonic()
                elif time.monotonic() - last_seen[name] > self.patience and not self._stop.is_set():
                    self.on_lost(name)
                    return

    def __enter__(self) -> "PeerWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _end_process(peer: str) -> None:
    # The main thread may be blocked inside a collective that never returns: end from here.
    print(f"error: {stopped_message(peer)}", file=sys.stderr, flush=True)
    os._exit(EXIT_USER_ERROR)


@contextmanager
def watch(worker: Worker | None, patience: float = PATIENCE):
    """Around the part of a run that talks to other workers: a lost peer ends it with one sentence.

    Does nothing for a single process (``worker`` None).
    """
    if worker is None:
        yield
        return
    with PeerWatch(peer_addresses(worker), _end_process, patience=patience):
        try:
            yield
        except Exception as error:
            if not is_peer_failure(error):
                raise
            raise PeerStopped(stopped_message(failed_peer(error, worker))) from None
