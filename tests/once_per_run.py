"""A fixture's value computed once per test run rather than once per pytest-xdist worker.

With ``--dist worksteal`` the tests of one module (or the users of one session fixture) end up on both workers,
and each worker would build the same module- or session-scoped fixture: a sweep, a report. The first worker to
need the value builds it and leaves it, pickled, in the run's shared temporary directory; the other reads it.
Files the value names stay where the builder wrote them (its temporary directory lives as long as the run).
"""
import os
import pickle

from filelock import FileLock  # a dependency of torch


def once_per_run(tmp_path_factory, name: str, build):
    """``build()``, or the value another worker of this run already built under ``name``."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build()
    shared = tmp_path_factory.getbasetemp().parent  # the run's directory; each worker's basetemp is below it
    path = shared / f"once-{name}.pickle"
    with FileLock(str(path) + ".lock"):
        if path.is_file():
            return pickle.loads(path.read_bytes())
        value = build()
        path.write_bytes(pickle.dumps(value))
        return value
