"""The local executor: a pool of worker processes we manage ourselves, so that a worker that segfaults, is
killed by the kernel's OOM killer or hangs is recorded as such and replaced while the sweep goes on.

A ``concurrent.futures`` pool cannot do this: one dead worker breaks the whole pool, and a hung task cannot be
stopped. Here each worker is one process with one pipe; the parent waits on every pipe and every process's
sentinel at once, and kills (SIGKILL) a worker whose job has run past its deadline.

Workers come from a forkserver that has already imported torch, so a replacement starts in well under a second.
Each worker bounds its address space (``RLIMIT_AS``), so a model too large for the machine fails with a
MemoryError in that worker instead of swapping the machine, and ends when the sweep does (it watches a lifeline
pipe only the sweep holds open), so a ``kill -9`` of the sweep leaves no worker running.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from multiprocessing.connection import wait
from typing import Callable, Optional

from .cells import Job
from .measure import Outcome

# Imported once by the forkserver, so no worker pays for them (nor counts them against a job's --timeout).
PRELOAD = ["torch", "cnnprofile.analyzer", "cnnprofile.analyses.memory", "cnnprofile.landscape.measure"]
DEFAULT_MEMORY_LIMIT = 8 * 2 ** 30  # bytes of address space a worker may map; importing torch maps ~3.6 GB


def _die_with_parent(lifeline):
    """End this worker when the sweep dies, even mid-job. A worker is the forkserver's child, and the forkserver
    may outlive a sweep killed with SIGKILL; so the sweep holds the writing end of a pipe it never writes to,
    and the pipe reaching its end means the sweep is gone."""
    import threading

    def watch():
        try:
            lifeline.poll(None)
        finally:
            os._exit(70)

    threading.Thread(target=watch, daemon=True).start()


def _worker(conn, lifeline, memory_limit: Optional[int]):
    _die_with_parent(lifeline)
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from .measure import measure

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(measure(job))


def _death(exitcode: Optional[int]) -> Outcome:
    if exitcode is not None and exitcode < 0:
        sig = signal.Signals(-exitcode)
        why = {signal.SIGSEGV: "segmentation fault", signal.SIGKILL: "killed, e.g. by the kernel's OOM killer",
               signal.SIGABRT: "aborted", signal.SIGBUS: "bus error"}.get(sig, "killed by a signal")
        return Outcome(failure="worker crashed", reason=f"the worker died of {sig.name} ({why})")
    return Outcome(failure="worker crashed", reason=f"the worker exited with status {exitcode} mid-job")


class _Slot:
    def __init__(self, ctx, memory_limit):
        self.conn, child = ctx.Pipe()
        lifeline, self.lifeline = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_worker, args=(child, lifeline, memory_limit), daemon=True)
        self.process.start()
        child.close()
        lifeline.close()
        self.job: Optional[Job] = None
        self.started = 0.0

    def give(self, job: Job):
        self.job, self.started = job, time.monotonic()
        self.conn.send(job)

    def kill(self):
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        self.conn.close()
        self.lifeline.close()


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int = 1, timeout: Optional[float] = None,
                 memory_limit: Optional[int] = DEFAULT_MEMORY_LIMIT):
        self.workers, self.timeout, self.memory_limit = jobs, timeout, memory_limit

    def run(self, jobs: list, done: Callable[[Job, Outcome], None]):
        """Measure every job, calling ``done(job, outcome)`` in this process as each one ends."""
        if not jobs:
            return
        ctx = mp.get_context("forkserver")
        origins = {j.origin for j in jobs}
        ctx.set_forkserver_preload(PRELOAD + [o for o in ("timm", "torchvision") if o in origins])
        todo = list(reversed(jobs))
        slots = [_Slot(ctx, self.memory_limit) for _ in range(min(self.workers, len(jobs)))]
        try:
            for slot in slots:
                slot.give(todo.pop())
            while any(s.job for s in slots):
                self._step(slots, todo, done, ctx)
        finally:
            for slot in slots:
                if slot.job is None and slot.process.is_alive():  # idle: let it exit cleanly
                    try:
                        slot.conn.send(None)
                        slot.process.join(timeout=2)
                    except OSError:
                        pass
                slot.kill()

    def _step(self, slots, todo, done, ctx):
        busy = [s for s in slots if s.job]
        wait_for = None
        if self.timeout is not None:
            wait_for = max(0.0, min(s.started + self.timeout for s in busy) - time.monotonic())
        ready = set(wait([x for s in busy for x in (s.conn, s.process.sentinel)], timeout=wait_for))
        now = time.monotonic()
        for i, slot in enumerate(slots):
            if not slot.job:
                continue
            job, outcome, replace = slot.job, None, False
            if slot.conn in ready:
                try:
                    outcome = slot.conn.recv()
                except (EOFError, OSError):
                    replace = True
            if outcome is None and (replace or slot.process.sentinel in ready):
                slot.process.join()
                outcome, replace = _death(slot.process.exitcode), True
                outcome = Outcome(failure=outcome.failure, reason=outcome.reason, seconds=now - slot.started)
            elif outcome is None and self.timeout is not None and now >= slot.started + self.timeout:
                outcome, replace = Outcome(failure="timeout", reason=f"ran past the {self.timeout:g} s timeout; "
                                           "the worker was killed", seconds=now - slot.started), True
            if outcome is None:
                continue
            if replace:
                slot.kill()
                slot = slots[i] = _Slot(ctx, self.memory_limit)
            slot.job = None
            done(job, outcome)
            if todo:
                slot.give(todo.pop())
