"""The dashboards in Chromium, at phone (360 × 740) and desktop (1280 × 900) sizes, against
scoring on a real port with half a year of a ward's ratings.

A ward (HC) with a one-stop desk below it (HC-MC) and an unrelated ward (TT); their
officials; 360 ratings over the six months before this one, at office hours and outside
them, some with comments and factors; a closed review window with five colleagues'
reviews of one official; survey's review response and notify's deadlines. The head of HC
reads the home page, HC's page and an official's page: each renders, each chart draws
marks (not an empty frame), the tables' figures equal the JSON API's for the same period
(a year and a month), the CSV and XLSX downloads hold exactly the tables' cells, English
with ?lang=en, no sideways scrolling at 360 px, the period chooser works without
JavaScript. The head of TT is refused HC's page and its CSV. Screenshots of each page at
both sizes (in CONGSO_SCREENSHOTS, else the test's temporary directory)."""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from devkit.apps import make_settings, start
from devkit.auth import pinned_settings, session_cookie
from services.scoring.app import create_app
from shared import dashboard_events, sessions
from shared import events as ev
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for
from tests.scoring.helpers import closed_window, deliver, official, review, unit
from tests.survey import conftest as survey_fixtures

chromium = survey_fixtures.browser  # Debian's Chromium, one per module (a fixture)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 900}

UNITS = {  # code: (name, parent, managers)
    "HC": ("UBND phường Hải Châu", None, ["HC00"]),
    "HC-MC": ("Bộ phận một cửa phường Hải Châu", "HC", []),
    "TT": ("UBND phường Thạch Thang", None, ["TT00"]),
}
PEOPLE = {  # code: (full name, unit)
    "HC00": ("Lê Văn Hùng", "HC"), "HC01": ("Nguyễn Thị Lan", "HC"),
    "HC02": ("Trần Văn Minh", "HC"), "HC03": ("Phạm Thị Thu", "HC"),
    "MC01": ("Võ Văn Tâm", "HC-MC"), "MC02": ("Đặng Thị Hồng Nhung", "HC-MC"),
    "TT00": ("Hoàng Văn Sơn", "TT"), "TT01": ("Bùi Thị Mai", "TT"),
}
# where ratings are given: (unit, official or None: a rating of the counter only)
SOURCES = (("HC", "HC01"), ("HC", "HC02"), ("HC", "HC03"), ("HC", None),
           ("HC-MC", "MC01"), ("HC-MC", "MC02"), ("TT", "TT01"), ("TT", None))
HOURS = (7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 6, 19)  # 6 and 19: outside office hours
PRAISE = ("Cán bộ hướng dẫn tận tình, hồ sơ được trả đúng hẹn.",
          "Thủ tục rõ ràng, nhân viên lịch sự.")
COMPLAINTS = ("Phải chờ gần một tiếng mới đến lượt, nên có thêm quầy vào buổi sáng.",
              "Máy lấy số hỏng, không ai hướng dẫn.\nĐề nghị sửa sớm.")


def months_back(now: datetime, n: int) -> list[tuple[int, int]]:
    """The `n` whole months before `now`'s month, oldest first."""
    year, month = now.year, now.month
    out = []
    for _ in range(n):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        out.append((year, month))
    return out[::-1]


NOW = datetime.now(TZ)
MONTHS = months_back(NOW, 6)
YEAR = str(MONTHS[-1][0])  # the year of last month: most of the ratings fall in it
MONTH = f"{MONTHS[-1][0]}-{MONTHS[-1][1]:02d}"


