"""Server-drawn charts: every value is a mark with its number, gaps stay gaps, nothing is
scripted or styled inline (the pages' Content-Security-Policy forbids both)."""

import re
import xml.etree.ElementTree as ET

from shared.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_a_line_chart_has_a_mark_per_value_a_gap_for_none_and_its_target():
    svg = parse(charts.line_chart(
        ["T1", "T2", "T3", "T4"],
        [charts.Series("Đơn vị", [70.0, None, 85.5, 90.0]),
         charts.Series("Tỉnh", [80.0, 81.0, 82.0, 83.0])],
        title="Tỷ lệ hài lòng", summary="Bốn tháng", target=80, target_label="80%"))
    assert svg.find(f"{SVG}title").text == "Tỷ lệ hài lòng"
    tips = [t.text for t in svg.iter(f"{SVG}title")][1:]
    assert "Đơn vị, T3: 85.5" in tips and "Tỉnh, T2: 81" in tips
    assert not any("T2" in t and "Đơn vị" in t for t in tips)  # None: no mark
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 2  # the unit's gap splits its line: T3-T4 only, and the province's
    assert any(e.get("stroke-dasharray") for e in svg.iter(f"{SVG}line"))


def test_bars_rankings_and_grids_carry_their_numbers():
    bars = str(charts.bar_chart(["1", "2", "3", "4", "5"], [3, 0, 12, 40, 45],
                                title="Phân bố", summary="Năm mức"))
    assert "5: 45" in bars and ">40<" in bars
    ranking = parse(charts.ranking_chart([("Phường A", 91.2), ("Phường B", 72.0),
                                          ("Phường C", None)], title="Xếp hạng",
                                         summary="Ba phường", target=80, target_label="80%"))
    rects = ranking.findall(f"{SVG}rect")
    assert len(rects) == 2  # C has no figure, no bar
    assert rects[0].get("fill") != rects[1].get("fill")  # above and below the target
    grid = parse(charts.grid_chart(["T2", "T3"], ["7", "8"], [[0, 4], [9, 1]],
                                   title="Giờ", summary="Lưới"))
    cells = grid.findall(f"{SVG}rect")
    assert len(cells) == 4 and cells[2].get("fill") != cells[0].get("fill")


def test_no_script_no_style_and_labels_escaped():
    for svg in (charts.line_chart(["<b>"], [charts.Series("<x>", [1.0])], title="<t>",
                                  summary="s"),
                charts.bar_chart(["<b>"], [1], title="t", summary="s"),
                charts.ranking_chart([("<b>", 1.0)], title="t", summary="s"),
                charts.grid_chart(["<r>"], ["<c>"], [[1]], title="t", summary="s")):
        text = str(svg)
        assert "<script" not in text and "<style" not in text and "style=" not in text
        assert "<b>" not in text and "<x>" not in text and "<r>" not in text
        parse(svg)  # well-formed
        assert re.search(r'role="img" aria-labelledby="c\w+-t c\w+-d"', text)
