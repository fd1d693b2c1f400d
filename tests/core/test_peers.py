"""Multi-worker recovery pieces: the agreed epoch, naming the lost peer, the TCP watch."""

from __future__ import annotations

import json
import socket
import time

import pytest
import tensorflow as tf

from pyimagesearch.core.distribute import Worker
from pyimagesearch.core.peers import PeerStopped, PeerWatch, agree_on_epoch, failed_peer, is_peer_failure, peer_addresses, watch

ABORTED = ("Collective ops is aborted by: recvmsg:Connection reset by peer\nAdditional GRPC error information from "
           "remote target /job:worker/replica:0/task:1 while calling /tensorflow.WorkerService/RecvBuf")


def test_one_worker_agrees_with_itself():
    assert agree_on_epoch(tf.distribute.get_strategy(), 3) == 3


def test_the_failed_peer_is_the_task_the_error_names_or_the_only_other_one():
    error = tf.errors.UnavailableError(None, None, ABORTED)
    assert is_peer_failure(error) and not is_peer_failure(ValueError("x"))
    assert failed_peer(error, Worker("worker", 0, 3)) == "worker 1"
    assert failed_peer(tf.errors.UnavailableError(None, None, "socket closed"), Worker("worker", 1, 2)) == "worker 0"
    assert failed_peer(tf.errors.UnavailableError(None, None, "socket closed"), Worker("worker", 0, 3)) is None


def test_peer_addresses_are_the_other_tasks_of_the_cluster():
    config = json.dumps({"cluster": {"worker": ["a:1", "b:2", "c:3"]}, "task": {"type": "worker", "index": 1}})
    assert peer_addresses(Worker("worker", 1, 3), config) == {"worker 0": "a:1", "worker 2": "c:3"}


def test_a_collective_failure_becomes_one_sentence(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:1", "localhost:2"]},
                                                "task": {"type": "worker", "index": 0}}))
    with pytest.raises(PeerStopped) as error:
        with watch(Worker("worker", 0, 2), patience=60):
            raise tf.errors.UnavailableError(None, None, ABORTED)
    assert str(error.value) == "worker 1 stopped responding; start every worker again with the same command to resume"
    with pytest.raises(ValueError):  # other errors pass unchanged
        with watch(Worker("worker", 0, 2), patience=60):
            raise ValueError("a bug")


def test_the_watch_reports_a_silent_peer_and_only_that_one():
    listening = socket.socket()
    listening.bind(("localhost", 0))
    listening.listen()
    closed = socket.socket()
    closed.bind(("localhost", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    lost = []
    peers = {"worker 1": f"localhost:{listening.getsockname()[1]}", "worker 2": f"localhost:{closed_port}"}
    with PeerWatch(peers, lost.append, interval=0.05, patience=0.3):
        deadline = time.monotonic() + 10
        while not lost and time.monotonic() < deadline:
            time.sleep(0.05)
    listening.close()
    assert lost == ["worker 2"]
