"""The GPU proof's registered predictions (``benchmarks/predict_gpu_check.py``): chosen by its stated rule, complete
for every Hopper key, and scored correctly against a measured bench file (here a made-up one: the scoring is what
is tested, on CPU; the figures come when a GPU measures the cells)."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import predict_gpu_check as check  # noqa: E402

TEMPLATE = ROOT / "reports" / "bench" / "20261128T061227Z-cuda-gpu-check.jsonl"


@pytest.fixture(scope="module")
def registered():
    with open(check.PREREGISTERED) as f:
        return json.load(f)


def test_the_registered_models_are_the_rule_s_choice(registered):
    assert registered["models"] == check.chosen_models()
    assert len(set(registered["models"])) == check.COUNT
    assert registered["step"] == check._step().label == "amp-fp16"
    assert "transferred from rtx-4090" in registered["calibration"]["h200-sxm"]


def test_every_key_model_and_batch_has_a_prediction(registered):
    cells = {f"{m}@{b}" for m in registered["models"] for b in registered["batches"]}
    assert set(registered["predictions"]) == set(check.KEYS)
    for key in check.KEYS:
        assert set(registered["predictions"][key]) == cells
        assert all(ms > 0 for ms in registered["predictions"][key].values())
    # a larger batch never takes less time than a smaller one
    for m in registered["models"]:
        assert registered["predictions"]["h200-sxm"][f"{m}@256"] > registered["predictions"]["h200-sxm"][f"{m}@8"]


def _measured_file(tmp_path, registered, factor):
    line = json.loads(TEMPLATE.read_text().splitlines()[0])
    out = tmp_path / "measured.jsonl"
    with open(out, "w") as f:
        for n, model in enumerate(registered["models"][:5]):
            for batch in registered["batches"]:
                ms = registered["predictions"]["h200-sxm"][f"{model}@{batch}"] * factor(n, batch)
                row = dict(line, model=f"timm:{model}", batch_size=batch, dtype="float16", autocast=True,
                           channels_last=False, latency_ms=dict(line["latency_ms"], median=ms))
                f.write(json.dumps(row) + "\n")
    return out


def test_the_score_is_the_registered_prediction_against_the_measured_median(tmp_path, registered):
    # measured = predicted x 1.25 at batch 8 and x 0.8 at batch 256: errors of -20% and +25%
    path = _measured_file(tmp_path, registered, lambda n, b: 1.25 if b == 8 else 0.8)
    result = check.score(str(path), registered)
    assert result["key"] == "h200-sxm" and result["all"]["cells"] == 10
    assert result["batch_8"]["median_error"] == pytest.approx(-0.2)
    assert result["batch_256"]["median_abs_error"] == pytest.approx(0.25)
    assert result["batch_256"]["within_25"] == 1.0 and result["batch_8"]["within_25"] == 1.0
    assert len(result["missing"]) == 2 * check.COUNT - 10


def test_a_card_without_registered_predictions_is_refused(tmp_path, registered):
    path = _measured_file(tmp_path, registered, lambda n, b: 1.0)
    text = path.read_text().replace("NVIDIA H200", "NVIDIA A100-SXM4-80GB")
    path.write_text(text)
    with pytest.raises(SystemExit, match="no predictions registered"):
        check.score(str(path), registered)


def test_the_measuring_path_writes_rows_of_the_registered_step_and_skips_what_timm_lacks(tmp_path, capsys):
    # The GPU run is one shot: its harness call is checked here on the CPU (one small registered model, one
    # batch, a short window), so a broken argument shows before a GPU is lent, not on it; and a model the
    # machine's timm does not have is named and left out rather than ending the run.
    from cnnprofile.predict.measurements import read_results

    out = tmp_path / "cells.jsonl"
    check.measure(str(out), {"models": ["no_such_model_in_timm", "lcnet_075"], "batches": [1]}, min_time=0.05,
                  device="cpu")
    assert "lacks 1 registered models, left out: no_such_model_in_timm" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["status"] == "ok", rows
    assert rows[0]["model"] == "timm:lcnet_075" and rows[0]["batch_size"] == 1
    assert rows[0]["autocast"] is True and rows[0]["dtype"] == "float16" and rows[0]["latency_ms"]["median"] > 0
    assert read_results(str(out))[0].step.label == check._step().label  # scored as the step registered
