"""The Ray executor: each job is a Ray task (``num_cpus=1``, or ``num_gpus`` where a job needs a device), so Ray's
own scheduler places the work on a cluster. The rows are the local executor's: the same ``measure`` runs.

At most as many tasks are in flight as the cluster has CPUs for them, so a task starts when it is submitted
and ``--timeout`` is measured from then; a task past it is cancelled with ``force=True``, which kills its
worker (Ray starts another). A worker that dies (a segfault, Ray's OOM monitor) is reported by Ray as such.

Started here (no ``--address``), Ray runs on this machine only, every server bound to 127.0.0.1, with no
dashboard.
"""
from __future__ import annotations

import socket
import time
from typing import Callable, Optional

from ..errors import InputError
from .cells import Job
from .measure import Outcome, measure

CONNECT_TIMEOUT_S = 3.0


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray, which is not installed: pip install 'cnnprofile[ray]'") from None
    return ray


def check_address(address: str):
    """Fail in one line, at once, where nothing answers at ``address`` (Ray itself would retry for a minute)."""
    if address in ("auto", "local"):
        return
    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--address {address!r}: expected HOST:PORT (or ray://HOST:PORT)")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise InputError(f"--address {address!r}: nothing answers there ({e.strerror or e})") from None


def _warm() -> bool:
    """Import what ``measure`` needs, so a job's --timeout does not count a new worker's start."""
    import cnnprofile.analyses.memory  # noqa: F401
    import cnnprofile.analyzer  # noqa: F401

    return True


def _outcome_of_error(ray, error: Exception, seconds: float) -> Outcome:
    if isinstance(error, getattr(ray.exceptions, "OutOfMemoryError", ())):
        return Outcome(failure="out of memory", reason="Ray's memory monitor killed the worker", seconds=seconds)
    if isinstance(error, (ray.exceptions.WorkerCrashedError, ray.exceptions.RayActorError)):
        return Outcome(failure="worker crashed", reason="the Ray worker died mid-task (a signal, e.g. a segfault)",
                       seconds=seconds)
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return Outcome(failure="worker crashed", reason=f"Ray: {type(error).__name__}: {first}"[:300], seconds=seconds)


class RayExecutor:
    name = "ray"

    def __init__(self, jobs: int = 1, timeout: Optional[float] = None, address: Optional[str] = None,
                 num_gpus: float = 0):
        self.ray = import_ray()
        if address:
            check_address(address)
        self.workers, self.timeout, self.address, self.num_gpus = jobs, timeout, address, num_gpus
        self._replaced = 0  # workers killed (crashed, cancelled) since the last warm-up

    def _start(self):
        ray = self.ray
        if ray.is_initialized():
            return
        if self.address:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(num_cpus=self.workers, _node_ip_address="127.0.0.1", include_dashboard=False,
                     log_to_driver=False, configure_logging=False)

    def run(self, jobs: list, done: Callable[[Job, Outcome], None]):
        if not jobs:
            return
        ray = self.ray
        self._start()
        task = ray.remote(num_cpus=1, num_gpus=self.num_gpus, max_retries=0)(measure)
        warm = ray.remote(num_cpus=1, num_gpus=self.num_gpus)(_warm)
        window = max(1, min(self.workers, int(ray.cluster_resources().get("CPU", 1)), len(jobs)))
        ray.get([warm.remote() for _ in range(window)])
        todo, flight = list(reversed(jobs)), {}
        while todo or flight:
            if todo and self._replaced:  # the workers Ray starts in place of the killed ones
                ray.get([warm.remote() for _ in range(min(self._replaced, len(todo)))])
                self._replaced = 0
            while todo and len(flight) < window:
                job = todo.pop()
                flight[task.remote(job)] = (job, time.monotonic())
            wait_for = None
            if self.timeout is not None:
                wait_for = max(0.0, min(t for _, t in flight.values()) + self.timeout - time.monotonic())
            ready, _ = ray.wait(list(flight), num_returns=1, timeout=wait_for)
            now = time.monotonic()
            for ref in ready:
                job, started = flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as e:  # the task's worker died: Ray says how
                    outcome = _outcome_of_error(ray, e, now - started)
                    self._replaced += 1
                done(job, outcome)
            if self.timeout is None:
                continue
            for ref, (job, started) in list(flight.items()):
                if now - started >= self.timeout:
                    ray.cancel(ref, force=True)
                    del flight[ref]
                    self._replaced += 1
                    done(job, Outcome(failure="timeout", reason=f"ran past the {self.timeout:g} s timeout; the "
                                      "Ray task was cancelled and its worker killed", seconds=now - started))

    def close(self):
        if self.ray.is_initialized() and not self.address:
            self.ray.shutdown()