def ratings() -> list:
    """360 ratings: 60 a month, spread over the sources, weekdays and hours; about one in
    five low; factors on every third; a comment on every seventh and on some low ones."""
    out = []
    for year, month in MONTHS:
        for i in range(60):
            n = len(out)
            where, who = SOURCES[n % len(SOURCES)]
            overall = (5, 4, 5, 3, 4, 5, 1, 4, 2, 5, 4)[n % 11]
            local = datetime(year, month, 1 + i % 27, HOURS[n % len(HOURS)], n % 60,
                             tzinfo=TZ)
            factors = ({"access": max(1, overall - 1), "procedure": overall,
                        "official": 5 if who else None, "result": overall,
                        "feedback": 3} if n % 3 == 0 else {})
            out.append(ev.make_event(ev.RATING_SUBMITTED, {
                "id": f"r{n:04d}", "client_id": str(uuid.uuid4()), "counter": f"Q-{where}",
                "counter_label": f"Quầy {1 + n % 2}", "unit": where, "official": who,
                "overall": overall, "factors": {k: v for k, v in factors.items() if v},
                "comment": comment(n, overall),
                "submitted_at": local.astimezone(UTC)}, source="/test", id=f"rating-r{n:04d}"))
    return out


def comment(n: int, overall: int) -> str | None:
    """A complaint on some low ratings, praise or a complaint on every seventh."""
    if overall <= 2 and n % 3 == 0:
        return COMPLAINTS[n % 2]
    if n % 7 == 0:
        return (PRAISE if overall >= 4 else COMPLAINTS)[n % 2]
    return None


RATED = ratings()
SUBTREE = {"HC", "HC-MC"}


def others(now: datetime) -> list:
    """Survey's review response for HC and its desk, notify's deadlines of HC, and a
    closed review window with five colleagues' reviews of HC01."""
    at = now.astimezone(UTC)
    response = [ev.make_event(dashboard_events.REVIEW_RESPONSE, {
        "year": YEAR, "unit": code, "invited": invited, "finished": finished,
        "in_progress": 1, "not_started": invited - finished - 1, "at": at}, source="/test")
        for code, invited, finished in (("HC", 5, 3), ("HC-MC", 2, 1))]
    deadlines = [ev.make_event(dashboard_events.DEADLINE_STATUS, {
        "id": deadline_id, "title": title, "due_at": due, "units": units,
        "submitted": submitted, "deleted": False, "version": 1}, source="/test")
        for deadline_id, title, due, units, submitted in (
            ("q3", "Báo cáo tình hình cải cách hành chính", at - timedelta(days=60), ["HC"],
             ["HC"]),
            ("dec", "Báo cáo tự đánh giá cuối năm", at + timedelta(days=10), ["*"], []))]
    reviews = [review("HC01", reviewer=r * 20, period=YEAR, unit="HC",
                      scores={"discipline": 4 + n % 2, "conduct": 5, "ethics": 5,
                              "dress": 3 + n % 3, "participation": 4})
               for n, r in enumerate("abcde")]
    return [*response, *deadlines, closed_window(YEAR), *reviews]


@contextmanager
def database():
    """A database of the module's own: mongomock, or a real MongoDB when MONGODB_URL
    names one (as the suite's `mongo_url`, for a module-scoped app)."""
    from shared.db import forget_mock_store

    base = os.environ.get("MONGODB_URL", "mongomock://")
    name = f"congso_test_{uuid.uuid4().hex[:12]}"
    if base.startswith("mongomock://"):
        yield f"mongomock://localhost/{name}"
        forget_mock_store(f"mongomock://localhost/{name}")
        return
    import pymongo

    parts = urlsplit(base)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    with pymongo.MongoClient(base) as client:
        for db in client.list_database_names():
            if db.startswith(name):
                client.drop_database(db)


