"""The HTML report and the report/chart commands, as a user runs them (small model sets keep this fast)."""
import errno
import json
import os
import re

import pytest
from click.testing import CliRunner

from cnnprofile.bench.results import BenchResult, Latency
from cnnprofile.cli import cli
from cnnprofile.present.report import collect, default_models, render_html
from once_per_run import once_per_run

EVIL = "<script>alert(1)</script>"
USER_MODEL = f'''
import torch
from torch import nn
input_size = (3, 32, 32)
def build():
    net = nn.Sequential()
    net.add_module({EVIL!r}, nn.Conv2d(3, 8, 3))
    net.add_module("pool", nn.AdaptiveAvgPool2d(1))
    net.add_module("flat", nn.Flatten())
    net.add_module("fc", nn.Linear(8, 10))
    return net
'''


def _result(model, batch, status, median=None, **kw):
    lat = Latency(median, median * 1.1, median * 1.2, 0.1, median, median * 0.9, 20) if median else None
    env = {"torch": "2.x", "cpu_threads": 2, "platform": "Linux-test", "date": "2026-01-01"}
    return BenchResult(model=model, batch_size=batch, status=status, device="cpu", device_name="Test CPU",
                       dtype="float32", latency_ms=lat, throughput_ips=batch / median * 1e3 if median else None,
                       peak_memory_bytes=10_000_000 * batch if median else None, env=env, **kw)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    (d / "evil.py").write_text(USER_MODEL)
    results = [_result("alexnet", 1, "ok", 5.0, power_w=60.0, energy_per_image_j=0.3),
               _result("alexnet", 4, "ok", 15.0, power_w=80.0, energy_per_image_j=0.3),
               _result("resnet18", 1, "ok", 12.0), _result("resnet18", 4, "oom"),
               _result("resnet18", 2, "invalid", 0.001), _result("alexnet", 8, "error", error="RuntimeError: x")]
    (d / "bench.jsonl").write_text("".join(r.to_json() + "\n" for r in results))
    return d


@pytest.fixture(scope="module")
def html(workdir, tmp_path_factory):
    def build():
        data = collect(["alexnet", "resnet18", f"{workdir / 'evil.py'}:build"], [str(workdir / "bench.jsonl")],
                       device="h100-sxm")
        return render_html(data)
    return once_per_run(tmp_path_factory, "report-html", build)


def test_default_models_are_the_zoo_without_lenet():
    names = default_models()
    assert "lenet5" not in names and {"alexnet", "vgg16", "resnet50", "xception", "se_resnet50"} <= set(names)


def test_summary_has_analyzer_figures_and_published_accuracy(html):
    summary = html[html.index('id="summary"'):html.index("</table>", html.index('id="summary"'))]
    assert "alexnet" in summary and "56.52" in summary and "AlexNet_Weights.IMAGENET1K_V1" in summary
    assert "724M" in summary  # the analyzer's MACs for AlexNet at 227x227
    assert "evil.py:build" in summary and "no published ImageNet figure" in summary
    assert "Latency, batch 1 (ms)" in summary and '<td class="num">5</td>' in summary


def test_every_chart_is_inlined(html):
    from cnnprofile.present.charts import CHARTS

    for name in CHARTS:  # the results carry power, so the power charts are drawn too
        start = html.index(f'id="chart-{name}"')
        figure = html[start:html.index("</figure>", start)]
        assert "<svg" in figure and "<path" in figure, name
    assert "<?xml" not in html and "DOCTYPE svg" not in html


def test_names_are_escaped_everywhere(html):
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_self_contained(html):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and not re.search(r"url\((?!#)", html)  # only references within the file


def test_invalid_cells_are_listed_not_presented(html):
    bench = html[html.index('id="bench"'):html.index("</table>", html.index('id="bench"'))]
    assert "invalid" not in bench and "oom" in bench and "RuntimeError: x" in bench
    assert "Left out as invalid" in html and "resnet18 at batch 2" in html


def test_conventions_environment_and_layer_tables(html):
    assert "multiply-accumulates" in html and "Test CPU" in html and "Linux-test" in html
    assert html.count('<details class="layers">') == 3
    assert "CONV11-96" in html and "FC-1000" in html  # lecture labels, as `cnnprofile table` prints them


