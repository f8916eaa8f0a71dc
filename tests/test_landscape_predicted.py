"""Predicted latency as a column of the store, the picker and the page: the kernels a sweep stores read back as
a fresh recording of the same model gives them, the picker's predicted milliseconds are those of `predict` on
that fresh recording, `--max-ms` keeps exactly the rows under it, and the page charts every row that has them."""
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.landscape import landscape, read_rows
from cnnprofile.landscape.kernel_blob import kernel_arrays
from cnnprofile.landscape.pick import dominates
from cnnprofile.landscape.predicted import predict_rows
from cnnprofile.predict.api import predict
from cnnprofile.predict.features import model_arrays
from cnnprofile.predict.measurements import TIMM_AMP
from landscape_fixture import KERNEL_CELLS, make_kernel_store, write_calibration

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    d = tmp_path_factory.mktemp("predicted")
    return make_kernel_store(str(d / "kernels.db")), write_calibration(str(d / "cal.json"))


def size_of(row):
    return tuple(int(x) for x in row.input_size.split("x"))


def with_kernels(store):
    return [r for r in read_rows(store) if r.kernels]


def test_the_stored_kernels_are_a_fresh_recordings(where):
    store, _ = where
    rows = with_kernels(store)
    assert len(rows) == len(KERNEL_CELLS)  # the hand-made rows and the failed one have none
    for row in rows:
        stored, fresh = kernel_arrays(row), model_arrays(row.model, size_of(row), batch=1)
        for name in ("cls", "flops", "act_bytes", "param_bytes", "reduction", "width", "row"):
            got, want = getattr(stored, name), getattr(fresh, name)
            assert got.dtype == want.dtype and np.array_equal(got, want), (row.model, name)
        assert stored.rows == fresh.rows and stored.batch == 1 and stored.input_shape == size_of(row)
        assert (stored.param_tensors, stored.param_total_bytes, stored.uncounted) == \
            (fresh.param_tensors, fresh.param_total_bytes, fresh.uncounted)
        assert len(row.kernels) < 16 * len(stored.cls)  # compact: ResNet-18, 68 kernels in 0.86 kB


