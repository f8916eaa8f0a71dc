"""The one table layer: exact text and markdown layout, CSV and JSON from raw records, notes and titles."""
import csv
import io
import json

import pytest

from cnnprofile.present.tabular import Table, pct, render_grid, render_table, right_aligned

TABLE = Table(headers=("Model", "Batch", "ms"), rows=(("alexnet", 1, "0.92"), ("resnet50", 64, "48.2")),
              align=("left", "right", "right"), title="Two models", notes=("ms = median", "batch = images"),
              records=({"model": "alexnet", "batch": 1, "ms": 0.92, "shape": [1, 3]},
                       {"model": "resnet50", "batch": 64, "ms": 48.2, "shape": [64, 3]}),
              flat_records=({"model": "alexnet", "batch": 1, "ms": 0.92, "shape": "1x3"},
                            {"model": "resnet50", "batch": 64, "ms": 48.2, "shape": "64x3"}),
              meta={"device": "cpu"}, records_key="results")


def test_text_layout_is_exact():
    assert render_table(TABLE, "text") == (
        "Two models\n"
        "\n"
        "Model     Batch    ms\n"
        "--------  -----  ----\n"
        "alexnet       1  0.92\n"
        "resnet50     64  48.2\n"
        "\n"
        "- ms = median\n"
        "- batch = images\n")


def test_markdown_layout_is_exact():
    assert render_table(TABLE, "markdown") == (
        "### Two models\n"
        "\n"
        "| Model    | Batch |   ms |\n"
        "|----------|------:|-----:|\n"
        "| alexnet  |     1 | 0.92 |\n"
        "| resnet50 |    64 | 48.2 |\n"
        "\n"
        "- ms = median\n"
        "- batch = images\n")


def test_a_bare_grid_has_no_title_notes_or_trailing_blanks():
    bare = Table(headers=("A", "Long header", ""), rows=(("x", "1", ""),), align=right_aligned(3, 1, 2))
    assert render_grid(bare) == "A  Long header\n-  -----------\nx            1"
    assert render_table(bare) == render_grid(bare) + "\n"


def test_csv_uses_the_flat_records_and_json_the_nested_ones_in_their_envelope():
    rows = list(csv.DictReader(io.StringIO(render_table(TABLE, "csv"))))
    assert rows == [{"model": "alexnet", "batch": "1", "ms": "0.92", "shape": "1x3"},
                    {"model": "resnet50", "batch": "64", "ms": "48.2", "shape": "64x3"}]
    doc = json.loads(render_table(TABLE, "json"))
    assert doc["device"] == "cpu" and doc["results"][1]["shape"] == [64, 3] and doc["results"][0]["ms"] == 0.92


def test_csv_columns_select_and_order_and_records_default_to_the_cells():
    picked = Table(headers=TABLE.headers, rows=TABLE.rows, records=TABLE.records, columns=("ms", "model"))
    assert render_table(picked, "csv").splitlines() == ["ms,model", "0.92,alexnet", "48.2,resnet50"]
    plain = Table(headers=("A", "B"), rows=(("x", 1),))
    assert json.loads(render_table(plain, "json")) == [{"A": "x", "B": 1}]


def test_bad_tables_and_formats_are_refused():
    with pytest.raises(ValueError, match="one cell per header"):
        Table(headers=("A", "B"), rows=(("only one",),))
    with pytest.raises(ValueError, match="unknown table format"):
        render_table(TABLE, "xml")


def test_alignment_and_percentages():
    assert right_aligned(4, 1, 3) == ("left", "right", "right", "left")
    assert right_aligned(3, 1) == ("left", "right", "right")
    assert TABLE.alignment(7) == "left"  # a column without an alignment is left-aligned
    assert (pct(None), pct(76.125), pct(0)) == ("-", "76.12", "0.00")
