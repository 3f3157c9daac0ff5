"""What the dashboards read, kept as it arrives (each rating's local hour, citizens'
comments, survey's review response, notify's deadlines), and the pages' gatherers: every
figure equals the JSON API's for the same period, or what was posted, counted apart."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from devkit.apps import ADMIN
from services.scoring import dashboards, rebuild
from services.scoring.documents import DeadlineCopy, RatingComment
from shared import dashboard_events
from shared import events as ev
from shared.events import CRITERIA, FACTORS
from shared.periods import months_of, parse_period
from tests.conftest import wait_for
from tests.scoring.helpers import (
    CRITERIA5,
    closed_window,
    deliver,
    official,
    open_window,
    review,
    unit,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = months_of(parse_period("2026"))


@dataclass(frozen=True)
class Rated:
    """One rating as posted: where, by whom, when (local wall time), and what."""

    rid: str
    unit: str
    official: str | None
    overall: int
    local: datetime  # naive, Asia/Ho_Chi_Minh
    factors: dict
    comment: str | None = None

    @property
    def at(self) -> datetime:
        return self.local.replace(tzinfo=TZ).astimezone(UTC)

    def event(self, comment: str | None = ...):
        return ev.make_event(ev.RATING_SUBMITTED, {
            "id": self.rid, "client_id": str(uuid.uuid4()), "counter": f"Q{self.unit}",
            "counter_label": f"Quầy {self.unit}", "unit": self.unit,
            "official": self.official, "overall": self.overall, "factors": self.factors,
            "comment": self.comment if comment is ... else comment,
            "submitted_at": self.at}, source="/test", id=f"rating-{self.rid}")


def response(unit_code: str, at: datetime, *, year="2026", invited=10, finished=4,
             in_progress=3, not_started=3):
    return ev.make_event(dashboard_events.REVIEW_RESPONSE, {
        "year": year, "unit": unit_code, "invited": invited, "finished": finished,
        "in_progress": in_progress, "not_started": not_started, "at": at}, source="/test")


def deadline(deadline_id: str, version: int, *, due: datetime, units=("U1",), submitted=(),
             deleted=False, title=None):
    return ev.make_event(dashboard_events.DEADLINE_STATUS, {
        "id": deadline_id, "title": title or f"Hạn {deadline_id}", "due_at": due,
        "units": list(units), "submitted": list(submitted), "deleted": deleted,
        "version": version}, source="/test")


def store_of(running):
    return running.app.extensions["scoring"].store


def api(running, path: str) -> dict:
    r = running.client.get(path, headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def citizen_row(citizen: dict) -> list:
    return [citizen["count"], citizen["satisfaction_rate"], citizen["index"]]


# --- handlers --------------------------------------------------------------------------

def test_a_rating_is_counted_on_its_local_day_with_its_local_hour(scoring):
    """17:30 UTC on 30 April is 00:30 on 1 May in Hà Nội: the unit's day bucket, the
    official's month bucket and the hour are all local."""
    late = Rated("late", "U1", "CB1", 4, datetime(2026, 5, 1, 0, 30), {"access": 4})
    noon = Rated("noon", "U1", "CB1", 5, datetime(2026, 5, 10, 12, 5), {})
    assert late.at == datetime(2026, 4, 30, 17, 30, tzinfo=UTC)
    deliver(scoring, unit("U1"), official("CB1"), late.event(), noon.event())
    store = store_of(scoring)
    units = store.citizen_rows("u", ["U1"], ["2026-04", "2026-05"])["U1"]
    # an event of before ratings were held: counted, its state at version 0
    assert units == {"2026-05-01": [[4, 4, None, None, None, None, 0, "counted", 0]],
                     "2026-05-10": [[5, None, None, None, None, None, 12, "counted", 0]]}
    officials = store.citizen_rows("o", ["CB1"], ["2026-04", "2026-05"])["CB1"]
    assert sorted(officials) == ["2026-05"]
    assert sorted(r[6] for r in officials["2026-05"]) == [0, 12]
    assert api(scoring, "/api/v1/scores/units/U1?period=2026-04")["citizen"]["count"] == 0


