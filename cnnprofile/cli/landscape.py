"""``cnnprofile sweep`` (profile many models into a store), ``cnnprofile landscape`` (read it back) and
``cnnprofile pick`` (the most accurate models within a budget)."""
import click

from . import cli
from .options import format_option

_STORE = click.option("--store", required=True, metavar="PATH",
                      help="The sweep's store, an SQLite file (created by 'cnnprofile sweep').")


def _sizes(values: tuple) -> list:
    """--input sizes, per sample (3x224x224); a leading batch of 1 is dropped."""
    from ..inputs import parse_shape

    out = []
    for text in values:
        shape = parse_shape(text)
        out.append(shape[1:] if len(shape) == 4 and shape[0] == 1 else shape)
    return out


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@_STORE
@click.option("--input", "input_size", multiple=True, metavar="CxHxW",
              help="An input size to profile every model at too (tag ''), besides the sizes it was published "
                   "at; repeatable.")
@click.option("--batch", type=int, default=1, show_default=True,
              help="The batch of the second peak-memory figure (the first is at batch 1).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Workers: processes, or Ray tasks at once.")
@click.option("--timeout", type=float, default=None, metavar="S",
              help="Seconds one model may take; a worker past it is killed and the model recorded as timed out.")
@click.option("--retry-failed", is_flag=True, help="Profile the models the store holds as failed again.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a pool of worker processes on this machine; ray: Ray tasks (pip install cnnprofile[ray]).")
@click.option("--address", default=None, metavar="ADDR",
              help="With --executor ray: the cluster to join (default: a Ray started on this machine).")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="Address space each local worker may map, e.g. 8GiB (default); a model past it fails as out "
                   "of memory.")
@click.option("--reparam", is_flag=True,
              help="Profile every network as deployed (re-parameterised, batch norms folded into their "
                   "convolutions); its rows have reparam true and sit beside the plain ones.")
@click.option("--quiet", "-q", is_flag=True, help="No line per finished model.")
def sweep(specs, store, input_size, batch, jobs, timeout, retry_failed, executor, address, memory_limit, reparam,
          quiet):
    """Profile SPECS (zoo names, torchvision:NAME, timm:NAME, FILE.py:FACTORY, globs such as 'timm:*') at every
    input size they were published at into the store, one transaction per finished model. Run again, it does
    only what is missing."""
    from ..analyses.memory.fit import parse_size
    from ..landscape.sweep import check_settings
    from ..landscape.sweep import sweep as run_sweep

    check_settings(jobs, timeout, executor)
    limit = parse_size(memory_limit) if memory_limit is not None else None

    def progress(job, outcome):
        if not quiet:
            state = f"failed ({outcome.failure}): {outcome.reason}" if outcome.failure else "profiled"
            click.echo(f"{job.model} {job.size_text} [{', '.join(t or '-' for t in job.tags)}]: {state} "
                       f"in {outcome.seconds:.2f} s")

    summary = run_sweep(specs, store, sizes=_sizes(input_size), batch=batch, jobs=jobs, timeout=timeout,
                        retry_failed=retry_failed, executor=executor, address=address, memory_limit=limit,
                        progress=progress, reparam=reparam)
    click.echo(f"{store}: {summary.jobs} networks, {summary.skipped} already in the store; wrote "
               f"{summary.profiled} profiled and {summary.failed} failed rows in {summary.seconds:.1f} s")


@cli.command()
@_STORE
@format_option
@click.option("--failed", "only_failed", is_flag=True, help="Only the rows that failed, with their reasons.")
def landscape(store, fmt, only_failed):
    """Every row of a sweep's store with its published accuracy and where that accuracy is published."""
    from ..landscape import landscape as read
    from ..present.landscape_table import landscape_table
    from ..present.tabular import render_table

    entries = read(store)
    if only_failed:
        entries = [e for e in entries if e.row.status == "failed"]
    known = sum(e.accuracy is not None for e in entries)
    click.echo(render_table(landscape_table(entries, title=f"{store}: {len(entries)} rows, {known} with a published "
                                                             "accuracy"), fmt), nl=False)


@cli.command()
@_STORE
@click.option("--max-gmacs", type=float, default=None, metavar="X", help="At most X billion multiply-accumulates.")
@click.option("--max-params", default=None, metavar="N", help="At most N parameters (25000000, 25M).")
@click.option("--max-memory", default=None, metavar="SIZE",
              help="At most this predicted inference peak at --batch, e.g. 2GB.")
@click.option("--max-ms", type=float, default=None, metavar="T",
              help="At most T predicted milliseconds for one forward pass at --batch on --device.")
@click.option("--batch", type=int, default=1, show_default=True, help="The batch of --max-memory and --max-ms.")
@click.option("--device", default=None, metavar="KEY",
              help="Predict every model's latency on this device (cnnprofile devices lists the keys): columns, "
                   "and what --max-ms is checked on.")
@click.option("--amp", type=click.Choice(["fp16", "bf16"]), default=None,
              help="With --device: autocast in this dtype over float32 weights (default: float32, TF32 "
                   "convolutions).")
@click.option("--calibration", default=None, metavar="FILE",
              help="With --device: its calibration (default: the one shipped for it, else one transferred).")
@format_option
def pick(store, max_gmacs, max_params, max_memory, max_ms, batch, device, amp, calibration, fmt):
    """The Pareto-optimal models of a store within a budget, best top-1 first, with their numbers and the
    source of every accuracy; with --device, their predicted latency and throughput on it."""
    from ..analyses.memory.fit import parse_size
    from ..errors import InputError
    from ..landscape import Budget, frontier, landscape
    from ..landscape.predicted import predict_rows
    from ..present.landscape_table import pick_table
    from ..present.tabular import render_table

    if max_gmacs is not None and max_gmacs <= 0:
        raise InputError(f"--max-gmacs must be positive, got {max_gmacs:g}")
    if max_ms is not None and device is None:
        raise InputError("--max-ms is a predicted latency: add --device KEY (cnnprofile devices lists them)")
    if max_ms is not None and max_ms <= 0:
        raise InputError(f"--max-ms must be positive, got {max_ms:g}")
    if device is None and (amp or calibration):
        raise InputError(f"{'--amp' if amp else '--calibration'} is for a prediction: add --device KEY")
    budget = Budget(max_gmacs=max_gmacs, max_params=_count(max_params), batch=batch, max_ms=max_ms,
                    max_memory=parse_size(max_memory) if max_memory is not None else None)
    entries = landscape(store)
    predictions = None
    if device is not None:
        if batch < 1:
            raise InputError(f"--batch must be at least 1, got {batch}")
        predictions = predict_rows(entries, device=device, batch=batch, amp=amp, calibration=calibration)
    best = frontier(entries, budget, predictions)
    if not best:
        raise InputError(f"no profiled model of {store!r} with a published accuracy is within the budget")
    click.echo(render_table(pick_table(best, budget, predictions=predictions), fmt), nl=False)


def _count(text):
    """'25M' -> 25000000; '25000000' -> 25000000."""
    import re

    from ..errors import InputError

    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*", text)
    if m is None or float(m.group(1)) <= 0:
        raise InputError(f"--max-params: expected a positive count such as 25000000 or 25M, got {text!r}")
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()])
