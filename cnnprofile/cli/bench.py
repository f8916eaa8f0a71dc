"""``cnnprofile bench``: latency, throughput and memory of models on a GPU or CPU."""
import click

from . import cli
from .options import format_option, model_options, refuse_without_train

DEFAULT_MODELS = ("alexnet", "googlenet", "resnet50", "vgg16")
DEFAULT_BATCH_SIZES = {"cuda": (1, 8, 64, 256), "cpu": (1, 4)}


def parse_batch_sizes(text: str) -> tuple:
    """'1,8,64' -> (1, 8, 64); each must be a positive integer; repeats are dropped."""
    from ..errors import InputError

    sizes = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part.isdigit() or int(part) <= 0:
            raise InputError(f"--batch-sizes {text!r}: {part!r} is not a positive integer "
                             "(expected a comma-separated list such as 1,8,64)")
        sizes.append(int(part))
    return tuple(dict.fromkeys(sizes))


def default_output(device: str, directory: str = ".") -> str:
    """Where results go when no --output is given: a new file in the current directory, never the repository's
    committed results in reports/bench/."""
    import os

    from ..bench.env import utc_now

    stamp = utc_now().replace("-", "").replace(":", "")
    return os.path.join(directory, f"bench-{stamp}-{device}.jsonl")


@cli.command()
@click.argument("models", nargs=-1)
@click.option("--device", type=click.Choice(["auto", "cuda", "cpu"]), default="auto", show_default=True,
              help="Where to run; auto = CUDA if a GPU is visible, else CPU.")
@click.option("--batch-sizes", default=None, metavar="N,N,...",
              help="Comma-separated batch sizes (default: 1,8,64,256 on CUDA, 1,4 on CPU).")
@click.option("--dtype", default="float32", show_default=True, help="float32, float16 or bfloat16.")
@click.option("--autocast", is_flag=True, help="Keep float32 weights and run under torch.autocast(--dtype).")
@click.option("--channels-last", is_flag=True, help="Channels-last (NHWC) memory format for weights and input.")
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model (compiled before timing).")
@click.option("--cuda-graphs", is_flag=True, help="Capture the forward pass in a CUDA graph and time its replay.")
@click.option("--train", is_flag=True,
              help="Time a full training step (forward, loss, backward, optimizer step, zero_grad) instead of a "
                   "forward pass; the prediction is then the training step's peak.")
@click.option("--optimizer", default="sgd", show_default=True,
              help="With --train: none, sgd, sgd-momentum, adam or adamw.")
@click.option("--warmup", type=click.IntRange(min=0), default=10, show_default=True,
              help="Minimum warm-up iterations; warm-up then goes on until timings are stable.")
@click.option("--max-warmup", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Upper bound on warm-up time per cell, in seconds.")
@click.option("--min-time", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Seconds each of the latency and throughput phases lasts at least.")
@click.option("--iters", type=click.IntRange(min=1), default=None,
              help="A fixed number of timed iterations per phase (overrides --min-time).")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="JSON-lines file results are appended to (default: ./bench-<UTC time>-<device>.jsonl); its "
                   "directory must exist.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: the cells one after another here; ray: each cell a Ray task holding one GPU "
                   "(pip install cnnprofile[ray]).")
@click.option("--address", default=None, metavar="ADDR",
              help="With --executor ray: the cluster to join (default: a Ray started on this machine).")
@click.option("--gpus", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --executor ray and no --address: the GPUs of the Ray started here (default: those Ray "
                   "finds).")
@model_options(engine=False, dtype=False, batch=False)
@format_option
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Progress on stderr: a bar; with --executor ray, a line per cell saying where it ran.")
@click.pass_context
def bench(ctx, models, device, batch_sizes, dtype, autocast, channels_last, compile_, cuda_graphs, train, optimizer,
          warmup, max_warmup, min_time, iters, output, executor, address, gpus, input_size, model_kwargs, fmt,
          progress):
    """Benchmark MODELS (default: a few zoo models) over batch sizes: latency, images/s, memory, TFLOP/s."""
    import sys

    from ..bench.backends import select_backend
    from ..bench.results import prepare_output
    from ..bench.runner import BenchConfig, run_sweep
    from ..present.bench_summary import render
    from ..errors import InputError
    from ..inputs import dtype_name, parse_dtype
    from ..analyses.memory.optimizers import check_optimizer

    dtype = dtype_name(parse_dtype(dtype))
    if autocast and dtype == "float32":
        raise InputError("--autocast needs --dtype float16 or bfloat16")
    refuse_without_train(ctx, train)
    optimizer = check_optimizer(optimizer)
    if cuda_graphs and train:
        raise InputError("--cuda-graphs times a captured forward pass; it cannot be combined with --train")
    if executor == "ray":  # the cells run where Ray puts them: the device is checked there, a GPU unless told
        from ..landscape.ray_bench import check_ray

        check_ray(address, gpus)
        backend, device = None, "cuda" if device == "auto" else device
    elif address or gpus is not None:
        raise InputError("--address and --gpus go with --executor ray")
    else:
        backend = select_backend(device)
        device = backend.name
    if cuda_graphs and device != "cuda":
        raise InputError("--cuda-graphs needs a CUDA device")
    sizes = parse_batch_sizes(batch_sizes) if batch_sizes is not None else DEFAULT_BATCH_SIZES[device]
    from ..sources import resolve_models

    sources = resolve_models(list(models) or list(DEFAULT_MODELS), model_kwargs)
    path = prepare_output(output or default_output(device))
    cfg = BenchConfig(batch_sizes=sizes, dtype=dtype, autocast=autocast, channels_last=channels_last,
                      compile=compile_, cuda_graphs=cuda_graphs, train=train, optimizer=optimizer, warmup=warmup,
                      max_warmup_s=max_warmup, min_time_s=min_time, iters=iters, inputs=tuple(input_size or ()))

    click.echo(f"Appending results to {path}", err=True)
    if backend is None:
        results = _on_ray(sources, cfg, device, address, gpus, path, progress)
    else:
        from tqdm import tqdm

        with tqdm(total=len(sources) * len(sizes), file=sys.stderr, unit="cell", disable=not progress,
                  dynamic_ncols=True) as bar:
            results = run_sweep(sources, cfg, backend, path,
                                on_start=lambda m, b: bar.set_description(f"{m} batch {b}"),
                                on_result=lambda r: bar.update(1))
    click.echo(render(results, fmt), nl=False)
    click.echo(f"Results appended to {path}", err=True)


def _on_ray(sources, cfg, device, address, gpus, path, progress) -> list:
    """The cells as Ray tasks, a line on stderr per finished cell saying where it ran."""
    from ..landscape.ray_bench import ray_bench

    total, done = len(sources) * len(cfg.batch_sizes), []

    def report(cell):
        done.append(cell)
        if progress:
            r, p = cell.result, cell.placement
            click.echo(f"[{len(done)}/{total}] {r.model} batch {r.batch_size}: {r.status}, GPU "
                       f"{','.join(map(str, p.gpu_ids)) or '-'} (CUDA_VISIBLE_DEVICES={p.visible_devices}) on "
                       f"{p.node}", err=True)

    return [c.result for c in ray_bench(sources, cfg, device=device, address=address, gpus=gpus, output=path,
                                        on_result=report)]