def test_a_comment_is_kept_once_and_a_blank_one_not_at_all(scoring):
    said = Rated("r1", "U1", "CB1", 2, datetime(2026, 5, 11, 0, 30), {},
                 comment="  Chờ lâu quá  ")
    deliver(scoring, unit("U1"), official("CB1"), said.event(), said.event())
    # the same rating again, even with another text (a replay of an edited record), and
    # ratings with a blank comment or none
    deliver(scoring, said.event(comment="Khác"),
            Rated("r2", "U1", "CB1", 5, datetime(2026, 5, 11, 9), {}, "   ").event(),
            Rated("r3", "U1", None, 5, datetime(2026, 5, 11, 9), {}, "").event(),
            Rated("r4", "U1", None, 5, datetime(2026, 5, 11, 9), {}).event())
    stored = list(RatingComment._get_collection().find({}))
    assert len(stored) == 1
    assert {k: v for k, v in stored[0].items() if k != "at"} == {
        "_id": "r1", "unit": "U1", "counter": "QU1", "counter_label": "Quầy U1",
        "official": "CB1", "overall": 2, "local": "2026-05-11 00:30", "text": "Chờ lâu quá",
        "status": "counted", "status_version": 0}
    assert stored[0]["at"] == datetime(2026, 5, 10, 17, 30, tzinfo=UTC)
    assert api(scoring, "/api/v1/scores/units/U1?period=2026")["citizen"]["count"] == 4


def test_review_response_keeps_the_newest_told(scoring):
    t = datetime(2026, 11, 1, 3, tzinfo=UTC)
    deliver(scoring, response("U1", t, finished=4, in_progress=3, not_started=3))
    deliver(scoring, response("U1", t - timedelta(hours=1), finished=0, in_progress=0,
                              not_started=10))  # older, arriving late: ignored
    deliver(scoring, response("U1", t, finished=9, in_progress=0, not_started=1))  # same
    store = store_of(scoring)

    def counts():
        d = store.responses("2026", ["U1"])["U1"]
        return [d[k] for k in ("invited", "finished", "in_progress", "not_started")]

    assert counts() == [10, 4, 3, 3]
    deliver(scoring, response("U1", t + timedelta(seconds=1), finished=5, in_progress=3,
                              not_started=2))
    assert counts() == [10, 5, 3, 2]
    deliver(scoring, response("U1", t, year="2025", finished=10, in_progress=0,
                              not_started=0))  # another year: kept apart
    assert counts() == [10, 5, 3, 2]
    assert store.responses("2025", ["U1"])["U1"]["finished"] == 10
    assert store.responses("2026", ["U2"]) == {}


def test_a_deadline_keeps_its_newest_version_and_a_deleted_one_stays_deleted(scoring):
    due = datetime(2026, 6, 30, 10, tzinfo=UTC)
    store = store_of(scoring)
    deliver(scoring, deadline("d1", 2, due=due, title="Quý II", submitted=["U1"]),
            deadline("d1", 1, due=due, title="Quý II (cũ)"))
    assert [(d["title"], d["submitted"], d["version"]) for d in store.deadlines_of(["U1"])
            ] == [("Quý II", ["U1"], 2)]
    deliver(scoring, deadline("d1", 3, due=due, title="Quý II", deleted=True),
            deadline("d1", 2, due=due, title="Quý II"))  # older, arriving late
    assert store.deadlines_of(["U1"]) == []
    stored = DeadlineCopy._get_collection().find_one({"_id": "d1"})
    assert stored["deleted"] is True and stored["version"] == 3


# --- a province of units and a half year of ratings ------------------------------------

# SNV (the province's department) above P, above U1 and U2; C1 is U1's child unit.
TREE = {"SNV": None, "P": "SNV", "U1": "P", "U2": "P", "C1": "U1"}
PEOPLE = {"A": "U1", "B": "U1", "C": "C1", "D": "P", "E": "U2"}
SOURCES = (("U1", "A"), ("U1", "B"), ("U1", None), ("C1", "C"), ("U2", "E"), ("P", "D"))
HOURS = (6, 7, 9, 12, 16, 17, 19, 23)  # 6, 19, 23: outside office hours


