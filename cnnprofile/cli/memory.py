"""``cnnprofile memory``: peak memory of an inference pass or a training step, and the largest batch that fits."""
import click

from . import cli
from ..present.formatting import FORMATS
from .options import model_options, refuse_without_train

_RULE_OPTIONS = ("trainable", "freeze")


class _OrderedRules(click.Command):
    """Keeps the command-line order of --trainable and --freeze, so the last matching pattern wins."""

    def parse_args(self, ctx, args):
        parser = self.make_parser(ctx)
        _, _, order = parser.parse_args(args=list(args))
        ctx.meta["cnnprofile_rule_order"] = [p.name for p in order if p.name in _RULE_OPTIONS]
        return super().parse_args(ctx, args)


def _rules(ctx, trainable, freeze) -> list:
    values = {"trainable": list(trainable), "freeze": list(freeze)}
    return [(name, values[name].pop(0)) for name in ctx.meta.get("cnnprofile_rule_order", [])]


@cli.command(cls=_OrderedRules)
@click.argument("model")
@model_options(engine=False)  # the memory model runs its own trace
@click.option("--train", is_flag=True, help="Predict one training step (forward, loss, backward, optimizer step).")
@click.option("--optimizer", default="sgd", show_default=True,
              help="With --train: none, sgd, sgd-momentum, adam or adamw.")
@click.option("--trainable", multiple=True, metavar="GLOB",
              help="Parameter names to train (repeatable; if first, everything else starts frozen).")
@click.option("--freeze", multiple=True, metavar="GLOB", help="Parameter names to freeze (repeatable).")
@click.option("--amp", default=None, metavar="bf16|fp16", help="Autocast with float32 weights.")
@click.option("--device", default="cuda", show_default=True, type=click.Choice(["cuda", "cpu"]),
              help="Whose allocator and kernels to model.")
@click.option("--fit", default=None, metavar="SIZE", help="Find the largest batch whose peak fits, e.g. 24GB or 22GiB.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (json and csv give exact integers).")
@click.option("--layers", "show_layers", is_flag=True, help="Also print per-layer MACs, FLOPs and saved bytes.")
@click.pass_context
def memory(ctx, model, input_size, batch, dtype, model_kwargs, train, optimizer, trainable, freeze, amp, device,
           fit, fmt, show_layers):
    """Peak memory of MODEL: what is alive at the worst moment of an inference pass or a training step."""
    from ..errors import InputError
    from ..analyses.memory import memory as predict
    from ..analyses.memory.fit import parse_size
    from ..analyses.memory.optimizers import check_optimizer
    from ..present.memory_table import render_csv, render_json, render_markdown, render_text

    refuse_without_train(ctx, train)
    check_optimizer(optimizer)
    if fit is not None:
        parse_size(fit)
        if batch is not None:
            raise InputError("--fit searches for the largest batch that fits; it cannot be combined with --batch")
    options = dict(dtype=dtype, amp=amp, train=train, optimizer=optimizer if train else "none", device=device,
                   kwargs=model_kwargs)
    report = predict(model, input_size, batch=batch, rules=_rules(ctx, trainable, freeze), fit=fit, **options)
    if fmt != "text":
        click.echo({"json": render_json, "csv": render_csv, "markdown": render_markdown}[fmt](report), nl=False)
        return
    full = None
    if train and report.frozen_params:
        full = predict(model, input_size, batch=report.batch, rules=[("trainable", "*")], **options)
    click.echo(render_text(report, full, layers=show_layers), nl=False)
