"""``--executor ray``: a sweep's trials as Ray Tune trials, on one machine's cores and GPUs or on a cluster.

Imported only for ``--executor ray`` (``core.sweep.run_trials``); needs the
extra ``pip install -e ".[ray]"`` (``ray[tune]``).

What a trial is to Ray: ``tune.Tuner(tune.with_resources(trainable, {"cpu": c,
"gpu": g}), param_space={"trial": tune.grid_search(names)})``, with
``FailureConfig(max_failures=N)``. The trainable sets TensorFlow's intra- and
inter-op thread pools to the trial's whole CPUs (at least 1) before any
TensorFlow op, and ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` so
code the run starts keeps them (Ray itself sets only ``OMP_NUM_THREADS``),
then calls the command's own ``run_one(trial)``, which writes the trial's
folder as the serial path does. A worker that dies (SIGKILL, out of memory,
a lost node) is started again up to N times; ``run_one`` resumes the folder
through ``RunFolder`` and the run's checkpoints, so the numbers are those of
an uninterrupted run. A trial's one-sentence error (a ``UserError``, a folder
that is busy or of other settings, a bad record) is not retried: it is reported
and the command ends with that sentence. Ray's own records (``result.json``,
``error.txt`` per trial) go to ``storage`` (default ``<sweep folder>/ray_tune``).

One machine::

    pip install -e ".[ray]"
    python find_lr.py --grid 10 --executor ray                 # a local Ray on all cores, stopped at the end
    python find_lr.py --grid 10 --executor ray --trial-cpus 1  # one core per trial: as many trials as cores

Several machines (a Ray cluster)::

    ray start --head --port=6379                        # on the head node
    ray start --address=HEAD:6379                       # on every other node
    python find_lr.py --grid 10 --executor ray --ray-address auto   # on the head node
    python find_lr.py --grid 10 --executor ray --ray-address ray://HEAD:10001  # from elsewhere (Ray Client)

On a cluster every node must have this project installed at the same path
(``pip install -e ".[ray]"``; the workers get the driver's project folder on
``PYTHONPATH``), the data at the path the settings name, and ``--output`` on
a folder every node can write (NFS or similar): each trial writes its results
and takes its folder's lock where it runs, and the driver reads the completion
records back. Ray's ``storage`` must be such a folder too.

With GPUs a trial gets one GPU by default (Ray sets ``CUDA_VISIBLE_DEVICES``
for it); ``--trial-gpus 0.5`` puts two trials on each GPU, for which
``TF_FORCE_GPU_ALLOW_GROWTH=true`` is set so that the first does not take all
the GPU's memory.

Verified on this project's machine (one computer, 2 cores, no GPU, with
``ray.init(num_cpus=2)``): results equal to the serial ones in every number,
a trial's worker killed with SIGKILL retried to the same numbers, the driver
killed and started again. Only from Ray's documentation, not run here:
GPUs (whole and fractional), ``ray start`` clusters, ``ray://`` clients,
shared storage.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import ray
from ray import tune

import pyimagesearch
from pyimagesearch.core.cli import UserError
from pyimagesearch.core.errors import RunError
from pyimagesearch.core.run import completion

# Errors a trial reports as its one sentence instead of being retried (core.cli.run's list).
TRIAL_USER_ERRORS = (UserError, RunError)
PROJECT_ROOT = str(Path(pyimagesearch.__file__).resolve().parent.parent)


def runtime_env() -> dict:
    """What every worker needs: this project importable, and its working directory left as the driver's."""
    paths = [PROJECT_ROOT] + [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    env = {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)), "RAY_CHDIR_TO_TRIAL_DIR": "0"}
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:  # the command's quiet TensorFlow (core.cli.quiet_tensorflow) in workers too
        env["TF_CPP_MIN_LOG_LEVEL"] = os.environ["TF_CPP_MIN_LOG_LEVEL"]
    return {"env_vars": env}


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join ``address`` or start a local Ray (``num_cpus``: default all); False when one already runs here."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"runtime_env": runtime_env(), "logging_level": logging.WARNING}
    if address is None:
        options.update(include_dashboard=False, num_cpus=num_cpus)
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise RunError(f"cannot join the Ray cluster at {address}: {first}; start it with `ray start --head` "
                        f"or correct --ray-address") from None
    return True


def trial_resources(total: Mapping[str, float], largest_node: Mapping[str, float], trials: int,
                    cpus: float | None, gpus: float | None) -> tuple[float, float]:
    """CPUs and GPUs per trial: the flags, or one GPU each (the cores per GPU) where GPUs exist, else cores / trials.

    A request no single node can meet would wait forever in Ray's queue, so it is refused here.
    """
    total_cpus, total_gpus = float(total.get("CPU", 0)), float(total.get("GPU", 0))
    node_cpus, node_gpus = float(largest_node.get("CPU", 0)), float(largest_node.get("GPU", 0))
    if gpus is None:
        gpus = min(1.0, node_gpus)
    if cpus is None:
        at_once = min(trials, math.floor(total_gpus / gpus)) if gpus else trials
        cpus = min(node_cpus, max(1.0, math.floor(total_cpus / max(1, at_once))))
    for what, asked, have in (("CPUs", cpus, node_cpus), ("GPUs", gpus, node_gpus)):
        if asked > have:
            raise RunError(f"a trial asks for {asked:g} {what} but the largest Ray node has {have:g}; lower "
                            f"--trial-{what[:3].lower()}s or add a larger node")
    return float(cpus), float(gpus)