def test_a_store_of_version_2_is_refused_in_one_line(tmp_path):
    from landscape_fixture import make_store

    path = make_store(str(tmp_path / "old.db"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    done = CliRunner().invoke(cli, ["pick", "--store", path])
    assert done.exit_code == 2 and len(done.output.splitlines()) == 1
    assert "schema version 2; this cnnprofile reads and writes version 3" in done.output


def pick_json(store, *args):
    done = CliRunner().invoke(cli, ["pick", "--store", store, "--format", "json", *args])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


@pytest.mark.parametrize("batch, amp, step, tolerance", [
    (1, "fp16", TIMM_AMP, 1e-6),
    (1, None, None, 1e-6),
    # At another batch the store's batch-1 kernels are rescaled (``KernelArrays.at``), a fresh recording is made
    # at that batch: they differ by the batch norms' running statistics, which ``analyses.kernels`` counts as
    # activation bytes (so ``at`` scales them): 7 kB of a ResNet-18's 51 MB stem norm, 3e-4 of its time.
    (8, "fp16", TIMM_AMP, 1e-3),
])
def test_picked_milliseconds_are_predict_on_a_fresh_recording(where, batch, amp, step, tolerance):
    store, cal = where
    args = ["--device", "rtx-4090", "--calibration", cal, "--batch", str(batch), "--max-ms", "1000"]
    picked = pick_json(store, *args, *(["--amp", amp] if amp else []))
    assert picked and all("kernels" not in p for p in picked)  # the blob stays in the store
    assert "resnet50" not in {p["architecture"] for p in picked}  # no kernels stored: not priced, not picked
    for p in picked:
        fresh = predict(p["model"], device="rtx-4090", batch=batch, step=step, calibration=cal,
                        input_size=tuple(int(x) for x in p["input_size"].split("x")))
        assert p["predicted_ms"] == pytest.approx(fresh.seconds * 1e3, rel=tolerance), p["model"]
        assert p["predicted_images_per_s"] == pytest.approx(batch / fresh.seconds, rel=tolerance)


def test_max_ms_keeps_exactly_the_rows_under_it(where):
    store, cal = where
    entries = landscape(store)
    predictions = predict_rows(entries, device="rtx-4090", batch=4, amp="fp16", calibration=cal)
    ms = sorted(p.seconds * 1e3 for p in predictions.by_key.values())
    assert len(ms) == len(KERNEL_CELLS)
    for limit in ((ms[1] + ms[2]) / 2, ms[3] * (1 + 1e-9), ms[3] * (1 - 1e-9), ms[-1] * 2):
        picked = pick_json(store, "--device", "rtx-4090", "--calibration", cal, "--batch", "4", "--amp", "fp16",
                           "--max-ms", repr(limit))
        under = [e for e in entries if e.accuracy is not None and predictions.of(e.row) is not None
                 and predictions.of(e.row).seconds * 1e3 <= limit]
        # The frontier of those on (top-1, predicted ms), worked out here by brute force.
        points = [((e.accuracy.top1, predictions.of(e.row).seconds), e) for e in under]
        best = {(e.row.model, e.row.tag, e.row.input_size) for p, e in points
                if not any(dominates(q, p) for q, _ in points)}
        assert {(p["model"], p["tag"], p["input_size"]) for p in picked} == best, limit
        assert all(p["predicted_ms"] <= limit for p in picked)
    assert len(best) >= 2  # the last limit holds every priced row; their frontier is not one model


@pytest.mark.parametrize("args, message", [
    (["--max-ms", "5"], "--max-ms is a predicted latency: add --device KEY"),
    (["--device", "no-such-gpu"], "unknown device 'no-such-gpu'; known: "),
    (["--device", "rtx-4090", "--max-ms", "-1"], "--max-ms must be positive"),
    (["--amp", "fp16"], "--amp is for a prediction: add --device KEY"),
    (["--device", "rtx-4090", "--calibration", "/no/such/cal.json"], "no such calibration file"),
])
def test_bad_prediction_flags_are_one_line(where, args, message):
    store, _ = where
    done = CliRunner().invoke(cli, ["pick", "--store", store, *args])
    assert done.exit_code == 2 and message in done.output and len(done.output.splitlines()) == 1, done.output


def test_a_calibration_of_another_device_is_refused(where, tmp_path):
    store, _ = where
    other = write_calibration(str(tmp_path / "h100.json"), device="h100-sxm")
    done = CliRunner().invoke(cli, ["pick", "--store", store, "--device", "rtx-4090", "--calibration", other])
    assert done.exit_code == 2 and "not for 'rtx-4090'" in done.output and len(done.output.splitlines()) == 1


def test_golden_pick_with_predictions(request, where):
    store, cal = where
    done = CliRunner().invoke(cli, ["pick", "--store", store, "--device", "rtx-4090", "--calibration", cal,
                                    "--batch", "8", "--amp", "fp16", "--max-ms", "3"])
    assert done.exit_code == 0, done.output
    text = done.output.replace(cal, "cal.json")
    path = GOLDEN / "pick_predicted.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), "pick_predicted.txt changed (regenerate with --update-golden)"


def test_the_page_charts_predicted_throughput_of_every_row_with_kernels(where, tmp_path):
    from cnnprofile.present.landscape_page import figures, pareto, placed

    store, cal = where
    entries = landscape(store)
    predictions = predict_rows(entries, device="rtx-4090", batch=8, amp="fp16", calibration=cal)
    charts = figures(placed(entries), predictions=predictions)
    assert [axis.key for axis, _ in charts] == ["gmacs", "params", "activations", "peak", "throughput"]
    axis, fig = charts[-1]
    for words in ("predicted throughput", "images/s", "RTX 4090", "batch 8", "amp-fp16"):
        assert words in axis.title and words in fig.layout.xaxis.title.text
    family = [t for t in fig.data if t.meta["role"] == "family"]
    with_both = [e for e in entries if e.accuracy is not None and e.row.kernels]
    assert sum(len(t.x) for t in family) == len(with_both) == len(KERNEL_CELLS)
    by_name = {(c[0], c[1], c[2]): x for t in family for c, x in zip(t.customdata, t.x)}
    for e in with_both:
        assert by_name[(e.row.model, e.row.tag, e.row.input_size)] == predictions.of(e.row).images_per_s
    # Its frontier: the points no other is both faster and more accurate than, fastest first.
    frontier = next(t for t in fig.data if t.meta["role"] == "frontier")
    points = [(x, y) for t in family for x, y in zip(t.x, t.y)]
    unbeaten = sorted((p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in points)),
                      reverse=True)
    assert list(zip(frontier.x, frontier.y)) == unbeaten and len(unbeaten) == len(pareto([(-x, y) for x, y in
                                                                                           points]))
    assert all("predicted on the RTX 4090" in c[10] for t in family for c in t.customdata)
    out = tmp_path / "page.html"
    done = CliRunner().invoke(cli, ["report", "--landscape", "--store", store, "--device", "rtx-4090", "--batch", "8",
                                    "--amp", "fp16", "--calibration", cal, "-o", str(out)])
    assert done.exit_code == 0, done.output
    page = out.read_text(encoding="utf-8")
    assert 'id="chart-throughput"' in page and f"calibration: {cal}" in page and "predicted, not measured" in page
    plain = CliRunner().invoke(cli, ["report", "--landscape", "--store", store, "-o", str(tmp_path / "p.html")])
    assert plain.exit_code == 0 and "chart-throughput" not in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_page_flags_need_their_device(where, tmp_path):
    store, cal = where
    for args, message in ((["--landscape", "--store", store, "--amp", "fp16"], "add --device KEY"),
                          (["--device", "rtx-4090", "alexnet"], "add --landscape --store PATH")):
        done = CliRunner().invoke(cli, ["report", *args, "-o", str(tmp_path / "x.html")])
        assert done.exit_code == 2 and message in done.output, done.output
