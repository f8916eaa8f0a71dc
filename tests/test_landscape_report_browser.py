"""The landscape page as a person sees it, in headless Chromium with no network: Plotly is inlined and draws,
one point per row with a published accuracy, the frontier is drawn, and the family menu changes what is shown.

Chromium must be on PATH (Debian: apt-get install -y chromium); without it the test is skipped, except under CI.
"""
import json
import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cnnprofile.cli import cli
from landscape_fixture import CELLS, make_store

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,2400", "--virtual-time-budget=15000"]
# Counts what Plotly drew in each chart, then opens the family menu and clicks its third entry (the second
# family, in sorted order) and counts again.
PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const count = gd => [...gd.querySelectorAll(".scatterlayer .trace")].map(t =>
    [...t.querySelectorAll("path.point")].filter(p => getComputedStyle(t).opacity !== "0" &&
                                                     t.style.display !== "none").length);
  const out = {plotly: typeof Plotly, external: document.querySelectorAll("script[src], link[href]").length,
               charts: {}};
  for (const gd of document.querySelectorAll(".plotly-graph-div")) {
    out.charts[gd.id] = {roles: gd.data.map(t => t.meta.role), names: gd.data.map(t => t.name), before: count(gd),
                         frontier: (gd.querySelector(".scatterlayer .trace:nth-of-type(" +
                                    (gd.data.findIndex(t => t.meta.role === "frontier") + 1) +
                                    ") path.js-line") || {getAttribute: () => ""}).getAttribute("d")};
  }
  const gd = document.getElementById("chart-gmacs");
  gd.querySelector(".updatemenu-header").dispatchEvent(new MouseEvent("click", {bubbles: true}));
  setTimeout(() => {
    const buttons = gd.querySelectorAll(".updatemenu-dropdown-button");
    buttons[2].dispatchEvent(new MouseEvent("click", {bubbles: true}));
    setTimeout(() => {
      out.after = gd.data.map(t => t.visible);
      out.afterCount = count(gd);
      document.body.setAttribute("data-probe", JSON.stringify(out));
    }, 500);
  }, 500);
}, 500));
</script>"""

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not on PATH (apt-get install -y chromium); required when CI is set",
                allow_module_level=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("landscape")
    store = make_store(str(d / "fixed.db"))
    out = d / "page.html"
    done = CliRunner().invoke(cli, ["report", "--landscape", "--store", store, "-o", str(out)])
    assert done.exit_code == 0 and "8 of 10 rows placed" in done.output, done.output
    return out


def test_the_page_renders_offline_with_every_point_and_the_frontier(page, tmp_path):
    if CHROMIUM is None:
        pytest.fail("CI is set but chromium is not on PATH: install it with apt-get install -y chromium")
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                           probed.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []
    import html

    probe = json.loads(html.unescape(re.search(r'data-probe="([^"]+)"', done.stdout).group(1)))
    assert probe["plotly"] == "object" and probe["external"] == 0  # inlined: nothing fetched
    families = sorted({c[6] for c in CELLS})
    assert set(probe["charts"]) == {"chart-gmacs", "chart-params", "chart-activations", "chart-peak"}
    for chart in probe["charts"].values():
        roles = chart["roles"]
        assert roles[:len(families)] == ["family"] * len(families) and chart["names"][:len(families)] == families
        drawn = sum(n for n, r in zip(chart["before"], roles) if r == "family")
        assert drawn == len(CELLS)  # every row with an accuracy (the unknown one and the failed one are not)
        assert "frontier" in roles and len(chart["frontier"]) > 10
    # The GMACs frontier of the fixture: MobileNetV3, EfficientNet-B0, ResNet-50 at 224 and 288.
    gmacs = probe["charts"]["chart-gmacs"]
    assert gmacs["before"][gmacs["roles"].index("frontier")] == 4
    assert gmacs["before"][gmacs["roles"].index("lecture")] == 6  # ResNet-18s and -50s ringed
    # After choosing the second family (mobilenetv3) only its one point is left of the family traces.
    # Plotly draws only visible traces: the counts are of those, in order.
    visible = [n for n, v in zip(gmacs["names"], probe["after"]) if v is not False]
    assert visible[0] == "mobilenetv3" and "efficientnet" not in visible and "resnet" not in visible
    assert dict(zip(visible, probe["afterCount"]))["mobilenetv3"] == 1
