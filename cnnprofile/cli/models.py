"""``cnnprofile list``: the zoo."""
import click

from . import cli
from .options import format_option


@cli.command("list")
@format_option
def list_models_cmd(fmt):
    """List the zoo's models with family, paper and native input size."""
    from ..analyzer import profile
    from ..models import list_models
    from ..lecture.zoo_table import render_zoo

    specs = list_models()
    # Figures published as operations get ours beside them in the closing notes: counted now, on meta.
    ours = {s.name: profile(s.name).totals.macs for s in specs if s.published.operations}
    click.echo(render_zoo(specs, fmt, ours), nl=False)
