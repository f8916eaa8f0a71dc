"""``cnnprofile report`` (a self-contained HTML report) and ``cnnprofile chart`` (one chart for slides)."""
import click

from . import cli
from .options import model_options

_OPS = click.option("--ops", type=click.Choice(["macs", "flops"]), default="macs", show_default=True,
                    help="Operations on the charts' axes: MACs (multiply-accumulates) or FLOPs.")
_BENCH = click.option("--bench", "bench", multiple=True, metavar="FILE|DIR|GLOB",
                      help="Benchmark results (JSON lines from 'cnnprofile bench'); repeatable. Result files "
                           "given among MODELS (ending in .jsonl, as a shell glob expands them) count too.")

_DEVICE = click.option("--device-peak", "device", default=None, metavar="DEVICE",
                       help="Draw the roofline chart of every model's layers on DEVICE (a peak-table key: "
                            "h100-sxm, h200-sxm, a100-80gb-sxm, cpu...).")


def _split(models: tuple, bench: tuple) -> tuple:
    """A shell expands ``--bench reports/bench/*.jsonl`` into one option and loose file names: take them back."""
    files = [m for m in models if m.endswith(".jsonl")]
    return [m for m in models if not m.endswith(".jsonl")], list(bench) + files


@cli.command()
@click.argument("models", nargs=-1)
@_BENCH
@click.option("-o", "--output", default=None, metavar="FILE.html",
              help="Where to write the report (default: ./cnnprofile-report.html); its directory must exist.")
@click.option("--title", default=None, help="The report's title.")
@click.option("--lecture", is_flag=True,
              help="The lecture's comparison instead: Canziani et al.'s figure set for the lecture's models and "
                   "the lecture's verdicts checked against our numbers (default output: "
                   "./lecture-comparison.html). Takes no MODELS.")
@click.option("--landscape", is_flag=True,
              help="The landscape of a sweep's store instead (--store PATH): top-1 against GMACs, parameters and "
                   "memory with the Pareto frontier, interactive, one self-contained page (default output: "
                   "./landscape.html). Takes no MODELS.")
@click.option("--store", default=None, metavar="PATH", help="With --landscape: the store of 'cnnprofile sweep'.")
@click.option("--device", "predict_device", default=None, metavar="KEY",
              help="With --landscape: a chart of top-1 against the throughput predicted on this device (a key of "
                   "'cnnprofile devices') at --batch (default 1).")
@click.option("--amp", type=click.Choice(["fp16", "bf16"]), default=None,
              help="With --landscape --device: predict under autocast in this dtype over float32 weights.")
@click.option("--calibration", default=None, metavar="FILE",
              help="With --landscape --device: its calibration (default: the one shipped for it, else one "
                   "transferred).")
@_OPS
@_DEVICE
@model_options()
def report(models, bench, output, title, ops, lecture, landscape, store, predict_device, amp, calibration, device,
           input_size, batch, dtype, model_kwargs, engine):
    """An HTML report of MODELS (default: the lecture's zoo, LeNet-5 aside): summary, charts, layer tables.

    MODELS are zoo names, torchvision:NAME, timm:NAME, FILE.py:FACTORY or globs such as 'torchvision:*'.
    """
    from ..files import check_writable
    from ..lecture.report import collect_lecture
    from ..present.report import DEFAULT_OUTPUT, LECTURE_OUTPUT, collect, render_html, write_report

    models, bench = _split(models, bench)
    if landscape or store:
        return _landscape_report(models, store, output, title, predict_device, batch, amp, calibration)
    if predict_device or amp or calibration:
        raise click.UsageError("--device, --amp and --calibration predict the throughput of a store's models: "
                               "add --landscape --store PATH")
    if lecture and models:
        raise click.UsageError(f"--lecture compares the lecture's own models; drop {' '.join(models)!r}")
    output = output or (LECTURE_OUTPUT if lecture else DEFAULT_OUTPUT)
    if not output.lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"{output!r}: the report's file name must end in .html", param_hint="--output")
    check_writable(output)
    if lecture:
        data = collect_lecture(bench, ops=ops, title=title, device=device)
    else:
        data = collect(models, bench, ops=ops, title=title, device=device, input_size=input_size, batch=batch,
                       dtype=dtype, kwargs=model_kwargs, engine=engine)
    write_report(render_html(data), output)
    held = sum(v.holds for v in data.verdicts)
    click.echo(f"wrote {output} ({len(data.models)} models"
               + (f", {len(data.results)} benchmark results" if data.results else "")
               + (f", {held} of {len(data.verdicts)} verdict claims hold" if data.verdicts else "") + ")")