def test_report_command_writes_the_default_path(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    res = CliRunner().invoke(cli, ["report", "alexnet"])
    assert res.exit_code == 0, res.output
    assert (workdir / "cnnprofile-report.html").read_text().startswith("<!DOCTYPE html>")
    assert res.output.startswith("wrote cnnprofile-report.html (1 models)")


def test_shell_expanded_bench_glob_is_taken_back(workdir):
    out = workdir / "mine.html"
    res = CliRunner().invoke(cli, ["report", "alexnet", "--bench", str(workdir / "bench.jsonl"),
                                   str(workdir / "bench.jsonl"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "12 benchmark results" in res.output  # the same file twice: both taken as results, not models


def _one_line_error(res, pattern):
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and re.search(pattern, lines[0]), res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("args, pattern", [
    (["report", "alexnett"], "unknown model 'alexnett'"),
    (["report", "alexnet", "--bench", "nope/*.jsonl"], "no benchmark result file matches"),
    (["report", "alexnet", "--bench", "missing.jsonl"], "cannot read benchmark results"),
    (["report", "alexnet", "--bench", "{bad}"], r"bad\.jsonl:1: not a benchmark result"),
    (["report", "alexnet", "-o", "{file}/x.html"], "cannot write"),
    (["report", "alexnet", "-o", "out.txt"], r"must end in \.html"),
    (["chart", "pie", "alexnet", "-o", "a.svg"], "unknown chart kind 'pie'"),
    (["chart", "accuracy-vs-ops", "alexnet", "-o", "a.pdf"], r"must end in \.svg or \.png"),
    (["chart", "latency-vs-batch", "alexnet", "-o", "a.svg"], "needs benchmark results"),
    (["chart", "power-vs-batch", "alexnet", "--bench", "{plain}", "-o", "a.svg"], "carries a power"),
])
def test_errors_are_one_line_and_exit_2(workdir, monkeypatch, args, pattern):
    monkeypatch.chdir(workdir)
    (workdir / "bad.jsonl").write_text(json.dumps({"schema": 1, "model": "x"}) + "\n")
    (workdir / "afile").write_text("")
    (workdir / "plain.jsonl").write_text(_result("alexnet", 1, "ok", 5.0).to_json() + "\n")
    args = [a.format(bad=workdir / "bad.jsonl", file=workdir / "afile", plain=workdir / "plain.jsonl") for a in args]
    _one_line_error(CliRunner().invoke(cli, args), pattern)


def test_a_run_that_fails_before_writing_leaves_the_previous_report_intact(workdir):
    out = workdir / "keep.html"
    out.write_text("previous report")
    res = CliRunner().invoke(cli, ["report", "alexnet", "nosuchmodel", "-o", str(out)])
    assert res.exit_code == 2 and out.read_text() == "previous report"
    assert not [p for p in workdir.iterdir() if p.name.startswith(".tmp-")]


class _FailingFile:
    """A real file that takes the first half of what is written, then fails as a full disk would."""

    def __init__(self, f, seen, directory):
        self._f, self._seen, self._dir = f, seen, directory

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        temporary = [p for p in self._dir.iterdir() if p.name.startswith(".tmp-")]
        self._seen.append((temporary, len(data) // 2, os.fstat(self._f.fileno()).st_size))
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("failure", [OSError, KeyboardInterrupt])
def test_a_write_interrupted_midway_leaves_the_previous_report_byte_identical(workdir, monkeypatch, failure):
    import cnnprofile.files

    out = workdir / "interrupted.html"
    previous = b"<!DOCTYPE html>previous report \xe2\x9c\x93\n" * 100
    out.write_bytes(previous)
    seen = []
    real_fdopen = os.fdopen

    def failing_fdopen(fd, *a, **kw):
        f = _FailingFile(real_fdopen(fd, *a, **kw), seen, workdir)
        if failure is KeyboardInterrupt:  # an interrupt instead of an error, after the same partial write
            def interrupted(data, f=f, write=f.write):
                try:
                    write(data)
                except OSError:
                    raise KeyboardInterrupt from None
            f.write = interrupted
        return f

    monkeypatch.setattr(cnnprofile.files.os, "fdopen", failing_fdopen)
    if failure is OSError:
        res = CliRunner().invoke(cli, ["report", "alexnet", "-o", str(out)])
        _one_line_error(res, "cannot write .*No space left on device")
    else:
        from cnnprofile.present.report import write_report

        with pytest.raises(KeyboardInterrupt):
            write_report("<!DOCTYPE html>" + "new report " * 1000, str(out))
    (temporary, written, size_then), = seen
    assert written > 0 and size_then == written  # the new bytes really reached a file before the failure
    assert len(temporary) == 1  # exactly one temporary file, beside the report, held the partial bytes
    assert not temporary[0].exists()  # the half-written file beside the report is gone
    assert out.read_bytes() == previous
    assert not [p for p in workdir.iterdir() if p.name.startswith(".tmp-")]


def test_a_failed_rename_leaves_the_previous_report_intact(workdir, monkeypatch):
    import cnnprofile.files
    from cnnprofile.errors import InputError
    from cnnprofile.present.report import write_report

    out = workdir / "renamed.html"
    out.write_bytes(b"previous")
    monkeypatch.setattr(cnnprofile.files.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(errno.EXDEV, "x")))
    with pytest.raises(InputError, match="cannot write"):
        write_report("<!DOCTYPE html>new", str(out))
    assert out.read_bytes() == b"previous"
    assert not [p for p in workdir.iterdir() if p.name.startswith(".tmp-")]


def _colours_by_model(html: str) -> dict:
    """{chart: {model: colours}} read back from the inlined SVGs: each model's marks are groups whose id is
    "<chart>/model:<name>[:oom|:predicted|:measured]"; a group's colour is its first fill (markers, bars), else its
    first stroke (a line without markers). Black outlines are strokes, so they never count."""
    out: dict = {}
    for m in re.finditer(r'<g id="([a-z-]+)/model:([^"]+?)(?::oom|:predicted|:measured)?">', html):
        group = html[m.end():html.find('<g id="', m.end())]
        colour = re.search(r"fill: (#[0-9a-f]{6})", group) or re.search(r"stroke: (#[0-9a-f]{6})", group)
        out.setdefault(m.group(1), {}).setdefault(m.group(2), set()).add(colour.group(1))
    return out


def test_one_colour_per_model_across_every_chart_of_the_report(html):
    found = _colours_by_model(html)
    from cnnprofile.present.charts import CHARTS

    assert set(found) == set(CHARTS)  # every chart tags its models' marks
    colours: dict = {}
    for chart, models in found.items():
        for model, cs in models.items():
            assert len(cs) == 1, (chart, model, cs)
            colours.setdefault(model, set()).update(cs)
    assert set(colours) == {"alexnet", "resnet18", "evil.py:build"}
    assert all(len(cs) == 1 for cs in colours.values()), colours  # AlexNet is one colour in every chart
    assert len({next(iter(cs)) for cs in colours.values()}) == len(colours)  # and no two models share one
    # the bubble chart and the latency chart, the pair that used to disagree, both drew alexnet
    assert "alexnet" in found["accuracy-vs-ops"] and "alexnet" in found["latency-vs-batch"]


def test_a_report_without_power_readings_has_no_power_chart(workdir):
    plain = workdir / "plain.jsonl"
    plain.write_text(_result("alexnet", 1, "ok", 5.0).to_json() + "\n")
    text = render_html(collect(["alexnet"], [str(plain)]))
    assert 'id="chart-latency-vs-batch"' in text
    assert 'id="chart-power-vs-batch"' not in text and 'id="chart-images-per-joule-vs-batch"' not in text


def test_chart_command_writes_svg_and_png(workdir):
    for ext in ("svg", "png"):
        out = workdir / f"ops.{ext}"
        res = CliRunner().invoke(cli, ["chart", "accuracy-vs-ops", "alexnet", "resnet18", "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 1000
    assert "resnet18" in (workdir / "ops.svg").read_text()
    for kind in ("memory-vs-batch", "power-vs-batch"):
        res = CliRunner().invoke(cli, ["chart", kind, "alexnet", "resnet18",
                                       "--bench", str(workdir / "bench.jsonl"), "-o", str(workdir / f"{kind}.svg")])
        assert res.exit_code == 0, res.output
    assert "Average board power (W)" in (workdir / "power-vs-batch.svg").read_text()


def test_a_named_model_list_does_not_claim_to_be_the_zoo(html):
    assert "Left out of the default zoo report" not in html and "CNN profile report" in html


def test_summary_shows_the_last_feature_maps_receptive_field(html):
    row = re.search(r"<tr>\s*<td[^>]*>alexnet</td>.*?</tr>", html, re.S).group(0)
    assert re.search(r">195</td>", row)


def test_bench_table_puts_the_roofline_bound_next_to_each_measurement(html):
    table = html[html.index("Roofline bound (ms)"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    timed = [c for c in cells if c and c[4] == "ok"]
    assert timed
    for c in timed:  # Median, p90, bound, median / bound
        median, bound, ratio = float(c[5]), float(c[7]), float(c[8])
        assert 0 < bound <= median and ratio == pytest.approx(median / bound, rel=0.01)


def test_report_without_a_device_has_no_roofline_chart(workdir):
    text = render_html(collect(["alexnet"]))
    assert 'id="chart-roofline"' not in text and 'id="chart-accuracy-vs-ops"' in text
