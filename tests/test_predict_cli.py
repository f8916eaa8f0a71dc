"""``cnnprofile predict`` and ``cnnprofile calibrate`` from the command line, the predicted column of ``table
--device-peak``, and their one-line refusals."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.devices import shipped_calibration

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
T4090 = DATA / "timm-benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def refused(result, text: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in result.output, result.output


def test_a_calibration_ships_for_the_rtx_4090_with_its_provenance():
    cal = json.loads(Path(shipped_calibration("rtx-4090")).read_text())
    assert cal["device"] == "rtx-4090" and cal["step"] == "amp-fp16" and cal["rows"] > 1500
    assert cal["fitted_on"] == ["benchmarks/data/timm-benchmark-infer-amp-nchw-pt291-cu128-4090.csv"]
    assert 0 < cal["fit_median_error"] < 0.15


def test_resnet50_at_batch_1024_on_the_4090_is_within_15_percent_of_timms_measurement():
    result = run("predict", "timm:resnet50", "--device", "rtx-4090", "--amp", "fp16", "--batch", "1024",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    # timm's file: resnet50,224,4302.84,237.959,1024 (ms per forward pass). In-sample: the shipped calibration
    # was fitted on the whole file; docs/benchmarks.md gives the held-out figures.
    assert doc["seconds"] == pytest.approx(0.237959, rel=0.15)
    assert sum(r["seconds"] for r in doc["layers"]) == pytest.approx(doc["seconds"], rel=1e-9)


def test_the_table_gets_a_predicted_column_from_the_same_recording():
    doc = json.loads(run("table", "resnet18", "--device-peak", "rtx-4090", "--all", "--format", "json").output)
    rows = doc["layers"]
    assert all("predicted_s" in r for r in rows)
    assert sum(r["predicted_s"] for r in rows) == pytest.approx(doc["totals"]["predicted_s"], rel=1e-9)
    alone = json.loads(run("predict", "resnet18", "--device", "rtx-4090", "--format", "json").output)
    assert doc["totals"]["predicted_s"] == pytest.approx(alone["seconds"], rel=1e-9)
    text = run("table", "resnet18", "--device-peak", "rtx-4090").output
    assert "Predicted (us)" in text and "Predicted on NVIDIA" not in text and "Predicted on RTX 4090" in text


def test_a_device_without_a_calibration_gets_the_4090s_and_says_so():
    doc = json.loads(run("predict", "resnet18", "--device", "a100-80gb-sxm", "--format", "json").output)
    assert doc["calibration"].startswith("transferred from rtx-4090")
    assert doc["step"] == "fp32+tf32"


def test_a_transferred_prediction_states_how_the_same_transfer_did_on_measured_devices():
    # The shipped calibration's own fit error is the 4090's; for a device nobody measured, what the output can
    # honestly claim is how the transfer did zero-shot elsewhere, the device itself first where it was scored.
    checks = json.loads(Path(shipped_calibration("rtx-4090")).read_text())["transfer_checks"]
    assert {"rtx-3090", "h200-sxm"} <= set(checks)
    said = json.loads(run("predict", "resnet18", "--device", "h200-sxm", "--format", "json").output)["calibration"]
    for key, c in checks.items():
        name = "this device" if key == "h200-sxm" else key
        assert f"{name} {100 * c['median_abs_error']:.1f}% over {c['rows']:,} rows" in said
    assert said.index("this device") < said.index("rtx-3090")
    assert checks["h200-sxm"]["median_signed_error"] < 0 and "predicted faster than measured" in said
    text = run("predict", "resnet18", "--device", "a100-80gb-sxm").output
    assert f"h200-sxm {100 * checks['h200-sxm']['median_abs_error']:.1f}%" in text


def test_a_calibration_never_scored_on_another_device_says_its_transfer_error_is_unknown():
    from cnnprofile.predict.api import transfer_record
    from cnnprofile.predict.calibration import Calibration

    assert "error here is unknown" in transfer_record(Calibration("rtx-4090", {}), "h100-sxm")


@pytest.mark.parametrize("args, text", [
    (["predict", "resnet18", "--device", "rtx-9999"], "unknown device 'rtx-9999'; known: "),
    (["predict", "resnet18", "--device", "cpu"], "no calibration for cpu"),
    (["predict", "resnet18", "--device", "rtx-4090", "--amp", "fp16", "--dtype", "float16"],
     "--amp autocasts float32 weights"),
    (["predict", "vgg16", "--device", "rtx-4070-ti", "--batch", "4096"], "more than the 12 GB of the RTX 4070 Ti"),
])
def test_bad_predictions_are_refused_in_one_line(args, text):
    refused(run(*args), text)


def test_a_calibration_of_another_device_or_schema_is_refused(tmp_path):
    refused(run("predict", "resnet18", "--device", "rtx-3090", "--calibration", str(shipped_calibration("rtx-4090"))),
            "a calibration for 'rtx-4090', not for 'rtx-3090'")
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps({"schema": "something/0"}))
    refused(run("predict", "resnet18", "--device", "rtx-4090", "--calibration", str(bad)), "calibration schema")


def test_calibrate_refuses_a_results_file_with_no_usable_row(tmp_path):
    empty = tmp_path / "benchmark-infer-amp-nchw-x-3090.csv"
    empty.write_text("model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size\n")
    out = tmp_path / "cal.json"
    refused(run("calibrate", str(empty), "--device", "rtx-3090", "-o", str(out)), "no usable row")
    assert not out.exists()


def test_five_measurements_move_the_4090_calibration_to_the_3090(tmp_path):
    # Five rows of timm's RTX 3090 file (its header and licence in benchmarks/data), small models.
    src = DATA / "timm-benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv"
    lines = src.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model,"))
    want = ("resnet18,224,", "mobilenetv3_small_100,224,", "efficientnet_b0,224,", "resnet34,224,",
            "vit_tiny_patch16_224,224,")
    picked = [line for line in lines[header + 1:] if line.startswith(want)]
    assert len(picked) == 5
    few = tmp_path / "benchmark-infer-amp-nchw-few-rtx3090.csv"
    few.write_text("\n".join([lines[header], *picked]) + "\n")
    out = tmp_path / "cal-3090.json"
    result = run("calibrate", str(few), "--device", "rtx-3090", "--base", str(shipped_calibration("rtx-4090")),
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    cal = json.loads(out.read_text())
    assert cal["device"] == "rtx-3090" and cal["base"] == "rtx-4090" and cal["rows"] == 5
    # each fitted model's remaining log error, named as a later few-shot fit from this file looks it up
    assert sorted(cal["misfit"]) == sorted(f"timm:{w.split(',')[0]}@3x224x224" for w in want)
    assert cal["fit_median_error"] < 0.15
    # timm's 3090 row of a model not among the five fitted: infer_step_time ms for infer_batch_size images
    row = next(line for line in lines if line.startswith("resnet50,224,")).split(",")
    doc = json.loads(run("predict", "timm:resnet50", "--device", "rtx-3090", "--amp", "fp16", "--batch", row[4],
                         "--calibration", str(out), "--format", "json").output)
    assert doc["calibration"] == str(out)
    assert doc["seconds"] == pytest.approx(float(row[3]) / 1000, rel=0.25)


def test_compare_gets_the_predicted_latency_of_each_model():
    doc = json.loads(run("compare", "alexnet", "resnet18", "--device", "rtx-4090", "--batch", "8",
                         "--sort", "predicted", "--format", "json").output)
    rows = {r["model"]: r for r in doc["models"]}
    alone = json.loads(run("predict", "resnet18", "--device", "rtx-4090", "--batch", "8", "--format", "json").output)
    assert rows["resnet18"]["predicted_ms"] == pytest.approx(alone["seconds"] * 1e3, rel=1e-9)
    assert [r["model"] for r in doc["models"]] == sorted(rows, key=lambda m: rows[m]["predicted_ms"])
    assert doc["predicted"]["device"] == "rtx-4090"
    refused(run("compare", "alexnet", "--sort", "predicted"), "--sort predicted needs --device")
    refused(run("compare", "alexnet", "--device", "cpu"), "no calibration for cpu")