def use_threads(threads: int, gpus: float) -> None:
    """TensorFlow's thread pools to ``threads`` (before any op), kept by the environment for what the run starts."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    if 0 < gpus < 1:
        os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def make_trainable(run_one: Callable, trials: Mapping[str, Any], threads: int, gpus: float) -> Callable:
    """The function Ray runs per trial: threads, then ``run_one(trial)``; reports the seconds or the one sentence."""
    def sweep_trial(config):
        trial = trials[config["trial"]]
        use_threads(threads, gpus)
        begun = time.perf_counter()
        try:
            run_one(trial)
        except TRIAL_USER_ERRORS as error:
            tune.report({"user_error": str(error)})
            return
        tune.report({"seconds": time.perf_counter() - begun})

    return sweep_trial


class Progress(tune.Callback):
    """One line per trial started, retried, finished or failed, in the driver."""

    def __init__(self, trials: Mapping[str, Any], position: Mapping[str, str], max_failures: int,
                 log: Callable[[str], None]):
        self.trials, self.position, self.max_failures, self.log = trials, position, max_failures, log

    def on_trial_start(self, iteration, trials, trial, **info):
        attempt = trial.num_failures + 1
        self.log(f"{self.position[trial.config['trial']]}: started"
                 + (f" again (attempt {attempt} of {self.max_failures + 1})" if attempt > 1 else ""))

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.log(f"{self.position[trial.config['trial']]}: its worker failed ({reason(trial)}); it will be "
                 f"started again and resume from its folder")

    def on_trial_error(self, iteration, trials, trial, **info):
        self.log(f"{self.position[trial.config['trial']]}: failed after {trial.num_failures} attempts "
                 f"({reason(trial)})")

    def on_trial_complete(self, iteration, trials, trial, **info):
        from pyimagesearch.core.sweep import describe

        name, result = trial.config["trial"], trial.last_result or {}
        if "user_error" in result:
            self.log(f"{self.position[name]}: failed: {result['user_error']}")
            return
        record = completion(self.trials[name].folder) or {}
        self.log(f"{self.position[name]}: finished in {result.get('seconds', float('nan')):.1f} s "
                 f"({describe(record.get('summary') or {})})")


def reason(trial) -> str:
    """The first line of a failed trial's error, short."""
    error = trial.get_pickled_error() or trial.get_error() or "no error recorded"
    return (str(error).strip().splitlines() or ["no message"])[0][:160]


def run(pending: Sequence[Any], run_one: Callable, args, *, name: str, storage: Path, max_failures: int,
        position: Mapping[str, str], log: Callable[[str], None]) -> tuple[dict[str, float], str]:
    """Run ``pending`` as one Tune experiment; the seconds of each, and how they ran (for the summary line)."""
    started_here = start_ray(args.ray_address)
    try:
        alive = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
        largest = max(alive, key=lambda node: (node.get("GPU", 0), node.get("CPU", 0)), default={})
        cpus, gpus = trial_resources(ray.cluster_resources(), largest, len(pending), args.trial_cpus, args.trial_gpus)
        threads = max(1, math.floor(cpus))
        by_name = {trial.name: trial for trial in pending}
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic reporter, silent at verbose=0
        logging.getLogger("ray.tune").setLevel(logging.WARNING)
        tuner = tune.Tuner(
            tune.with_resources(make_trainable(run_one, by_name, threads, gpus), {"cpu": cpus, "gpu": gpus}),
            param_space={"trial": tune.grid_search(list(by_name))},
            tune_config=tune.TuneConfig(trial_dirname_creator=lambda trial: trial.config["trial"]),
            run_config=tune.RunConfig(storage_path=str(Path(storage).resolve()),
                                      name=f"{name}-{time.strftime('%Y%m%d-%H%M%S')}", verbose=0,
                                      callbacks=[Progress(by_name, position, max_failures, log)],
                                      failure_config=tune.FailureConfig(max_failures=max_failures)))
        grid = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
    seconds, failures = {}, []
    for result in grid:
        trial_name = result.config["trial"]
        if result.error is not None:
            failures.append((trial_name, result.error))
        elif "user_error" in result.metrics:
            raise RunError(result.metrics["user_error"])
        else:
            seconds[trial_name] = float(result.metrics["seconds"])
    for trial_name, error in failures:
        if isinstance(error, (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError)):
            raise RunError(f"trial {trial_name} failed {max_failures + 1} times, its worker dying each time "
                            f"({str(error).strip().splitlines()[0][:120]}); what it finished is kept in "
                            f"{by_name[trial_name].folder}: run the command again to resume it")
        raise error
    how = f"with Ray, {cpus:g} CPU{'s' if cpus != 1 else ''}{f' and {gpus:g} GPU' if gpus else ''} per trial"
    return seconds, how