def half_year() -> list[Rated]:
    """144 ratings, January to June, on several weekdays and hours, every fourth with a
    comment, every third with factors; and two just either side of 1 April."""
    out = []
    n = 0
    for month in range(1, 7):
        for day in (1, 9, 17, 28):
            for where, who in SOURCES:
                n += 1
                overall = (n * 3) % 5 + 1
                factors = ({"access": overall, "procedure": 5, "result": (n % 5) + 1}
                           if n % 3 == 0 else {})
                out.append(Rated(f"r{n:03d}", where, who, overall,
                                 datetime(2026, month, day, HOURS[n % len(HOURS)], n % 60),
                                 factors, f"Ý kiến số {n}" if n % 4 == 0 else None))
    out.append(Rated("edge-q1", "U1", "A", 1, datetime(2026, 3, 31, 23, 30), {},
                     "Cuối quý I"))
    out.append(Rated("edge-q2", "U1", "A", 2, datetime(2026, 4, 1, 0, 30), {},
                     "Đầu quý II"))
    return out


RATINGS = half_year()


def in_period(r: Rated, period: str) -> bool:
    return r.local.strftime("%Y-%m") in months_of(parse_period(period))


def of_subtree(code: str) -> set[str]:
    below = {code}
    while True:
        more = {c for c, p in TREE.items() if p in below} - below
        if not more:
            return below
        below |= more


@pytest.fixture
def province(scoring):
    deliver(scoring, *(unit(c, parent=p, name=f"Đơn vị {c}") for c, p in TREE.items()),
            *(official(c, u) for c, u in PEOPLE.items()))
    deliver(scoring, *(r.event() for r in RATINGS))
    return scoring


def settled(running, units, periods):
    """Wait for the refresher: the materialised unit scores and their officials' equal the
    API's (a unit never rated has none)."""
    store = store_of(running)

    def caught_up():
        stored = store.materialised("u", units, periods)
        for u in units:
            for p in periods:
                score = api(running, f"/api/v1/scores/units/{u}?period={p}")
                citizen = score["citizen"]
                if (stored.get((u, p)) or {}).get("citizen") != citizen and citizen["count"]:
                    return False
                # and its officials' scores, whose conduct indexes the home page reads
                people = store.materialised("o", [o["official"] for o in score["officials"]],
                                            [p])
                if any((people.get((o["official"], p)) or {}).get("conduct_index")
                       != o["conduct_index"] for o in score["officials"]
                       if o["conduct_index"] is not None):
                    return False
        return True

    wait_for(caught_up, timeout=20, message="the refresher's unit scores")


