"""``cnnprofile devices``: the keys ``--device-peak`` takes, with their peaks and sources."""
import click

from . import cli
from .options import format_option


@cli.command("devices")
@format_option
def devices_cmd(fmt):
    """List every device key with its peak TFLOP/s per precision, its memory bandwidth, the source of each
    figure and whether a latency calibration ships for it."""
    from ..present.devices_table import render_devices

    click.echo(render_devices(fmt), nl=False)
