"""``cnnprofile table``: one model's per-layer table."""
import click

from . import cli
from .memory import _OrderedRules, _rules
from .options import format_option, model_options, refuse_without_train


@cli.command(cls=_OrderedRules)
@click.argument("model")
@model_options()
@click.option("--all", "all_layers", is_flag=True, help="Show every leaf module and functional op run.")
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Roll rows up to module depth N.")
@format_option
@click.option("--exact", is_flag=True, help="Print exact integers instead of K/M/G.")
@click.option("--weights-only", is_flag=True,
              help="Parameters without biases (the lecture's tables); biases are included by default.")
@click.option("--rf", is_flag=True,
              help="Add each layer's receptive field, effective stride and effective padding (columns RF, Stride, "
                   "Padding); a merged row shows the field of its last op's output.")
@click.option("--intensity", is_flag=True, help="Add bytes read and written and FLOPs per byte of every layer.")
@click.option("--device-peak", default=None, metavar="DEVICE",
              help="Add the roofline bound and least time of every layer on DEVICE (e.g. h100-sxm, h200-sxm, "
                   "a100-80gb-sxm, cpu) and print the lower bound on latency; implies --intensity. On a GPU, "
                   "also each layer's predicted time (cnnprofile predict has the details).")
@click.option("--train", is_flag=True,
              help="Add each layer's backward MACs and FLOPs and the bytes it saves for backward in one training step.")
@click.option("--optimizer", default="sgd", show_default=True,
              help="With --train: none, sgd, sgd-momentum, adam or adamw.")
@click.option("--trainable", multiple=True, metavar="GLOB",
              help="With --train: parameters to train (repeatable; if first, everything else starts frozen).")
@click.option("--freeze", multiple=True, metavar="GLOB", help="With --train: parameters to freeze (repeatable).")
@click.pass_context
def table(ctx, model, input_size, batch, dtype, model_kwargs, engine, all_layers, depth, fmt, exact, weights_only, rf,
          intensity, device_peak, train, optimizer, trainable, freeze):
    """Per-layer output shape, memory, parameters and MACs of MODEL (the lecture's tables)."""
    from ..analyzer import analyze
    from ..errors import InputError
    from ..present.formatting import render
    from ..analyses.views import last_feature_map, select_view, without_biases

    if all_layers and depth is not None:
        raise InputError("--all and --depth are mutually exclusive")
    refuse_without_train(ctx, train)
    if train:
        from ..analyses.memory.optimizers import check_optimizer

        check_optimizer(optimizer)
    device = None
    if device_peak:
        from ..devices import device_by_key

        device = device_by_key(device_peak)
    result, traced = analyze(model, input_size, batch=batch, dtype=dtype, kwargs=model_kwargs, engine=engine, rf=rf,
                             intensity=intensity, device=device)
    if device is not None and device_peak.lower() != "cpu":
        from ..predict.api import parse_step, with_prediction

        result = with_prediction(result, traced, device_peak.lower(), parse_step(dtype))
    if train:
        from ..analyses.memory.columns import with_training

        result = with_training(result, model, kwargs=model_kwargs, optimizer=optimizer,
                               rules=_rules(ctx, trainable, freeze))
    if rf and last_feature_map(result.layers) is None:
        raise InputError(f"{result.model} has no spatial layer: no unit has a receptive field on the input")
    if weights_only:
        result = without_biases(result)
    view = "all" if all_layers else (f"depth {depth}" if depth is not None else "lecture")
    rows = select_view(result, all_layers=all_layers, depth=depth)
    click.echo(render(result, rows, fmt, view=view, exact_numbers=exact), nl=False)
    if fmt in ("text", "markdown"):
        _grid_line(model, result)


def _grid_line(model: str, result) -> None:
    """A zoo detector's output explained per cell, at the size it was profiled at."""
    from ..errors import UnknownModelError
    from ..lecture.zoo_table import grid_note
    from ..models import get_model_spec

    try:
        spec = get_model_spec(model)
    except UnknownModelError:
        return
    shape = result.output_shapes[0][1] if result.output_shapes else ()
    if spec.output_note and len(shape) == 4:
        click.echo(f"\nOutput: {grid_note(shape[1:], spec.output_note)}")
