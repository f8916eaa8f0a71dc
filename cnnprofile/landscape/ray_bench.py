"""``bench`` cells over several GPUs with Ray: each (model, batch) cell is a Ray task asking for ``num_gpus``
(1 by default), so Ray's scheduler runs one cell per GPU at a time and sets ``CUDA_VISIBLE_DEVICES`` for it; the
cell itself is ``bench.runner.run_cell``, as in a local ``bench``.

Tested on the CPU with Ray's logical GPUs (``ray.init(num_gpus=2)``): the scheduling is Ray's, the timing the CPU
backend's. Not yet behind a ``bench`` option.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from .ray_executor import import_ray


def _cell(spec: str, batch: int, cfg, device: str):
    """One bench cell in a Ray worker: (result, the GPU ids Ray gave the task)."""
    import ray

    from ..bench.backends import select_backend
    from ..bench.runner import run_cell
    from ..sources import resolve_model

    backend = select_backend(device)
    backend.prepare()
    return run_cell(resolve_model(spec), batch, cfg, backend, backend.env()), tuple(ray.get_gpu_ids())


def ray_bench(specs: Sequence[str], cfg, *, device: str = "cuda", num_gpus: float = 1,
              on_result: Optional[Callable] = None) -> list:
    """[(BenchResult, gpu ids)] for every spec at every batch of ``cfg``, in the order they finish; Ray must be
    initialised (``ray.init(address=...)`` for a cluster)."""
    ray = import_ray()
    task = ray.remote(num_cpus=1, num_gpus=num_gpus, max_retries=0)(_cell)
    pending = [task.remote(spec, batch, cfg, device) for spec in specs for batch in cfg.batch_sizes]
    out = []
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        result = ray.get(ready[0])
        out.append(result)
        if on_result is not None:
            on_result(result)
    return out