@pytest.mark.parametrize("period", ["2026-Q2", "2026-03", "2026"])
def test_unit_page_figures_equal_the_api_s(province, period):
    settled(province, ["P", "SNV"], [period])
    page = dashboards.unit_page(store_of(province), "U1", period, TZ)
    charts = page["charts"]
    view = api(province, f"/api/v1/scores/units/U1?period={period}")
    citizen = view["citizen"]
    assert page["view"]["citizen"] == citizen

    # each month of the trend is the API's month
    assert [r[0] for r in charts["trend"].rows] == YEAR
    for month, *figures_ in charts["trend"].rows:
        assert figures_ == citizen_row(
            api(province, f"/api/v1/scores/units/U1?period={month}")["citizen"]), month

    # the distribution: the ratings of the subtree in the period, by value
    posted = [r for r in RATINGS if r.unit in of_subtree("U1") and in_period(r, period)]
    assert citizen["count"] == len(posted) > 0
    expected = Counter(r.overall for r in posted)
    assert [r[:2] for r in charts["distribution"].rows] == [[v, expected[v]]
                                                            for v in range(1, 6)]
    mean = sum(v * c for v, c, _ in charts["distribution"].rows) / citizen["count"]
    assert round(mean, 2) == citizen["mean"]

    # the grid: each rating in its local weekday and hour, the others noted
    grid = charts["grid"]
    cells = Counter((r.local.weekday(), r.local.hour) for r in posted)
    for weekday, *counts in grid.rows:
        assert counts == [cells[(weekday, h)] for h in range(7, 18)], weekday
    outside = sum(1 for r in posted if not 7 <= r.local.hour < 18)
    assert grid.notes == {"outside_hours": outside, "no_hour": 0}
    assert sum(sum(row[1:]) for row in grid.rows) == citizen["count"] - outside

    # the officials as the API ranks them
    assert charts["officials"].rows == [
        [i, o["official"], o["full_name"], o["citizen"]["count"], o["citizen"]["index"],
         o["peer"]["count"], o["peer"]["index"], o["conduct_index"], o["band"]]
        for i, o in enumerate(view["officials"], start=1)]
    assert sorted(r[1] for r in charts["officials"].rows) == ["A", "B"]  # U1's own only

    # the child unit as its own score
    child = api(province, f"/api/v1/scores/units/C1?period={period}")["citizen"]
    assert charts["children"].rows == [["C1", "Đơn vị C1", *citizen_row(child)]]

    # factors: this unit, its parent, the province
    parent = api(province, f"/api/v1/scores/units/P?period={period}")["citizen"]
    top = api(province, f"/api/v1/scores/units/SNV?period={period}")["citizen"]
    assert charts["factors"].rows == [
        [k, citizen["factors"][k], parent["factors"][k], top["factors"][k]] for k in FACTORS]
    assert any(row[1] is not None for row in charts["factors"].rows)
    assert page["parent"] == "P" and page["root"] == "SNV"


def expected_comments(period: str, *, units=None, official=None, low_only=False):
    chosen = [r for r in RATINGS if r.comment and in_period(r, period)
              and (r.official == official if official else r.unit in units)
              and (not low_only or r.overall <= 2)]
    chosen.sort(key=lambda r: (-r.at.timestamp(), r.rid))
    return [r.rid for r in chosen][:20]


@pytest.mark.parametrize("period", ["2026-Q2", "2026-Q1", "2026-04", "2026"])
def test_unit_page_comments_newest_first_of_the_subtree_in_the_period(province, period):
    store = store_of(province)
    for low_only in (False, True):
        page = dashboards.unit_page(store, "U1", period, TZ, low_only=low_only)
        got = [c["_id"] for c in page["comments"]]
        assert got == expected_comments(period, units=of_subtree("U1"), low_only=low_only)
        assert got, "some comments in every period tried"
        assert all(c["overall"] <= 2 for c in page["comments"]) or not low_only
    q2 = [c["_id"] for c in dashboards.unit_page(store, "U1", "2026-Q2", TZ)["comments"]]
    q1 = [c["_id"] for c in dashboards.unit_page(store, "U1", "2026-Q1", TZ)["comments"]]
    # bounded by local time: 23:30 on 31 March is the first quarter's, 00:30 on 1 April
    # (17:30 UTC on 31 March) the second's
    assert "edge-q2" in q2 and "edge-q2" not in q1
    assert "edge-q1" in q1 and "edge-q1" not in q2
    year = dashboards.unit_page(store, "U1", "2026", TZ)["comments"]
    assert len(year) == 20  # the latest 20 of more
    assert all(c["unit"] in {"U1", "C1"} for c in year)