def _landscape_report(models, store, output, title, device=None, batch=None, amp=None, calibration=None):
    from ..files import check_writable
    from ..landscape import landscape
    from ..lecture.verdicts import lecture_models
    from ..present.landscape_page import placed, render_landscape
    from ..present.report import write_report

    if models:
        raise click.UsageError(f"--landscape charts a store; drop {' '.join(models)!r}")
    if not store:
        raise click.UsageError("--landscape needs --store PATH (the store of 'cnnprofile sweep')")
    output = output or "landscape.html"
    if not output.lower().endswith((".html", ".htm")):
        raise click.BadParameter(f"{output!r}: the report's file name must end in .html", param_hint="--output")
    check_writable(output)
    if device is None and (amp or calibration):
        raise click.UsageError(f"{'--amp' if amp else '--calibration'} is for the predicted chart: add --device KEY")
    entries = landscape(store)
    predictions = None
    if device is not None:
        from ..landscape.predicted import predict_rows

        predictions = predict_rows(entries, device=device, batch=batch or 1, amp=amp, calibration=calibration)
    page = render_landscape(entries, title=title or "The landscape: published ImageNet accuracy against cost",
                            highlight=lecture_models(), source=store, predictions=predictions)
    write_report(page, output)
    click.echo(f"wrote {output} ({len(placed(entries))} of {len(entries)} rows placed)")


@cli.command()
@click.argument("kind")
@click.argument("models", nargs=-1)
@_BENCH
@click.option("-o", "--output", required=True, metavar="FILE.svg|FILE.png", help="Where to write the chart.")
@_OPS
@_DEVICE
@model_options()
def chart(kind, models, bench, output, ops, device, input_size, batch, dtype, model_kwargs, engine):
    """One chart of MODELS as SVG or PNG, e.g. 'cnnprofile chart accuracy-vs-ops alexnet vgg16 -o ops.svg'.

    KIND is one of: accuracy-vs-ops, accuracy-bars, accuracy-density, ops-vs-params, memory-vs-batch (predicted
    peaks; measured ones too with --bench), and, with --bench, latency-vs-batch, throughput-vs-batch,
    ops-vs-latency, accuracy-vs-throughput, and, with results that carry power readings, power-vs-batch,
    images-per-joule-vs-batch, and, with --device-peak, roofline.
    """
    import os

    from ..present.charts import chart_kind, save
    from ..errors import InputError
    from ..files import check_writable
    from ..present.report import collect

    chosen = chart_kind(kind)
    if os.path.splitext(output)[1].lower() not in (".svg", ".png"):
        raise InputError(f"cannot write a chart to {output!r}: the file name must end in .svg or .png")
    models, bench = _split(models, bench)
    if chosen.needs_bench and not bench:
        raise InputError(f"chart {kind!r} needs benchmark results: add --bench FILE.jsonl")
    if chosen.needs == "device" and not device:
        raise InputError(f"chart {kind!r} needs a device: add --device-peak DEVICE (e.g. h100-sxm)")
    check_writable(output)
    data = collect(models, bench, ops=ops, device=device, input_size=input_size, batch=batch, dtype=dtype,
                   kwargs=model_kwargs, engine=engine)
    if chosen.needs_bench and not data.cells:
        raise InputError(f"chart {kind!r}: the benchmark files hold no timed or out-of-memory result")
    if not chosen.drawable(data.chart_data):
        raise InputError(f"chart {kind!r}: no benchmark result carries a power reading (power_w)")
    save(chosen.draw(data.chart_data), output, salt=kind)
    click.echo(f"wrote {output}")
