"""A sweep: every model ends as a row, profiled with figures we can check by hand or against the publisher,
or failed with its one-line reason (build error, trace error, timeout, worker crashed, out of memory); the
workers that crash or hang are replaced and the sweep goes on."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from cnnprofile.landscape import landscape, read_rows, sweep
from cnnprofile.landscape.cells import jobs_for
from cnnprofile.landscape.records import layer_columns
from once_per_run import once_per_run

MODELS = Path(__file__).parent / "data" / "landscape" / "odd_models.py"


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    return once_per_run(tmp_path_factory, "landscape-sweep", lambda: _sweep(tmp_path_factory))


def _sweep(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sweep") / "s.db")
    specs = [f"{MODELS}:{n}" for n in ("small4", "raises", "segfault", "hangs", "hog", "small8")]
    summary = sweep(specs + ["torchvision:resnet18"], path, jobs=2, timeout=8, batch=4, memory_limit=6 * 2 ** 30)
    return summary, {(r.model.rsplit(":", 1)[-1], r.tag): r for r in read_rows(path)}, path


def test_every_model_ends_as_a_row_with_its_reason(swept):
    summary, rows, _ = swept
    failed = {m: (r.failure, r.reason) for (m, _), r in rows.items() if r.status == "failed"}
    assert failed["raises"] == ("build error", f"building {MODELS}:raises failed: ValueError: no such layer")
    assert failed["segfault"] == ("worker crashed", "the worker died of SIGSEGV (segmentation fault)")
    assert failed["hangs"][0] == "timeout" and "8 s timeout" in failed["hangs"][1]
    assert failed["hog"][0] == "out of memory"
    assert len(failed) == 4 and summary.failed == 4
    # The workers that crashed or hung were replaced: the models after them were profiled.
    assert rows[("small8", "")].status == rows[("small4", "")].status == "profiled"
    assert summary.profiled == 3 and len(rows) == 7  # torchvision's resnet18 has one weights enum: one row


def test_a_hand_counted_net(swept):
    r = swept[1][("small4", "")]
    # 3x3 convolution, 3 -> 4 channels on 16x16: 14 x 14 outputs x 4 channels x 27 MACs; 4 x 27 + 4 parameters.
    assert (r.params, r.macs, r.receptive_field, r.input_size, r.batch) == (112, 14 * 14 * 4 * 27, "3", "3x16x16", 4)
    assert r.peak_bytes_batch > r.peak_bytes_1 > 0 and r.engine == "meta" and json.loads(r.uncounted_ops) == {}
    layers = layer_columns(r.layers)
    assert sum(row["macs"] for row in layers) == r.macs and all(row["bytes_read"] > 0 for row in layers[1:])


def test_torchvision_figures_match_its_weights_metadata(swept):
    from torchvision.models import ResNet18_Weights

    r = swept[1][("resnet18", "IMAGENET1K_V1")]
    meta = ResNet18_Weights.IMAGENET1K_V1.meta
    assert r.params == meta["num_params"] and r.resolution == 224
    assert abs(r.macs / 1e9 - meta["_ops"]) / meta["_ops"] < 0.005  # torchvision's "GFLOPS" count multiply-adds
    entry = next(e for e in landscape(swept[2]) if e.row.tag == "IMAGENET1K_V1")
    assert entry.accuracy.top1 == meta["_metrics"]["ImageNet-1K"]["acc@1"] == 69.758
    assert entry.accuracy.source == "torchvision weights metadata, ResNet18_Weights.IMAGENET1K_V1"


def test_timm_cells_are_its_pretrained_tags_at_their_published_sizes():
    import timm

    jobs = jobs_for(["timm:resnet18"])
    cells = {(tag, j.input_size) for j in jobs for tag in j.tags}
    expected = set()
    for name in timm.list_pretrained("resnet18.*"):
        cfg = timm.models.get_pretrained_cfg(name)
        expected |= {(cfg.tag, tuple(s)) for s in (cfg.input_size, cfg.test_input_size) if s}
    assert cells == expected and ("a1_in1k", (3, 288, 288)) in cells
    assert len(jobs) == len({j.input_size for j in jobs})  # one network per size, however many tags


def test_input_sizes_are_added_with_no_tag_and_torchvision_globs_keep_float_classifiers():
    jobs = jobs_for(["lenet5", "torchvision:resnet18"], sizes=[(3, 64, 64)])
    assert [(j.model, j.input_size, j.tags) for j in jobs] == [
        ("lenet5", (1, 32, 32), ("",)), ("lenet5", (3, 64, 64), ("",)),
        ("torchvision:resnet18", (3, 224, 224), ("IMAGENET1K_V1",)), ("torchvision:resnet18", (3, 64, 64), ("",))]
    names = {j.model for j in jobs_for(["torchvision:*net*"])}
    assert "torchvision:resnet50" in names and not any("quantized" in n or "fcn" in n for n in names)


def test_timm_accuracy_joins_by_architecture_tag_and_resolution():
    from cnnprofile.landscape.accuracy import accuracy_of
    from cnnprofile.landscape.records import SweepRow

    def row(tag, size):
        return SweepRow(model="timm:resnet18", tag=tag, input_size=f"3x{size}x{size}", batch=1, status="profiled",
                        architecture="resnet18", origin="timm", resolution=size)

    # The published file's rows: resnet18.a1_in1k,288,73.164,...  and  resnet18.a1_in1k,224,71.504,...
    assert accuracy_of(row("a1_in1k", 288)).top1 == 73.164 and accuracy_of(row("a1_in1k", 224)).top1 == 71.504
    assert "resnet18.a1_in1k at 288 px" in accuracy_of(row("a1_in1k", 288)).source
    assert accuracy_of(row("a1_in1k", 256)) is None and accuracy_of(row("", 224)) is None


def test_a_sweep_of_bad_settings_is_one_line(tmp_path):
    for args, message in ((["--jobs", "0"], "--jobs must be at least 1"),
                          (["--timeout", "-1"], "--timeout must be a positive"),
                          (["--batch", "0"], "--batch must be at least 1")):
        done = CliRunner().invoke(cli, ["sweep", "lenet5", "--store", str(tmp_path / "s.db"), *args])
        assert done.exit_code == 2 and message in done.output and len(done.output.splitlines()) == 1, done.output
    done = CliRunner().invoke(cli, ["sweep", "torchvision:nosuch*", "--store", str(tmp_path / "s.db")])
    assert done.exit_code == 2 and "no model matches" in done.output
    assert not (tmp_path / "s.db").exists()


def test_two_sweeps_into_one_store_at_once(tmp_path):
    import sqlite3
    import threading

    path = str(tmp_path / "s.db")
    a = [f"{MODELS}:{n}" for n in ("small4", "small8")]
    b = [f"{MODELS}:{n}" for n in ("small8", "small16", "raises")]
    results = {}
    threads = [threading.Thread(target=lambda k, s: results.__setitem__(k, sweep(s, path, jobs=1)), args=(k, s))
               for k, s in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = read_rows(path)
    assert sorted(r.model.rsplit(":", 1)[1] for r in rows) == ["raises", "small16", "small4", "small8"]
    assert {r.model.rsplit(":", 1)[1]: r.status for r in rows}["raises"] == "failed"
    assert results["a"].jobs == 2 and results["b"].jobs == 3
