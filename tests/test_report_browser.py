"""The report as a person sees it: opened in headless Chromium, with no console message, every chart drawn.

Chromium must be on PATH (Debian: apt-get install -y chromium). Without it the test is skipped, except
under CI (the CI variable set), where a missing browser is a failure.
"""
import os
import re
import shutil
import subprocess

import pytest

from cnnprofile.bench.results import BenchResult, Latency
from cnnprofile.present.charts import CHARTS
from cnnprofile.present.report import collect, render_html, write_report

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]
# Appended to a copy of the report: records what the browser laid out, where --dump-dom can read it back.
PROBE = """<script>
for (const f of document.querySelectorAll("figure.chart")) {
  const svg = f.querySelector("svg"), r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const marks = svg ? svg.querySelectorAll("path, use, rect").length : 0;
  const words = svg ? [...svg.querySelectorAll("text")].filter(t => t.getBBox().width > 0).length : 0;
  f.setAttribute("data-probe", `${Math.round(r.width)}x${Math.round(r.height)}:${marks}:${words}`);
}
</script>"""

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not on PATH (apt-get install -y chromium); required when CI is set",
                allow_module_level=True)


def chromium(url, tmp_path, *extra):
    if CHROMIUM is None:
        pytest.fail("CI is set but chromium is not on PATH: install it with apt-get install -y chromium")
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("browser")
    results = [BenchResult(model=m, batch_size=b, status="ok", device="cpu", device_name="CPU", dtype="float32",
                           latency_ms=Latency(*(ms * b * k for ms in (5.0, 5.5, 6.0, 0.2, 5.1, 4.9)), 20),
                           throughput_ips=1e3 / (5.0 * k), peak_memory_bytes=b * 10 ** 8,
                           power_w=50.0 * k + 10 * b, energy_per_image_j=(50.0 * k + 10 * b) * 5.0 * k / 1e3)
               for k, m in ((1, "alexnet"), (3, "resnet18")) for b in (1, 2, 4)]
    (d / "bench.jsonl").write_text("".join(r.to_json() + "\n" for r in results))
    path = d / "report.html"
    # A named device adds the roofline chart, so every registered chart is drawn.
    data = collect(["alexnet", "resnet18"], [str(d / "bench.jsonl")], device="h100-sxm")
    write_report(render_html(data), str(path))
    return path


def test_detects_console_messages(tmp_path):
    # The check below is only worth something if a page with an error does fail it.
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom'); missing();</script>")
    _, console = chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert len(console) == 2 and "boom" in console[0]


def test_report_renders_without_console_messages(report, tmp_path):
    shot = tmp_path / "shot.png"
    dom, console = chromium(report.as_uri(), tmp_path, "--window-size=1280,2000", f"--screenshot={shot}")
    assert console == []
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[1] == 1280
    assert (pixels[..., :3].min(axis=2) < 0.9).mean() > 0.03  # text and charts, not a blank page


def test_every_chart_is_laid_out_and_drawn(report, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom, console = chromium(probed.as_uri(), tmp_path, "--window-size=1280,2000", "--dump-dom")
    assert console == []
    found = dict(re.findall(r'id="chart-([\w-]+)" data-probe="([^"]+)"', dom))
    assert set(found) == set(CHARTS)
    for name, probe in found.items():
        width, height, marks, words = map(int, re.match(r"(\d+)x(\d+):(\d+):(\d+)", probe).groups())
        assert width > 300 and height > 150 and marks > 10 and words > 5, (name, probe)


# Appended to a copy of the lecture report: where the browser drew Inception-v4's bubble and label, and the
# verdict table's rows as laid out (claim and verdict cells, with the verdict's colour).
LECTURE_PROBE = """<script>
const chart = document.querySelector("#chart-accuracy-vs-ops svg");
const bubble = document.getElementById("accuracy-vs-ops/model:inception_v4").getBBox();
const label = [...chart.querySelectorAll("text")].find(t => t.textContent.trim() === "inception_v4");
const box = label ? label.getBBox() : {width: 0, height: 0};
document.body.setAttribute("data-v4", `${Math.round(bubble.width)}x${Math.round(bubble.height)}:` +
                                      `${Math.round(box.width)}x${Math.round(box.height)}`);
for (const tr of document.querySelectorAll("#verdicts tbody tr")) {
  const cells = tr.querySelectorAll("td"), verdict = cells[4];
  tr.setAttribute("data-row", JSON.stringify([cells[2].textContent, verdict.textContent,
                                             getComputedStyle(verdict).color, tr.getBoundingClientRect().height]));
}
</script>"""


def test_lecture_report_in_the_browser(lecture_report, tmp_path):
    import html
    import json

    path, _, data = lecture_report
    probed = tmp_path / "lecture.html"
    probed.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE + LECTURE_PROBE + "</body>"),
                      encoding="utf-8")
    dom, console = chromium(probed.as_uri(), tmp_path, "--window-size=1280,2000", "--dump-dom")
    assert console == []
    charts = dict(re.findall(r'id="chart-([\w-]+)" data-probe="([^"]+)"', dom))
    # The synthetic results carry power: every kind is drawn, and the lecture's detection section adds its own.
    assert set(charts) == set(CHARTS) | {"detection"}
    assert all(int(re.match(r"(\d+)x", p).group(1)) > 300 for p in charts.values()), charts
    bubble_w, bubble_h, label_w, label_h = map(int, re.search(r'data-v4="(\d+)x(\d+):(\d+)x(\d+)"', dom).groups())
    assert bubble_w > 10 and bubble_h > 10 and label_w > 20 and label_h > 5  # Inception-v4 is drawn and named
    rows = [json.loads(html.unescape(r)) for r in re.findall(r'data-row="([^"]+)"', dom)]
    assert [(claim, verdict) for claim, verdict, _, _ in rows] == \
        [(v.claim, "holds" if v.holds else "does not hold") for v in data.verdicts]
    green, red = "rgb(26, 127, 55)", "rgb(180, 35, 24)"
    assert [colour for _, _, colour, _ in rows] == [green if v.holds else red for v in data.verdicts]
    assert all(height > 10 for _, _, _, height in rows)
