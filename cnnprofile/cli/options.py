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


def _parse_kwargs(ctx, param, value):
    import json

    if value is None:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as e:
        raise click.BadParameter(f"not valid JSON ({e})") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter(f"expected a JSON object such as '{{\"num_classes\": 10}}', got {value!r}")
    return parsed


def model_kwargs_option(fn):
    return click.option("--kwargs", "model_kwargs", default=None, callback=_parse_kwargs, metavar="JSON",
                        help='Keyword arguments for the model\'s builder, a JSON object, e.g. \'{"num_classes": 10}\'.'
                        )(fn)


def engine_option(fn):
    from ..engines import ENGINES

    described = "; ".join(f"{name}: {text}" for name, (_, text) in ENGINES.items())
    return click.option("--engine", type=click.Choice(list(ENGINES)), default="meta", show_default=True,
                        help=f"Counting engine ({described}).")(fn)
