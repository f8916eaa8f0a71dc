"""The ``cnnprofile`` command line: thin click commands over the library API.

Every command module registers itself on ``cli``; heavy imports (torch, pandas, matplotlib) happen inside the
commands so that ``cnnprofile --help`` and each command load only what they use.
"""
from __future__ import annotations

import importlib
import sys

import click

from ..errors import CnnprofileError

# One module per command; each defines its command(s) on ``cli``.
COMMAND_MODULES = ("models", "table", "bench", "report", "compare", "memory", "windows", "landscape", "devices",
                   "predict")


class _Cli(click.Group):
    """Turns every user error into one line on stderr and exit status 2, never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args, prog_name or "cnnprofile", complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(2)
        except CnnprofileError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # e.g. `cnnprofile table vgg16 | head`
            sys.stderr.close()
            sys.exit(0)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnnprofile")
def cli():
    """Per-layer shapes, parameters, activation memory and MACs/FLOPs of CNNs, benchmarks and reports."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main():
    cli.main()
