"""``cnnprofile windows``: a sliding-window detector against one fully convolutional pass."""
import click

from . import cli
from .options import format_option, model_kwargs_option


def _hw(text: str, what: str) -> tuple:
    """"448x320" -> (448, 320), "448" -> (448, 448); the library checks the values."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() for p in parts):
        raise click.BadParameter(f"expected N or HxW (e.g. 448x448), got {text!r}", param_hint=f"--{what}")
    values = tuple(int(p) for p in parts)
    return values * 2 if len(values) == 1 else values


def _sizes(ctx, param, value):
    return [_hw(v, "window-sizes") for item in value for v in item.split(",") if v.strip()] or None


@cli.command()
@click.argument("model")
@click.option("--image", required=True, metavar="HxW", help="The image, in pixels (e.g. 448x448).")
@click.option("--window-sizes", multiple=True, callback=_sizes, metavar="SIZE[,SIZE...]",
              help="Window sizes, HxW or one number (in pixels; in blocks with --blocks). Default: the network's "
                   "native input (3x3 blocks with --blocks).")
@click.option("--stride", default=None, metavar="S|HxW",
              help="Step between windows (pixels; blocks with --blocks). Default: the FCN's cell spacing (1 block).")
@click.option("--blocks", default=None, metavar="RxC",
              help="Lay the lecture's grid of R x C blocks over the image and give sizes and stride in blocks.")
@model_kwargs_option
@format_option
def windows(model, image, window_sizes, stride, blocks, model_kwargs, fmt):
    """Windows a sliding-window detector built on MODEL evaluates on an image, their MACs, against one fully
    convolutional pass per window size that predicts for the same grid, and what each FCN cell sees."""
    from ..lecture.windows import sliding_windows
    from ..lecture.windows_table import render_windows

    result = sliding_windows(model, _hw(image, "image"), window_sizes, _hw(stride, "stride") if stride else None,
                             blocks=_hw(blocks, "blocks") if blocks else None, kwargs=model_kwargs)
    click.echo(render_windows(result, fmt), nl=False)