def test_unit_page_shows_its_own_deadlines_in_the_period_and_its_response(province):
    due = datetime(2026, 5, 15, 3, tzinfo=UTC)
    deliver(province,
            deadline("own", 1, due=due, submitted=["U1"], title="Báo cáo U1"),
            deadline("all", 1, due=due + timedelta(days=1), units=["*"], title="Mọi đơn vị"),
            deadline("child", 1, due=due, units=["C1"]),
            deadline("beside", 1, due=due, units=["U2"]),
            deadline("gone", 2, due=due, deleted=True),
            deadline("later", 1, due=datetime(2026, 7, 1, 3, tzinfo=UTC)),
            # 00:30 on 1 July local is 17:30 on 30 June UTC: the third quarter's
            deadline("edge", 1, due=datetime(2026, 6, 30, 17, 30, tzinfo=UTC)),
            response("U1", due, invited=8, finished=6, in_progress=1, not_started=1),
            response("C1", due, invited=3, finished=1, in_progress=0, not_started=2),
            response("U2", due, invited=5, finished=5, in_progress=0, not_started=0),
            response("U1", due, year="2025", invited=8, finished=8, in_progress=0,
                     not_started=0))
    page = dashboards.unit_page(store_of(province), "U1", "2026-Q2", TZ)
    assert page["deadlines"].rows == [["Báo cáo U1", "10:00 15/05/2026", True],
                                      ["Mọi đơn vị", "10:00 16/05/2026", False]]
    assert page["charts"]["response"].rows == [
        ["U1", "Đơn vị U1", 8, 6, 1, 1, 75.0], ["C1", "Đơn vị C1", 3, 1, 0, 2, 33.33]]
    q3 = dashboards.unit_page(store_of(province), "U1", "2026-Q3", TZ)
    assert [r[0] for r in q3["deadlines"].rows] == ["Hạn edge", "Hạn later"]
    assert q3["charts"]["response"].rows == page["charts"]["response"].rows  # the year's


# --- an official's page --------------------------------------------------------------

def test_official_page_figures_equal_the_api_s_and_peer_results_wait_for_the_close(province):
    store = store_of(province)
    deliver(province, open_window(), *(review("A", reviewer=r * 20, unit="U1",
                                              scores={**CRITERIA5, "dress": 3})
                                       for r in "abc"))
    for period in ("2026-Q2", "2026-05", "2026"):
        page = dashboards.official_page(store, "A", period, TZ)
        view = api(province, f"/api/v1/scores/officials/A?period={period}")
        assert page["view"]["citizen"] == view["citizen"]
        assert page["view"]["peer"] == view["peer"] == {"count": 3, "criteria": None,
                                                        "index": None}
        assert page["charts"]["peer"].rows == []  # nothing to read off while open
        for month, *figures_ in page["charts"]["trend"].rows:
            assert figures_ == citizen_row(
                api(province, f"/api/v1/scores/officials/A?period={month}")["citizen"])
        posted = [r for r in RATINGS if r.official == "A" and in_period(r, period)]
        expected = Counter(r.overall for r in posted)
        assert [r[:2] for r in page["charts"]["distribution"].rows] == [
            [v, expected[v]] for v in range(1, 6)]
        assert view["citizen"]["count"] == len(posted)
        assert page["charts"]["factors"].rows[0][1] == view["citizen"]["factors"]["access"]
        assert [c["_id"] for c in page["comments"]] == expected_comments(period,
                                                                          official="A")
        low = dashboards.official_page(store, "A", period, TZ, low_only=True)["comments"]
        assert [c["_id"] for c in low] == expected_comments(period, official="A",
                                                             low_only=True)
    deliver(province, closed_window(version=2))
    page = dashboards.official_page(store, "A", "2026", TZ)
    criteria = api(province, "/api/v1/scores/officials/A?period=2026")["peer"]["criteria"]
    assert criteria["dress"] == 3.0
    assert page["charts"]["peer"].rows == [[k, criteria[k]] for k in CRITERIA]
    assert page["unit"] == "U1" and page["root"] == "SNV"


# --- the home page -----------------------------------------------------------------------

