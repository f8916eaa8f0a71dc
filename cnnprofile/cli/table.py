"""``cnnprofile table``: one model's per-layer table."""
import click

from . import cli
from .options import engine_option, format_option, input_options, model_kwargs_option


@cli.command()
@click.argument("model")
@input_options
@model_kwargs_option
@engine_option
@click.option("--all", "all_layers", is_flag=True, help="Show every leaf module and functional op run.")
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Roll rows up to module depth N.")
@format_option
@click.option("--exact", is_flag=True, help="Print exact integers instead of K/M/G.")
@click.option("--weights-only", is_flag=True,
              help="Parameters without biases (the lecture's tables); biases are included by default.")
@click.option("--rf", is_flag=True, help="Receptive field, effective stride and padding of every layer.")
@click.option("--intensity", is_flag=True, help="Bytes read and written and FLOPs per byte of every layer.")
@click.option("--device-peak", default=None, metavar="DEVICE",
              help="Roofline bound of every layer on DEVICE (e.g. h100-sxm, a100-80gb-sxm, cpu); implies --intensity.")
def table(model, input_size, batch, dtype, model_kwargs, engine, all_layers, depth, fmt, exact, weights_only, rf,
          intensity, device_peak):
    """Per-layer output shape, memory, parameters and MACs of MODEL (the lecture's tables)."""
    if rf or intensity or device_peak:
        return _extra(model, input_size, batch, dtype, model_kwargs, fmt, rf, device_peak)
    from ..analyzer import profile
    from ..errors import InputError
    from ..formatting import render
    from ..views import select_view, without_biases

    if all_layers and depth is not None:
        raise InputError("--all and --depth are mutually exclusive")
    result = profile(model, input_size, batch=batch, dtype=dtype, kwargs=model_kwargs, engine=engine)
    if weights_only:
        result = without_biases(result)
    view = "all" if all_layers else (f"depth {depth}" if depth is not None else "lecture")
    rows = select_view(result, all_layers=all_layers, depth=depth)
    click.echo(render(result, rows, fmt, view=view, exact_numbers=exact), nl=False)


def _extra(model, input_size, batch, dtype, model_kwargs, fmt, rf, device_peak):
    from ..errors import InputError
    from ..extra_tables import render_rf, render_roofline

    if fmt not in ("text", "json"):
        raise InputError("--rf, --intensity and --device-peak print text or json")
    if rf:
        from ..receptive import receptive_fields

        result = receptive_fields(model, input_size, batch=batch, kwargs=model_kwargs)
        if result.last_feature_map() is None:
            raise InputError(f"{result.model} has no spatial layer: no unit has a receptive field on the input")
        click.echo(render_rf(result, fmt), nl=False)
        return
    from ..bench.peaks import device_by_key
    from ..roofline import roofline, traffic

    device = device_by_key(device_peak) if device_peak else None
    result = traffic(model, input_size, batch=batch, dtype=dtype, kwargs=model_kwargs)
    click.echo(render_roofline(result, roofline(result, device) if device else None, fmt), nl=False)
