"""CSV escaping and the SVG chart functions (pure: no app needed)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from core.reporting.csvout import escape_cell, write_csv
from core.reporting.svg import bar_chart, stacked_columns

SVG = "{http://www.w3.org/2000/svg}"


def test_formula_cells_are_neutralised_and_numbers_kept() -> None:
    assert [escape_cell(v) for v in ("=1+1", "+39 02", "-x", "@SUM(A1)", "\tTab", "\rCR")] == [
        "'=1+1",
        "'+39 02",
        "'-x",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
    ]
    assert [escape_cell(v) for v in (-3, 2.5, None, "plain", "a=b")] == [
        -3,
        2.5,
        "",
        "plain",
        "a=b",
    ]


def test_write_csv_quotes_and_escapes() -> None:
    text = write_csv(("Name", "=Total"), [('Coop "Sole", Milano', 3), ("-1", -1)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["Name", "'=Total"], ['Coop "Sole", Milano', "3"], ["'-1", "-1"]]
    assert text.endswith("\r\n")


def test_bar_chart_is_accessible_svg_with_escaped_labels() -> None:
    svg = bar_chart("c1", "Seats <taken>", "Area A: 3", ["Area A", "B & C"], [3, 6], unit="%")
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Seats <taken>"
    assert root.find(f"{SVG}desc").text == "Area A: 3"
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[1] == 2 * widths[0]  # proportional bars
    assert "B &amp; C" in str(svg) and "style=" not in str(svg)
    assert ET.fromstring(str(bar_chart("c2", "Empty", "None", [], [])))


def test_stacked_columns_stack_series_per_group() -> None:
    svg = stacked_columns(
        "c3", "Bookings", "d", ["2026-01", "2026-02"], [("A", [1, 2]), ("B", [3, 0])]
    )
    root = ET.fromstring(str(svg))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "2026-01 · A: 1",
        "2026-01 · B: 3",
        "2026-02 · A: 2",
    ]
    heights = [float(b.get("height")) for b in bars]
    assert round(heights[0] + heights[1], 1) == round(2 * heights[2], 1)  # 4 = 2 × 2
