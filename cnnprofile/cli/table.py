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
def table(model, input_size, batch, dtype, model_kwargs, engine, all_layers, depth, fmt, exact, weights_only):
    """Per-layer output shape, memory, parameters and MACs of MODEL (the lecture's tables)."""
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
