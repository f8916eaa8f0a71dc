"""``bench`` over several GPUs with Ray (``cnnprofile bench --executor ray``): each (model, batch) cell of the
configuration is a Ray task holding one GPU (``num_gpus=1``), so Ray's scheduler runs one cell per GPU at a time
and sets ``CUDA_VISIBLE_DEVICES`` for it; the cell itself is ``bench.runner.run_cell``, as in a local ``bench``,
so a result differs from a local one only in what is measured (timings, measured memory, its ``env``).

Each task is a fresh worker process (``max_calls=1``, Ray's default for GPU tasks, stated because it matters):
its CUDA context is made on the GPU Ray gave it, and what the cell allocated goes back to the device with it.
Models are resolved here first (a bad name fails before Ray starts) and again, from the same spec, in the task.

Tested on the CPU with Ray's logical GPUs (``--gpus 2 --device cpu``): the scheduling is Ray's, the timing the
CPU backend's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..errors import CnnprofileError, InputError, first_line
from .ray_executor import check_address, import_ray


@dataclass(frozen=True)
class Placement:
    """Where Ray ran one cell, as the task saw it."""

    gpu_ids: tuple  # ray.get_gpu_ids()
    visible_devices: str  # CUDA_VISIBLE_DEVICES
    node: str  # the node's IP address


@dataclass(frozen=True)
class RayCell:
    result: object  # bench.results.BenchResult
    placement: Placement


def check_ray(address: Optional[str], gpus: Optional[int]):
    """Ray, once the settings are known to make sense and any ``address`` answers; one-line errors otherwise."""
    if address and gpus is not None:
        raise InputError("--gpus declares the GPUs of a Ray started on this machine; a cluster at --address has "
                         "its own: drop one of them")
    ray = import_ray()
    if address:
        check_address(address)
    return ray


def _cell(spec: str, kwargs: dict, batch: int, cfg, device: str) -> RayCell:
    """One bench cell in its Ray worker."""
    import ray

    from ..bench.backends import select_backend
    from ..bench.runner import run_cell
    from ..sources import resolve_model

    backend = select_backend(device)
    backend.prepare()
    result = run_cell(resolve_model(spec, kwargs), batch, cfg, backend, backend.env())
    return RayCell(result, Placement(tuple(int(g) for g in ray.get_gpu_ids()),
                                     os.environ.get("CUDA_VISIBLE_DEVICES", ""), ray.util.get_node_ip_address()))


def _start(ray, address: Optional[str], gpus: Optional[int]) -> bool:
    """Join or start Ray; True when this call did (so it is ours to shut down)."""
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:  # this machine only: every server on loopback, no dashboard
        ray.init(num_gpus=gpus, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    return True


def _failed(error: Exception, spec: str, batch: int) -> CnnprofileError:
    cause = getattr(error, "cause", None) or error  # a RayTaskError carries the task's own exception
    return CnnprofileError(f"the Ray task of {spec} at batch {batch} failed: "
                           f"{first_line(cause, with_type=not isinstance(cause, CnnprofileError))}"[:400])


def ray_bench(sources: Sequence, cfg, *, device: str = "cuda", address: Optional[str] = None,
              gpus: Optional[int] = None, output: Optional[str] = None,
              on_result: Optional[Callable[[RayCell], None]] = None) -> list:
    """Every (source, batch) cell of ``cfg`` as a Ray task with one GPU: the ``RayCell``s in cell order (model,
    then batch, as ``run_sweep``), each result appended to ``output`` as it finishes (so in finishing order).

    Uses the Ray this process has initialised, or joins ``address``, or starts Ray here with ``gpus`` GPUs (Ray's
    own count when None); what it started it shuts down. A cluster with no GPU, or a task that dies, is a
    one-line error; the results finished before it are in ``output``.
    """
    from ..bench.results import append_result

    ray = check_ray(address, gpus)
    started = _start(ray, address, gpus)
    try:
        if ray.cluster_resources().get("GPU", 0) < 1:
            raise InputError("the Ray cluster has no GPU, and bench --executor ray runs each cell on one "
                             "(--gpus N declares N on a Ray started here)")
        task = ray.remote(num_cpus=1, num_gpus=1, max_retries=0, max_calls=1)(_cell)
        cells = [(source, batch) for source in sources for batch in cfg.batch_sizes]
        refs = {task.remote(s.spec or s.name, dict(s.kwargs), b, cfg, device): k for k, (s, b) in enumerate(cells)}
        out, pending = [None] * len(cells), list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            k = refs[ready[0]]
            try:
                cell = ray.get(ready[0])
            except Exception as e:  # the task raised, or its worker died: stop, one line
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise _failed(e, cells[k][0].name, cells[k][1]) from None
            if output is not None:
                append_result(output, cell.result)
            out[k] = cell
            if on_result is not None:
                on_result(cell)
        return out
    finally:
        if started:
            ray.shutdown()
