"""Options shared by several commands, so each means the same everywhere."""
import click

from ..present.formatting import FORMATS


def _parse_inputs(ctx, param, value):
    """Checked at once, so a malformed spec fails before any model is built."""
    from ..inputs import from_specs

    return list(value) if value and from_specs(value) is not None else None


def input_options(fn, *, dtype: bool = True, batch: bool = True):
    if dtype:
        fn = click.option("--dtype", default="float32", show_default=True,
                          help="Element type of the parameters and of floating inputs: float32, float16 or "
                               "bfloat16.")(fn)
    if batch:
        fn = click.option("--batch", type=click.IntRange(min=1), default=None,
                          help="Batch size: the first dimension of every input.")(fn)
    fn = click.option("--input", "input_size", multiple=True, callback=_parse_inputs, metavar="[NAME=]SHAPE[:DTYPE]",
                      help="An input of any rank, once per positional input, NAME=SHAPE for a keyword input, "
                           "an optional dtype: 1x3x224x224, 1x4x16000, 1x128:int64, mask=1x128:bool. A named "
                           "model's input may omit the batch (3x224x224). Default: the model's native input.")(fn)
    return fn


def _model_transform_option(flag: str, context, help: str):
    """A flag that, for this command only, builds every model resolved from a spec transformed: ``context()``
    (which imports its transform only when the flag is given) is the context in which that holds."""
    def callback(ctx, param, value):
        if value:
            ctx.with_resource(context())
        return value

    return lambda fn: click.option(flag, is_flag=True, expose_value=False, callback=callback, help=help)(fn)


def _fully_convolutional():
    from ..sources.fcn import fully_convolutional_models

    return fully_convolutional_models()


def _deployed():
    from ..sources.deploy import deployed_models

    return deployed_models()


fully_conv_option = _model_transform_option(
    "--fully-conv", _fully_convolutional,
    help="Convert the dense layers after the last spatial map into convolutions (the first with that map's size "
         "as kernel, the others 1x1, same weights): a larger --input then gives a grid of predictions (vgg16 at "
         "3x448x448: 8x8x1000).")
reparam_option = _model_transform_option(
    "--reparam", _deployed,
    help="Profile the network as deployed: re-parameterised where its modules say how (RepVGG, MobileOne, "
         "FastViT, RepGhost, RepViT: timm's reparameterize), and every batch norm that alone reads a convolution "
         "folded into it (the convolution gains a bias, the norm's parameters and FLOPs go).")


def model_options(engine: bool = True, dtype: bool = True, batch: bool = True):
    """The one set of model options (--input, --batch, --dtype, --kwargs, --engine, --fully-conv, --reparam)
    every command takes.

    ``bench`` takes them without --batch (its --batch-sizes set the batch), with its own --dtype (which goes
    with --autocast) and without --engine (it runs the models for real anyway).
    """
    def decorate(fn):
        if engine:
            fn = engine_option(fn)
        fn = reparam_option(fully_conv_option(model_kwargs_option(fn)))
        return input_options(fn, dtype=dtype, batch=batch)

    return decorate


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
    return click.option("--engine", type=click.Choice(list(ENGINES)), default=None,
                        help=f"Counting engine (default: meta, or real for models whose shapes depend on the "
                             f"data; {described}).")(fn)


TRAIN_ONLY = ("optimizer", "trainable", "freeze")


def refuse_without_train(ctx, train: bool) -> None:
    """--optimizer, --trainable and --freeze describe a training step: given without --train they are refused,
    never silently ignored (``--optimizer`` has a default, so only an option typed on the command line counts)."""
    from click.core import ParameterSource

    if train:
        return
    given = [name for name in TRAIN_ONLY if name in ctx.params
             and ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
    if given:
        from ..errors import InputError

        names = " and ".join(f"--{n}" for n in given)
        verb = "needs --train (it describes" if len(given) == 1 else "need --train (they describe"
        raise InputError(f"{names} {verb} a training step)")
