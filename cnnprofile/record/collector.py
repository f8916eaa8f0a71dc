"""Python's cyclic garbage collector, paused while a model is built and recorded.

Building a network and recording its pass allocate hundreds of thousands of small objects (modules, hook
handles, op records), so the collector runs its oldest generation several times per model, and each such run
walks every object alive in the process: with torch imported, some 180,000. That was a third of profiling
the zoo. Paused, nothing is collected until the work ends; what the work drops is freed by reference counts as
before, so a recorded storage still dies when its last reference goes, and the cyclic garbage of one model's
pass is collected when the collector resumes. One kind of cycle does hold tensors: the frames an import
leaves behind, when an op's kernel imports a module on its first call. The recorder collects right after
such an op (``recorder._Recorder``), so those tensors die when the model drops them, as they would unpaused.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the ``with`` block (or a function decorated with ``@collector_paused()``), back
    as it was found afterwards: a caller who had turned it off keeps it off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


__all__ = ["collector_paused"]