@pytest.fixture(scope="module")
def served():
    """Scoring on a real port with the wards' data, its materialised scores derived."""
    with database() as url:
        running = start(create_app, make_settings("scoring", url, **pinned_settings()),
                        MemoryBus())
        deliver(running, *(unit(code, parent=parent, name=name, managers=managers)
                           for code, (name, parent, managers) in UNITS.items()),
                *(official(code, where, name=name) for code, (name, where) in PEOPLE.items()))
        deliver(running, *RATED, *others(NOW))
        store = running.app.extensions["scoring"].store
        wait_for(lambda: store.dirty_count() == 0, timeout=30, message="the scores derived")
        server = make_server("127.0.0.1", 0, running.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        yield running, f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        running.stop()


# --- reading the page --------------------------------------------------------------------

TABLE_JS = """table => ({
  headings: [...table.querySelectorAll('thead th')].map(th => th.textContent.trim()),
  rows: [...table.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')]
    .map(td => ({text: td.textContent.trim(), href: td.querySelector('a')?.getAttribute('href')
                                                     || null})))})"""
# the drawn marks of a chart that carry a value (a legend's markers carry a name only): a
# bar, a cell, a point of a line with a box on screen and a value above zero, or a line
MARKS_JS = """svg => [...svg.querySelectorAll('rect, circle, polyline, path')].filter(m => {
  const box = m.getBoundingClientRect();
  if (m.tagName === 'polyline') return box.width > 0 || box.height > 0;
  const tip = m.querySelector('title')?.textContent || '';
  const value = tip.match(/:\\s*(\\d+(?:\\.\\d+)?)\\s*%?\\s*$/);  // a rate ends in %
  return box.width > 0 && box.height > 0 && value !== null && parseFloat(value[1]) > 0;
}).length"""
CARDS_JS = """() => Object.fromEntries([...document.querySelectorAll('#summary .stat')].map(
  card => [card.querySelector('.stat-label').textContent.trim(),
           card.querySelector('.figure').textContent.trim()]))"""


def shown(value) -> str:
    """A figure of the API as the page prints it (two decimals at most; "—": none)."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def half_up(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def table(page, key: str) -> dict:
    return page.locator(f'table[data-table="{key}"]').evaluate(TABLE_JS)


def texts(page, key: str) -> list[list[str]]:
    return [[cell["text"] for cell in row] for row in table(page, key)["rows"]]


def column(page, key: str, heading: str) -> list[str]:
    t = table(page, key)
    i = t["headings"].index(heading)
    return [row[i]["text"] for row in t["rows"]]


def signed_in(chromium, base: str, official: str, viewport=DESKTOP, **options):
    """A browser context with `official`'s session cookie, and its page."""
    context = chromium.new_context(viewport=viewport, **options)
    token, _ = session_cookie(official)
    context.add_cookies([{"name": sessions.COOKIE, "value": token, "url": base,
                          "httpOnly": True, "sameSite": "Lax"}])
    return context, context.new_page()


def api(page, base: str, path: str) -> dict:
    """The scores API's answer to the page's own session (the manager's view)."""
    r = page.request.get(f"{base}/api/v1/scores/{path}")
    assert r.status == 200, r.text()
    return r.json()


def open_page(page, url: str) -> None:
    r = page.goto(url)
    assert r.status == 200, (url, r.status)
    page.locator("h1").wait_for()


def charts_drawn(page) -> list[str]:
    """The keys of the page's charts, each checked to draw marks (not an empty frame) at
    phone and desktop size; and the page checked not to scroll sideways on the phone."""
    size = page.viewport_size
    keys = page.locator("figure.chart").evaluate_all(
        "figures => figures.map(f => f.dataset.chart)")
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        for key in keys:
            marks = page.locator(f'figure[data-chart="{key}"] svg').evaluate(MARKS_JS)
            assert marks > 0, f"chart {key} has no visible marks at {viewport['width']} px"
        if viewport is PHONE:
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"], f"{page.url} is {width} px wide on a phone"
    page.set_viewport_size(size)
    return keys


def shoot(page, name: str, folder: Path) -> None:
    """The page, whole, at phone and desktop size (the viewport put back as it was)."""
    size = page.viewport_size
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(folder / f"{name}-{viewport['width']}.png"), full_page=True)
    page.set_viewport_size(size)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CONGSO_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def outside_office_hours(units: set[str], months: set[str]) -> int:
    return sum(1 for e in RATED if e.data["unit"] in units
               and local_of(e).strftime("%Y-%m") in months and not 7 <= local_of(e).hour < 18)


def local_of(event, field: str = "submitted_at") -> datetime:
    return datetime.fromisoformat(str(event.data[field])).astimezone(TZ)


# --- the pages ---------------------------------------------------------------------------

