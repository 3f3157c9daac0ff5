"""The dashboards as a browser without JavaScript gets them: who may open which page, the
period chooser and its errors, the figures of the page against the scores API, and each
chart's CSV and XLSX holding exactly the rows of its table. (In Chromium, with
screenshots: tests/e2e/test_dashboards_browser.py.)"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from devkit.auth import signed_in
from shared import dashboard_events
from shared import events as ev
from tests.scoring.helpers import deliver, rating

UNIT_CHARTS = ("trend", "distribution", "factors", "grid", "officials", "bands", "response")
FACTORS = {"access": 4, "procedure": 3, "official": 5, "result": 4, "feedback": 2}


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index("<main"):text.index("</main>")]


def table_of(content: str, key: str) -> list[list[str]]:
    """The text of each cell of the page's table of chart `key`."""
    body = content.split(f'data-table="{key}"', 1)[1].split("</table>", 1)[0]
    body = body.split("<tbody>", 1)[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def shown(value) -> str:
    """A number as the page prints it."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


@pytest.fixture
def rated(office):
    """U1's officials rated over three months of this year, with comments, a response
    count and a deadline; U2 rated once (the office's rating)."""
    year = datetime.now(UTC).year
    events = []
    for month, (overalls, comment) in enumerate((((5, 4, 2), "Rất tận tình"),
                                                 ((5, 5, 3), None),
                                                 ((1, 4, 5), "Chờ lâu quá")), start=1):
        for i, overall in enumerate(overalls):
            when = datetime(year, month, 5 + i, 2 + i, 30, tzinfo=UTC)  # 09:30.. local
            e = rating("CB1" if i % 2 == 0 else "CB2", overall=overall, when=when,
                       factors=FACTORS)
            if comment and i == 0:
                e = ev.make_event(ev.RATING_SUBMITTED, {**e.data, "comment": comment},
                                  source="/test", id=e.id)
            events.append(e)
    events.append(ev.make_event(dashboard_events.REVIEW_RESPONSE, {
        "year": str(year), "unit": "U1", "invited": 3, "finished": 1, "in_progress": 1,
        "not_started": 1, "at": datetime.now(UTC)}, source="/test"))
    events.append(ev.make_event(dashboard_events.DEADLINE_STATUS, {
        "id": "bc-q", "title": "Báo cáo quý", "due_at": datetime(year, 2, 20, tzinfo=UTC),
        "units": ["U1"], "submitted": [], "deleted": False, "version": 1}, source="/test"))
    deliver(office, *events)
    office.year = str(year)
    return office


def get(running, official: str, path: str):
    client = running.app.test_client()
    signed_in(client, official)
    return client.get(path)


def test_pages_need_a_session_and_the_scope(rated):
    assert rated.client.get("/dashboard").status_code == 303
    assert rated.client.get("/dashboard/units/U1").headers["Location"].startswith("/login")
    for who, code in (("M2", "U1"), ("CB1", "U1"), ("M1", "P"), ("M1", "U2")):
        assert get(rated, who, f"/dashboard/units/{code}").status_code == 403, (who, code)
        assert get(rated, who, f"/dashboard/units/{code}/trend.csv").status_code == 403
    for who in ("M1", "MP", "ADM"):  # the unit's manager, the one above, an administrator
        assert get(rated, who, "/dashboard/units/U1").status_code == 200, who
    # an official reads their own page, not a colleague's; their manager reads both
    assert get(rated, "CB1", "/dashboard/officials/CB1").status_code == 200
    assert get(rated, "CB1", "/dashboard/officials/CB2").status_code == 403
    assert get(rated, "M1", "/dashboard/officials/CB2").status_code == 200
    assert get(rated, "M2", "/dashboard/officials/CB2").status_code == 403
    # in scope, unknown: 404 (out of scope it is a 403 like any other)
    assert get(rated, "ADM", "/dashboard/units/NOPE").status_code == 404
    assert get(rated, "M1", "/dashboard/units/NOPE").status_code == 403


@pytest.mark.parametrize("period", ["2026-13", "26", "2026-Q5", "x" * 300])
def test_a_bad_period_is_a_clear_400(rated, period):
    for path in ("/dashboard", "/dashboard/units/U1", "/dashboard/officials/CB1",
                 "/dashboard/units/U1/trend.csv"):
        r = get(rated, "M1", f"{path}?period={period}")
        assert r.status_code == 400 and "2026-Q1" in r.get_data(as_text=True), path


def test_unknown_chart_or_format_is_not_found(rated):
    assert get(rated, "M1", "/dashboard/units/U1/nope.csv").status_code == 404
    assert get(rated, "M1", "/dashboard/units/U1/trend.pdf").status_code == 404
    assert get(rated, "CB1", "/dashboard/officials/CB1/grid.csv").status_code == 404


def test_the_home_page_lists_the_scope_ranked(rated):
    admin = table_of(main_of(get(rated, "ADM", f"/dashboard?period={rated.year}")), "units")
    assert {row[0] for row in admin} >= {"Đơn vị U1", "Đơn vị U2", "Đơn vị P"}
    manager = table_of(main_of(get(rated, "M1", f"/dashboard?period={rated.year}")), "units")
    assert [row[0] for row in manager] == ["Đơn vị U1"]
    plain = main_of(get(rated, "CB1", "/dashboard"))
    assert 'data-table="units"' not in plain and "/dashboard/officials/CB1" in plain


def test_the_unit_page_equals_the_api(rated):
    year = rated.year
    api = rated.client.get(f"/api/v1/scores/units/U1?period={year}",
                           headers={"Authorization": "Bearer cso_M1"}).get_json()
    content = main_of(get(rated, "M1", f"/dashboard/units/U1?period={year}"))
    assert f">{api['citizen']['count']}<" in content.split('id="summary"')[1][:600]
    trend = table_of(content, "trend")
    assert [row[0] for row in trend] == [f"{year}-{m:02d}" for m in range(1, 13)]
    for row in trend[:3]:
        month = rated.client.get(f"/api/v1/scores/units/U1?period={row[0]}",
                                 headers={"Authorization": "Bearer cso_M1"}).get_json()
        c = month["citizen"]
        assert row[1:] == [str(c["count"]), shown(c["satisfaction_rate"]), shown(c["index"])]
    # the office's own rating (a 5 in May) and the nine above
    assert [row[1] for row in table_of(content, "distribution")] == ["1", "1", "1", "2", "5"]
    grid = table_of(content, "grid")
    assert sum(int(v) for row in grid for v in row[1:]) == api["citizen"]["count"]
    officials = table_of(content, "officials")
    assert [(row[1], row[6]) for row in officials] == [
        (o["full_name"], shown(o["conduct_index"])) for o in api["officials"]]
    factors = {row[0]: row[1] for row in table_of(content, "factors")}
    assert factors["Tiếp cận dịch vụ"] == shown(api["citizen"]["factors"]["access"])
    assert table_of(content, "response")[0][1:] == ["3", "1", "1", "1", "33.33"]
    assert "Báo cáo quý" in content and "Chưa nộp" in content
    assert "Chờ lâu quá" in content and "Rất tận tình" in content


def test_comments_filter_and_period(rated):
    every = main_of(get(rated, "M1", f"/dashboard/units/U1?period={rated.year}"))
    assert every.index("Chờ lâu quá") < every.index("Rất tận tình")  # newest first
    low = main_of(get(rated, "M1", f"/dashboard/units/U1?period={rated.year}&low=1"))
    assert "Chờ lâu quá" in low and "Rất tận tình" not in low  # a 1 kept, a 5 left out
    january = main_of(get(rated, "M1", f"/dashboard/units/U1?period={rated.year}-01"))
    assert "Rất tận tình" in january and "Chờ lâu quá" not in january


def test_each_download_holds_the_rows_of_its_table(rated):
    path = f"/dashboard/units/U1?period={rated.year}"
    content = main_of(get(rated, "M1", path))
    for chart in UNIT_CHARTS:
        page_rows = table_of(content, chart)
        r = get(rated, "M1", f"/dashboard/units/U1/{chart}.csv?period={rated.year}")
        assert r.status_code == 200 and r.mimetype == "text/csv", chart
        assert r.headers["Content-Disposition"].startswith("attachment")
        text = r.get_data().decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        header, body = rows[0], rows[1:]
        assert len(body) == len(page_rows), chart
        # the page hides a linked row's code; every number it shows is in the file's row
        for got, want in zip(body, page_rows, strict=True):
            for cell in want:
                assert cell in ("—", *got) or any(
                    c and cell == shown(float(c)) for c in got if _number(c)), (chart, cell)
        x = get(rated, "M1", f"/dashboard/units/U1/{chart}.xlsx?period={rated.year}")
        sheet = load_workbook(io.BytesIO(x.get_data())).active
        values = [["" if v is None else str(v) for v in row]
                  for row in sheet.iter_rows(values_only=True)]
        assert values[0] == header and len(values) == len(rows), chart


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_english_and_the_period_chooser(rated):
    content = main_of(get(rated, "M1", f"/dashboard/units/U1?period={rated.year}-Q1&lang=en"))
    assert "Month by month" in content and "Satisfaction rate (%)" in content
    assert f'<option value="{rated.year}-Q1" selected>' in content
    assert 'form method="get"' in content


def test_the_official_page_hides_peer_results_until_published(rated):
    content = main_of(get(rated, "CB1", f"/dashboard/officials/CB1?period={rated.year}"))
    assert 'data-table="peer"' not in content and 'id="chart-peer"' in content
    api = rated.client.get(f"/api/v1/scores/officials/CB1?period={rated.year}",
                           headers={"Authorization": "Bearer cso_CB1"}).get_json()
    trend = table_of(content, "trend")
    assert sum(int(row[1]) for row in trend) == api["citizen"]["count"]
    assert "Rất tận tình" in content and "Chờ lâu quá" in content  # both about CB1


def test_a_download_is_audited(rated):
    from tests.scoring.test_audit import published

    assert get(rated, "M1", f"/dashboard/units/U1/grid.xlsx?period={rated.year}"
               ).status_code == 200
    [record] = published(rated, "dashboard_exported")
    assert record["actor"].startswith("M1") and record["target"] == "units/U1"
    assert record["details"] == {"chart": "grid", "period": rated.year, "format": "xlsx"}
