"""``sweep()``: profile every cell of some specs into a store, resuming whatever an earlier sweep finished."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from ..errors import InputError
from .cells import Job, jobs_for
from .measure import Outcome, rows_of
from .store import Store

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class SweepSummary:
    jobs: int  # networks to profile (a network published under several tags is one)
    skipped: int  # already in the store
    profiled: int  # rows written as profiled by this sweep
    failed: int  # rows written as failed
    seconds: float
    failures: tuple = ()  # of (model, tag, input size, kind, reason)


def check_settings(jobs: int, timeout: Optional[float], executor: str):
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise InputError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")


def make_executor(executor: str, jobs: int, timeout: Optional[float], address: Optional[str] = None,
                  memory_limit: Optional[int] = None):
    if executor == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(jobs=jobs, timeout=timeout, address=address)
    from .local import DEFAULT_MEMORY_LIMIT, LocalExecutor

    return LocalExecutor(jobs=jobs, timeout=timeout, memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT)


def pending(jobs: list, store: Store, retry_failed: bool) -> list:
    """The jobs with a tag whose row is missing (or failed, with ``retry_failed``)."""
    done = store.keys("profiled") | (set() if retry_failed else store.keys("failed"))
    return [j for j in jobs if not set(j.keys()) <= done]


def sweep(specs: Iterable[str], store_path: str, *, sizes: Optional[list] = None, batch: int = 1, jobs: int = 1,
          timeout: Optional[float] = None, retry_failed: bool = False, executor: str = "local",
          address: Optional[str] = None, memory_limit: Optional[int] = None,
          progress: Optional[Callable[[Job, Outcome], None]] = None, reparam: bool = False) -> SweepSummary:
    """Profile every cell of ``specs`` (see ``landscape.cells``) into the store at ``store_path``, each
    network's rows written in one transaction as it finishes; cells already there are not profiled again.
    ``reparam``: in their deployed form (rows with ``reparam`` true, beside the others)."""
    check_settings(jobs, timeout, executor)
    if batch < 1:
        raise InputError(f"--batch must be at least 1, got {batch}")
    start = time.perf_counter()
    # an unknown name or glob fails before the store is made
    planned = jobs_for(specs, sizes=sizes, batch=batch, reparam=reparam)
    runner = make_executor(executor, jobs, timeout, address, memory_limit)  # refuses a missing Ray now
    with Store(store_path) as store:
        todo = pending(planned, store, retry_failed)
        counts = {"profiled": 0, "failed": 0}
        failures = []

        def done(job: Job, outcome: Outcome):
            rows = rows_of(job, outcome)
            store.put(rows)
            counts[rows[0].status] += len(rows)
            failures.extend((r.model, r.tag, r.input_size, r.failure, r.reason) for r in rows if r.failure)
            if progress is not None:
                progress(job, outcome)

        try:
            runner.run(todo, done)
        finally:
            getattr(runner, "close", lambda: None)()
    return SweepSummary(jobs=len(planned), skipped=len(planned) - len(todo), profiled=counts["profiled"],
                        failed=counts["failed"], seconds=time.perf_counter() - start, failures=tuple(failures))