def test_home_page_ranks_the_units_in_scope_as_the_api_scores_them(served, chromium, shots):
    _, base = served
    context, page = signed_in(chromium, base, "HC00")
    open_page(page, f"{base}/dashboard?period={YEAR}")
    assert charts_drawn(page) == ["units"]
    units = table(page, "units")
    codes = [row[0]["href"].rsplit("/", 1)[1] for row in units["rows"]]
    assert sorted(codes) == ["HC", "HC-MC"]  # the head's ward and the desk below it
    heading = units["headings"].index
    rates = []
    for code, row in zip(codes, units["rows"], strict=True):
        view = api(page, base, f"units/{code}?period={YEAR}")
        c = view["citizen"]
        cells = [cell["text"] for cell in row]
        assert cells[0] == UNITS[code][0]
        assert cells[heading("Lượt đánh giá"):heading("Chỉ số người dân") + 1] == [
            shown(c["count"]), shown(c["satisfaction_rate"]), shown(c["index"])], code
        conduct = [o["conduct_index"] for o in view["officials"]
                   if o["conduct_index"] is not None]
        assert cells[heading("Chỉ số văn hóa công sở (trung bình)")] == shown(
            half_up(sum(conduct) / len(conduct)) if conduct else None), code
        assert cells[heading("Công chức dưới 50")] == str(sum(v < 50 for v in conduct))
        # the year-end report, due in ten days and not in, names every unit
        assert cells[heading("Hạn báo cáo sắp tới, chưa nộp")] == "1", code
        rates.append(c["satisfaction_rate"])
    assert rates == sorted(rates, reverse=True)
    shoot(page, "dashboard-home", shots)
    page.get_by_role("link", name=UNITS["HC"][0]).click()
    page.get_by_role("heading", level=1, name=UNITS["HC"][0]).wait_for()
    context.close()


