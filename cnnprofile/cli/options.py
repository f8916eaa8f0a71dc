"""Options shared by several commands, so each means the same everywhere."""
import click

from ..formatting import FORMATS


def input_options(fn):
    fn = click.option("--dtype", default="float32", show_default=True,
                      help="Element type of input and parameters: float32, float16 or bfloat16.")(fn)
    fn = click.option("--batch", type=int, default=None, help="Batch size (overrides N of --input).")(fn)
    fn = click.option("--input", "input_size", default=None, metavar="NxCxHxW",
                      help="Input shape, e.g. 1x3x224x224 (default: the model's native size, batch 1).")(fn)
    return fn


def format_option(fn):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                        help="Output format.")(fn)
