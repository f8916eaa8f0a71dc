"""``cnnprofile compare``: several models side by side, one row each."""
import click

from . import cli
from ..present.compare import SORT_KEYS
from .options import format_option, model_options


@cli.command()
@click.argument("models", nargs=-1, required=True)
@model_options()
@click.option("--sort", type=click.Choice(SORT_KEYS), default=None,
              help="Order rows by a column: sizes ascending, top1 best first, name alphabetically "
                   "(default: as given).")
@click.option("--device", default=None, metavar="KEY",
              help="Add each model's predicted latency and images/s on this device (cnnprofile devices lists the "
                   "keys), from the same recording.")
@format_option
def compare(models, input_size, batch, dtype, model_kwargs, engine, sort, device, fmt):
    """Parameters, memory, MACs, FLOPs and published accuracy of MODELS, one row each.

    MODELS are zoo names, torchvision:NAME, timm:NAME, FILE.py:FACTORY or package.module:FACTORY; globs such
    as 'torchvision:resnet*' select many. Example: cnnprofile compare alexnet vgg16 googlenet resnet50
    xception se_resnet50
    """
    from ..present.compare import compare as run_compare
    from ..present.compare import format_comparison

    result = run_compare(models, input_size, batch=batch, dtype=dtype, engine=engine, kwargs=model_kwargs,
                         sort=sort, device=device)
    click.echo(format_comparison(result, fmt), nl=False)
