"""The ``cnnprofile`` command line: thin click commands over the library API.

Every command module registers itself on ``cli``; heavy imports (torch, pandas, matplotlib) happen inside the
commands so that ``cnnprofile --help`` and each command load only what they use.
"""
from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading

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
    """The console script: ``cli`` run, then the process ended without tearing the interpreter down."""
    try:
        cli.main()
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    _exit(code)


def _exit(code) -> None:
    """Exit with ``code`` as ``sys.exit`` would, minus the interpreter's teardown.

    Once torch is imported, tearing the interpreter down (freeing every module's objects, then the static
    registries of the C++ libraries) takes about 0.5 s here: a third of ``cnnprofile table vgg16``. All it
    frees is memory the system takes back anyway. What a normal exit does that matters is done first: output
    flushed, ``atexit`` handlers run (Ray's shutdown, temporary files, logging). With another thread still
    running (a normal exit would wait for it), the exit is the normal one.
    """
    if threading.active_count() > 1:
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message") prints it and exits 1
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away (`| head`), or a stream closed already
            pass
    atexit._run_exitfuncs()
    os._exit(code)