@pytest.mark.parametrize("period", [YEAR, MONTH])
def test_unit_page_figures_equal_the_api_s(served, chromium, shots, period):
    _, base = served
    context, page = signed_in(chromium, base, "HC00")
    open_page(page, f"{base}/dashboard/units/HC?period={period}")
    page.get_by_role("heading", level=1, name=UNITS["HC"][0]).wait_for()
    assert charts_drawn(page) == ["trend", "distribution", "factors", "grid", "officials",
                                  "bands", "children", "response"]
    view = api(page, base, f"units/HC?period={period}")
    c = view["citizen"]
    assert c["count"] > 0
    cards = page.evaluate(CARDS_JS)
    assert cards["Lượt đánh giá"] == shown(c["count"])
    assert cards["Tỷ lệ hài lòng"] == shown(c["satisfaction_rate"]) + "%"
    assert cards["Chỉ số người dân (0-100)"] == shown(c["index"])

    # the year's months, each the API's month
    trend = texts(page, "trend")
    assert [row[0] for row in trend] == [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    for month, *figures in trend:
        m = api(page, base, f"units/HC?period={month}")["citizen"]
        assert figures == [shown(m["count"]), shown(m["satisfaction_rate"]),
                           shown(m["index"])], month
    # the ratings by value add up to the count, their mean is the API's
    counts = [int(v) for v in column(page, "distribution", "Lượt đánh giá")]
    assert sum(counts) == c["count"]
    assert half_up(sum(v * n for v, n in enumerate(counts, 1)) / c["count"]) == c["mean"]
    # the five factors: this unit's are the API's; HC is the province's top, so neither a
    # parent nor a province is shown beside it
    factors = texts(page, "factors")
    assert [row[1] for row in factors] == [shown(c["factors"][k]) for k in ev.FACTORS]
    assert {len(row) for row in factors} == {2}  # the factor and this unit only
    # the grid holds every rating given in office hours
    grid = sum(int(v) for row in texts(page, "grid") for v in row[1:])
    months = {period} if len(period) == 7 else {f"{y}-{m:02d}" for y, m in MONTHS}
    assert grid == c["count"] - outside_office_hours(SUBTREE, months)
    # the officials as the API ranks them
    officials = table(page, "officials")
    assert [row[1]["href"] for row in officials["rows"]] == [
        f"/dashboard/officials/{o['official']}" for o in view["officials"]]
    assert [[cell["text"] for cell in row][2:7] for row in officials["rows"]] == [
        [shown(o["citizen"]["count"]), shown(o["citizen"]["index"]),
         shown(o["peer"]["count"]), shown(o["peer"]["index"]), shown(o["conduct_index"])]
        for o in view["officials"]]
    assert [int(v) for v in column(page, "bands", "Số công chức")] == [
        view["bands"]["counts"][k]
        for k in ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh", "none")]
    assert cards["Công chức dưới 50 điểm"] == str(sum(
        1 for o in view["officials"] if o["conduct_index"] is not None
        and o["conduct_index"] < 50))
    # the desk below, as its own score
    desk = api(page, base, f"units/HC-MC?period={period}")["citizen"]
    assert texts(page, "children") == [[UNITS["HC-MC"][0], shown(desk["count"]),
                                        shown(desk["satisfaction_rate"]), shown(desk["index"])]]
    # the year's peer-review response as survey told it
    assert texts(page, "response") == [
        [UNITS["HC"][0], "5", "3", "1", "1", "60"],
        [UNITS["HC-MC"][0], "2", "1", "1", "0", "50"]]
    # the deadlines due in the period
    deadlines = page.locator("#deadlines tbody tr").all_inner_texts()
    due_in = [e.data["title"] for e in others(NOW) if e.type == dashboard_events.DEADLINE_STATUS
              and local_of(e, "due_at").strftime("%Y-%m").startswith(period)]
    assert [re.split(r"\t", d)[0] for d in deadlines] == due_in

    # the comments of the period, newest first; the low ones alone on request
    comments = page.locator("#comments li")
    assert comments.count() > 0
    page.locator("#comments").get_by_role("link", name=re.compile("đánh giá thấp")).click()
    page.wait_for_url(re.compile(r"low=1"))
    low = page.locator("#comments li .rating").all_inner_texts()
    assert low and all(re.search(r": [12] ·", text) for text in low), low
    page.go_back()
    page.locator("h1").wait_for()

    shoot(page, f"dashboard-unit-{'year' if period == YEAR else 'month'}", shots)
    context.close()


def test_official_page_figures_equal_the_api_s(served, chromium, shots):
    _, base = served
    context, page = signed_in(chromium, base, "HC00")
    open_page(page, f"{base}/dashboard/officials/HC01?period={YEAR}")
    page.get_by_role("heading", level=1, name=PEOPLE["HC01"][0]).wait_for()
    assert charts_drawn(page) == ["trend", "distribution", "factors", "peer"]
    view = api(page, base, f"officials/HC01?period={YEAR}")
    c = view["citizen"]
    cards = page.evaluate(CARDS_JS)
    assert cards["Chỉ số văn hóa công sở (0-100)"] == shown(view["conduct_index"])
    assert cards["Lượt đánh giá"] == shown(c["count"])
    assert cards["Chỉ số người dân (0-100)"] == shown(c["index"])
    for month, *figures in texts(page, "trend"):
        m = api(page, base, f"officials/HC01?period={month}")["citizen"]
        assert figures == [shown(m["count"]), shown(m["satisfaction_rate"]),
                           shown(m["index"])], month
    assert sum(int(v) for v in column(page, "distribution", "Lượt đánh giá")) == c["count"]
    assert [row[1] for row in texts(page, "factors")] == [shown(c["factors"][k])
                                                          for k in ev.FACTORS]
    # the colleagues' review, published (the window closed, five reviewers)
    assert view["peer"]["count"] == 5
    assert [row[1] for row in texts(page, "peer")] == [shown(view["peer"]["criteria"][k])
                                                       for k in ev.CRITERIA]
    shoot(page, "dashboard-official", shots)
    context.close()


# --- downloads ---------------------------------------------------------------------------

def canonical(value):
    """A cell as a value: a number (page "75", CSV "75.0", XLSX 75.0), text, or None
    (page "—", an empty CSV or XLSX cell)."""
    if value is None or value in ("", "—"):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return value.strip()


def file_rows(page, url: str, fmt: str) -> list[list]:
    r = page.request.get(url)
    assert r.status == 200, (url, r.status)
    if fmt == "csv":
        body = r.body()
        assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, for Excel"
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(r.body()), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def downloads_match(page, base: str) -> int:
    """Each chart's CSV and XLSX hold its table's cells (plus the code behind a linked
    name, which the page shows as the link); the number of files checked."""
    checked = 0
    for key in page.locator("table[data-table]").evaluate_all(
            "tables => tables.map(t => t.dataset.table)"):
        shown_table = table(page, key)
        links = page.locator(f"#chart-{key} p.downloads a")
        hrefs = {links.nth(i).inner_text().split()[0].lower(): links.nth(i).get_attribute("href")
                 for i in range(links.count())}
        assert set(hrefs) == {"csv", "excel"}, hrefs
        for fmt, href in (("csv", hrefs["csv"]), ("xlsx", hrefs["excel"])):
            assert f"/{key}.{fmt}" in href, href
            heading, *rows = file_rows(page, base + href, fmt)
            extra = [h for h in heading if h not in shown_table["headings"]]
            assert extra in ([], ["Mã"]), (key, fmt, extra)
            where = [heading.index(h) for h in shown_table["headings"]]
            assert [[canonical(row[i]) for i in where] for row in rows] == [
                [canonical(cell["text"]) for cell in row] for row in shown_table["rows"]], \
                (key, fmt)
            checked += 1
    return checked


def test_downloads_hold_exactly_the_numbers_of_each_table(served, chromium):
    _, base = served
    context, page = signed_in(chromium, base, "HC00")
    checked = 0
    for path in (f"/dashboard?period={YEAR}", f"/dashboard/units/HC?period={MONTH}",
                 f"/dashboard/officials/HC01?period={YEAR}"):
        open_page(page, base + path)
        checked += downloads_match(page, base)
    assert checked == 2 * (1 + 8 + 4)
    context.close()


# --- who sees what, English, the period chooser without JavaScript ----------------------

def test_a_manager_of_another_unit_is_refused(served, chromium):
    _, base = served
    context, page = signed_in(chromium, base, "TT00")
    for path in ("/dashboard/units/HC", "/dashboard/units/HC-MC",
                 "/dashboard/officials/HC01"):
        assert page.goto(f"{base}{path}?period={YEAR}").status == 403, path
    for path in ("/dashboard/units/HC/trend.csv", "/dashboard/units/HC/officials.xlsx",
                 "/dashboard/officials/HC01/peer.csv"):
        assert page.request.get(f"{base}{path}?period={YEAR}").status == 403, path
    # their own home page lists their ward only
    open_page(page, f"{base}/dashboard?period={YEAR}")
    assert [row[0] for row in texts(page, "units")] == [UNITS["TT"][0]]
    context.close()


def test_english_headings(served, chromium):
    _, base = served
    context, page = signed_in(chromium, base, "HC00")
    open_page(page, f"{base}/dashboard/units/HC?period={YEAR}&lang=en")
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    for expected in ("Month by month", "How satisfied citizens were",
                     "The five SIPAS factors", "Ratings by weekday and hour",
                     "Officials, ranked by conduct index", "Units below"):
        assert expected in headings, headings
    assert table(page, "trend")["headings"][:2] == ["Month", "Ratings"]
    assert "Ratings" in page.evaluate(CARDS_JS)
    context.close()


def test_the_period_chooser_works_without_javascript(served, chromium):
    _, base = served
    context, page = signed_in(chromium, base, "HC00", viewport=PHONE,
                              java_script_enabled=False)
    open_page(page, f"{base}/dashboard/units/HC")
    assert page.locator("#period").input_value() == str(NOW.year)  # this year by default
    page.select_option("#period", MONTH)
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url(re.compile(rf"period={MONTH}"))
    count = api(page, base, f"units/HC?period={MONTH}")["citizen"]["count"]
    assert page.evaluate(CARDS_JS)["Lượt đánh giá"] == str(count)
    assert page.locator("#period").input_value() == MONTH
    context.close()
