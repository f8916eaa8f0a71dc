"""``cnnprofile list``: the zoo."""
import click

from . import cli
from .options import format_option


@cli.command("list")
@format_option
def list_models_cmd(fmt):
    """List the zoo's models with family, paper and native input size."""
    from ..models import list_models
    from ..lecture.zoo_table import render_zoo

    click.echo(render_zoo(list_models(), fmt), nl=False)
