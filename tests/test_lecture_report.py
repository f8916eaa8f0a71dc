"""``cnnprofile report --lecture``: Canziani's figure set for the lecture's models and the lecture's verdicts,
checked. The verdict table is compared with ``check_verdicts`` over profiles and accuracy records computed here."""
import html as htmllib
import re
from dataclasses import replace

import pytest
from click.testing import CliRunner

import cnnprofile
from cnnprofile.sources.accuracy import zoo_accuracy
from cnnprofile.present.charts import CHARTS
from cnnprofile.cli import cli
from cnnprofile.present.report import render_html
from cnnprofile.lecture.verdicts import QUOTES, Verdict, check_verdicts, lecture_models

from test_report import EVIL, _colours_by_model, _one_line_error


@pytest.fixture(scope="module")
def page(lecture_report):
    return lecture_report[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def expected():
    """The verdicts over profiles and accuracy computed here, not by the report."""
    acc = zoo_accuracy()
    return check_verdicts([(cnnprofile.profile(n), acc.get(n)) for n in lecture_models()])


def verdict_rows(page):
    """[[(text, class, hover) per cell] per row] of the verdict table, unescaped."""
    table = page[page.index('<table id="verdicts">'):page.index("</table>", page.index('<table id="verdicts">'))]
    body = table[table.index("<tbody>"):]
    return [[(htmllib.unescape(text), cls, htmllib.unescape(hover or ""))
             for cls, hover, text in re.findall(r'<td(?: class="([^"]*)")?(?: title="([^"]*)")?>(.*?)</td>', row,
                                                re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_command_writes_the_default_path_and_says_how_many_claims_hold(lecture_report, expected):
    path, output, _ = lecture_report
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    held = sum(v.holds for v in expected)
    assert output.strip() == (f"wrote lecture-comparison.html (12 models, 8 benchmark results, "
                              f"{held} of {len(expected)} verdict claims hold)")


def test_verdict_rows_are_check_verdicts(page, expected):
    rows = verdict_rows(page)
    assert len(rows) == len(expected) > 0
    for row, v in zip(rows, expected):
        family, quote, claim, numbers, holds = row
        assert claim[0] == v.claim
        assert holds[:2] == (("holds", "holds") if v.holds else ("does not hold", "fails"))
        assert family[0] in ("", v.family) and (quote[0] == "" or QUOTES[v.family][0] in quote[0])
        # the hover holds every number at full precision: exactly the values the claim was decided on
        exact = [re.fullmatch(r"(\S+) (\S+) = (\S+)", line).groups() for line in numbers[2].splitlines()]
        assert [(m, q, float(x)) for m, q, x in exact] == [(m, q, float(x)) for m, q, x in v.numbers]
        assert all(f"{m}\u00a0" in numbers[0] for m, _, _ in v.numbers)
    # each family's words head its first claim; a claim that does not hold is shown, with its numbers
    assert [r[0][0] for r in rows if r[0][0]] == list(dict.fromkeys(v.family for v in expected))
    failing = [r for r, v in zip(rows, expected) if not v.holds]
    assert failing and all(r[3][0] and r[4][1] == "fails" for r in failing)


def test_verdict_numbers_are_the_figures_the_charts_draw(lecture_report):
    data = lecture_report[2]
    points = {p.name: p for p in data.chart_data.points}
    assert list(points) == list(lecture_models())
    checked = 0
    for v in data.verdicts:
        for model, quantity, value in v.numbers:
            if quantity in ("params", "macs", "activation_bytes", "top1"):
                assert value == getattr(points[model], quantity), (v.claim, model, quantity)
                checked += 1
    assert checked > 50


def test_every_chart_is_drawn_and_inception_v4_is_on_the_bubble_chart(page):
    for name in CHARTS:  # the results carry power readings, so every kind is drawn
        assert f'id="chart-{name}"' in page, name
    start = page.index('id="chart-accuracy-vs-ops"')
    bubble = page[start:page.index("</figure>", start)]
    assert 'id="accuracy-vs-ops/model:inception_v4"' in bubble and ">inception_v4<" in bubble
    assert all(f'id="accuracy-vs-ops/model:{m}"' in bubble for m in lecture_models())


def test_one_colour_per_model_across_every_chart(page):
    colours: dict = {}
    for chart, models in _colours_by_model(page).items():
        for model, cs in models.items():
            colours.setdefault(model, set()).update(cs)
    assert set(colours) == set(lecture_models())
    assert all(len(cs) == 1 for cs in colours.values()), colours
    assert len({next(iter(cs)) for cs in colours.values()}) == len(colours)


def test_the_verdict_table_is_escaped(lecture_report):
    data = lecture_report[2]
    evil = Verdict(family="VGG", quote="", claim=EVIL, numbers=((EVIL, "params", 1),), holds=False)
    from cnnprofile.lecture.report import verdict_grid

    text = render_html(replace(data, verdicts=(evil,), verdict_grid=verdict_grid((evil,))))
    assert EVIL not in text and text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    assert "«Mucha memoria, baja eficiencia, media precisión»" in text


@pytest.mark.parametrize("args, pattern", [
    (["report", "--lecture", "alexnet"], "--lecture compares the lecture's own models"),
    (["report", "--lecture", "-o", "{file}/x.html"], "cannot write"),
    (["report", "--lecture", "-o", "out.txt"], r"must end in \.html"),
    (["report", "--lecture", "--bench", "nope/*.jsonl"], "no benchmark result file matches"),
])
def test_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, args, pattern):
    from cnnprofile.present import report

    def no_profiling(source, *args):  # each error is found before any model is profiled
        raise AssertionError(f"profiled {source.name} before refusing the command")

    monkeypatch.setattr(report, "_analyze", no_profiling)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    _one_line_error(CliRunner().invoke(cli, [a.format(file=tmp_path / "afile") for a in args]), pattern)
    assert not (tmp_path / "reports").exists()


def test_the_readme_lists_every_claim_and_whether_it_holds(expected):
    import os

    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    section = readme[readme.index("## The lecture's comparison, and its verdicts checked"):]
    section = section[:section.index("\n## ")]
    rows = re.findall(r"^\|[^|]*\|[^|]*\| ([^|]+) \| ([^|]+) \|$", section, re.M)[1:]  # past the header
    assert [(claim, verdict.strip("* ")) for claim, verdict in rows] == \
        [(v.claim, "holds" if v.holds else "does not hold") for v in expected]


def _detection_rows(page):
    table = page[page.index('<table id="detection">'):page.index("</table>", page.index('<table id="detection">'))]
    return [[htmllib.unescape(t) for t in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)]


def test_the_detection_section_sets_sliding_windows_against_one_pass_and_yolo(page):
    rows = {(r[0], r[1]): r[2:] for r in _detection_rows(page)}
    # (448 - 224) / 32 + 1 = 8 windows per axis; each is one VGG-16 pass, 15.47G MACs (torchvision's _ops).
    assert rows[("sliding windows (VGG-16)", "448x448")] == ["64", "1", "990G", "15.5G"]
    assert rows[("fully convolutional VGG-16", "448x448")][:2] == ["64", "1"]
    # YOLOv2 at 416: 13x13 cells of 5 boxes; darknet prints 34.90 billion operations, 2 per multiply-add.
    assert rows[("YOLOv2 (VOC)", "416x416")][:3] == ["169", "5", "17.4G"]
    assert rows[("YOLOv1", "448x448")][:3] == ["49", "2", "20.3G"]
    chart = page[page.index('id="chart-detection"'):]
    chart = chart[:chart.index("</figure>")]
    for approach in ("sliding_windows_(VGG-16)", "fully_convolutional_VGG-16", "YOLOv2_(VOC)", "YOLOv1"):
        assert f'id="detection/approach:{approach}' in chart, approach
