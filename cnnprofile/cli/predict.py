"""``cnnprofile predict`` (a model's latency on a named device, layer by layer) and ``cnnprofile calibrate`` (fit
the time model of a device on measured results)."""
import click

from . import cli
from .options import format_option, input_options, model_kwargs_option

_DEVICE = click.option("--device", "device", required=True, metavar="KEY",
                       help="A device key (cnnprofile devices lists them), e.g. rtx-4090, h200-sxm, cpu.")


@cli.command()
@click.argument("model")
@_DEVICE
@input_options
@model_kwargs_option
@click.option("--amp", type=click.Choice(["fp16", "bf16"]), default=None,
              help="Autocast in this dtype over float32 weights (as timm's benchmark files measure).")
@click.option("--no-tf32", is_flag=True, help="Float32 convolutions without TF32 (PyTorch allows it by default).")
@click.option("--calibration", default=None, metavar="FILE",
              help="A calibration of this device (default: the one shipped for it, else one transferred).")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N slowest layers.")
@format_option
def predict(model, device, input_size, batch, dtype, model_kwargs, amp, no_tf32, calibration, top, fmt):
    """Predict MODEL's forward-pass latency and throughput on DEVICE, per layer, without running it."""
    from ..predict.api import parse_step
    from ..predict.api import predict as run
    from ..present.prediction_table import prediction_table
    from ..present.tabular import render_table

    step = parse_step(dtype, amp, tf32=not no_tf32)
    p = run(model, device=device, batch=batch or 1, step=step, calibration=calibration,
            input_size=input_size or None, kwargs=model_kwargs)
    click.echo(render_table(prediction_table(p, top), fmt), nl=False)


@cli.command()
@click.argument("results", nargs=-1, required=True)
@_DEVICE
@click.option("--base", default=None, metavar="FILE",
              help="Start from this calibration (another device's) and fit only its scales and launch cost: "
                   "enough for a handful of measurements.")
@click.option("-o", "--output", required=True, metavar="FILE", help="Where to write the calibration (JSON).")
def calibrate(results, device, base, output):
    """Fit DEVICE's time model on RESULTS: timm benchmark CSVs or 'cnnprofile bench' JSONL files."""
    from ..files import check_writable
    from ..predict.api import calibrate as fit

    check_writable(output)
    cal, skipped = fit(list(results), device=device, base=base)
    cal.save(output)
    click.echo(f"{output}: {device} calibrated on {cal.rows} measurements ({cal.step}); median |error| on "
               f"them {100 * cal.fit_median_error:.1f}%" + (f"; {len(skipped)} skipped" if skipped else ""))