def test_home_page_ranks_units_and_counts_officials_below_50_alerts_and_deadlines(province):
    store = store_of(province)
    now = datetime(2026, 6, 20, 5, tzinfo=UTC)  # running: 2026, 2026-Q2, 2026-06
    # E (U2) rated 1 twenty times more in June: E's conduct falls below 50, and U2's June
    # satisfaction below 80% from 24 ratings
    deliver(province, unit("EMPTY", parent="P"),
            *(Rated(f"low{i}", "U2", "E", 1, datetime(2026, 6, 18, 9, i), {}).event()
              for i in range(20)),
            deadline("soon", 1, due=now + timedelta(days=10), units=["U1", "U2"],
                     submitted=["U2"]),
            deadline("overdue", 1, due=now - timedelta(days=3), units=["*"]),
            deadline("far", 1, due=now + timedelta(days=45), units=["U1"]),
            deadline("gone", 2, due=now + timedelta(days=2), units=["U1"], deleted=True))
    units = ["U1", "U2", "P", "C1", "EMPTY"]
    periods = ["2026", "2026-Q2", "2026-06"]
    settled(province, units, periods)
    wait_for(lambda: (store.materialised("o", ["E"], ["2026-06"]).get(("E", "2026-06"))
                      or {}).get("conduct_index")
             == api(province, "/api/v1/scores/officials/E?period=2026-06")["conduct_index"],
             timeout=20, message="E's materialised score")
    for period in ("2026-06", "2026"):
        page = dashboards.home_page(store, units, period, TZ, now)
        assert page["running"] == periods
        table = page["charts"]["units"]
        rows = {r[0]: r for r in table.rows}
        scores = {u: api(province, f"/api/v1/scores/units/{u}?period={period}")
                  for u in units}
        for code in units:
            assert rows[code][2:5] == citizen_row(scores[code]["citizen"]), code
            conduct = [o["conduct_index"] for o in scores[code]["officials"]]
            given = [Decimal(str(v)) for v in conduct if v is not None]
            mean = (float((sum(given) / len(given)).quantize(Decimal("0.01"), ROUND_HALF_UP))
                    if given else None)
            assert rows[code][5] == mean, code
            assert rows[code][6] == sum(1 for v in conduct if v is not None and v < 50)
        rated = sorted((c for c in units if scores[c]["citizen"]["count"]),
                       key=lambda c: (-scores[c]["citizen"]["satisfaction_rate"], c))
        assert [r[0] for r in table.rows] == [*rated, "EMPTY"]
        assert rows["EMPTY"][2:5] == [0, None, None]
    june = {r[0]: r for r in dashboards.home_page(store, units, "2026-06", TZ, now)
            ["charts"]["units"].rows}
    assert june["U2"][6] == 1  # E below 50 in June
    for code in units:  # open alerts: crossings in a period running now, as the API has them
        running = [api(province, f"/api/v1/scores/units/{code}?period={p}") for p in periods]
        below_target = any(v["citizen"]["count"] >= 20 and v["citizen"]["satisfaction_rate"]
                           < 80 for v in running)
        below_floor = {o["official"] for v in running for o in v["officials"]
                       if o["conduct_index"] is not None and o["conduct_index"] < 50}
        assert june[code][7] == int(below_target) + len(below_floor), code
    assert june["U2"][7] == 2  # U2 below the target from 24 ratings in June, and E
    # deadlines soon: U1 "soon" and "overdue"; U2 submitted "soon", so "overdue" only
    assert (june["U1"][8], june["U2"][8], june["P"][8], june["EMPTY"][8]) == (2, 1, 1, 1)


# --- a rebuild ---------------------------------------------------------------------------

def test_a_rebuild_s_wipe_removes_the_comments_and_keeps_responses_and_deadlines(province):
    store = store_of(province)
    due = datetime(2026, 5, 15, 3, tzinfo=UTC)
    deliver(province, response("U1", due), deadline("d1", 1, due=due))
    assert RatingComment._get_collection().count_documents({}) > 0
    rebuild.wipe(province.settings)
    assert RatingComment._get_collection().count_documents({}) == 0
    assert store.latest_comments(units=["U1"], start=due - timedelta(days=365),
                                 end=due + timedelta(days=365)) == []
    assert store.citizen_rows("u", ["U1"], YEAR)["U1"] == {}
    assert list(store.responses("2026", ["U1"])) == ["U1"]
    assert [d["_id"] for d in store.deadlines_of(["U1"])] == ["d1"]
    # the replay brings the ratings, and so the comments, back
    deliver(province, *(r.event() for r in RATINGS))
    page = dashboards.unit_page(store, "U1", "2026-Q2", TZ)
    assert [c["_id"] for c in page["comments"]] == expected_comments(
        "2026-Q2", units=of_subtree("U1"))
    assert page["charts"]["grid"].notes["no_hour"] == 0
