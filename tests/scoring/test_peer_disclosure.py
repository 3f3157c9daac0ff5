"""Trying to read one colleague's review off the results: while the year's window is open
every view (each period, each caller, the unit's ranking, the yearly report, the
`score.updated` events) stays as it was, but for `peer.count`; at the close all of it is
published at once, each changed score once."""

from __future__ import annotations

import copy
import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from devkit.apps import ADMIN
from shared.periods import periods_of_year
from tests.scoring.helpers import (
    CRITERIA5,
    as_caller,
    closed_window,
    deliver,
    open_window,
    rating,
    review,
)
from tests.scoring.test_score_updates_and_config import score_events

PERIODS = periods_of_year(2026)
CALLERS = ("admin", "CB1", "CB1-session", "M1", "MP", "ADM", "ADM-session")
REPORT_PEER_COUNT = 8  # the column "Số đồng nghiệp đánh giá" of the report's officials


def scores(**values):
    return {**CRITERIA5, **values}


def strip_peer_count(value):
    """`value` without any `peer.count` (the one figure that may move while open)."""
    if isinstance(value, dict):
        out = {k: strip_peer_count(v) for k, v in value.items()}
        if isinstance(out.get("peer"), dict):
            out["peer"].pop("count", None)
        return out
    if isinstance(value, list):
        return [strip_peer_count(v) for v in value]
    return value


def report_rows(rows: list[list]) -> list[list]:
    """The report's rows without the officials' peer count."""
    rows = copy.deepcopy(rows)
    header = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    for row in rows[header + 1:]:
        if len(row) > REPORT_PEER_COUNT:
            row[REPORT_PEER_COUNT] = None
    return rows


def every_view(scoring) -> dict:
    """What every caller can read about CB1 and their unit, in every period of 2026."""
    seen = {}
    for caller in CALLERS:
        client, headers = as_caller(scoring, caller)
        for period in PERIODS:
            for path in (f"/api/v1/scores/officials/CB1?period={period}",
                         f"/api/v1/scores/units/U1?period={period}",
                         f"/api/v1/scores/units/P?period={period}"):
                r = client.get(path, headers=headers)
                body = strip_peer_count(r.get_json()) if r.status_code == 200 else None
                seen[(caller, path)] = (r.status_code, body)  # a problem has its request id
    client, headers = as_caller(scoring, "M1")
    csv_report = client.get("/api/v1/reports/units/U1.csv?period=2026", headers=headers)
    seen["csv"] = report_rows(list(csv.reader(io.StringIO(csv_report.data.decode("utf-8-sig")))))
    xlsx = client.get("/api/v1/reports/units/U1.xlsx?period=2026", headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    seen["xlsx"] = report_rows([list(row) for row in sheet.iter_rows(values_only=True)])
    return seen


def peer_of(scoring, period: str) -> dict:
    r = scoring.client.get(f"/api/v1/scores/officials/CB1?period={period}", headers=ADMIN)
    return r.get_json()["peer"]


def settled(scoring) -> list:
    """Every score.updated so far, once the refresher has derived what is marked."""
    scoring.runtime.get("scoring.refresher").run_once(full_scan=True)
    scoring.runtime.get("scoring.relay").flush()
    return score_events(scoring)


def cb1_events(events) -> list[dict]:
    return [e.data for e in events if e.data["scope"] == "official"
            and e.data["official"] == "CB1"]


def test_while_open_only_the_count_moves_and_at_the_close_all_is_published_at_once(office):
    """Two reviews, a third, a fourth, an edit: no view changes but `peer.count` (before:
    from the third on, the fourth's scores were 4·after − 3·before of the means). Then
    the window closes: every period shows the same results at once, each published once."""
    deliver(office, open_window(), *[rating("CB1", 4) for _ in range(5)],
            review("CB1", reviewer="a" * 20, scores=scores(dress=1)),
            review("CB1", reviewer="b" * 20, scores=scores(ethics=2)))
    before = every_view(office)
    assert peer_of(office, "2026") == {"count": 2, "criteria": None, "index": None}
    steps = [review("CB1", reviewer="c" * 20, scores=scores(conduct=3)),
             review("CB1", reviewer="d" * 20, scores=scores(participation=1)),
             review("CB1", reviewer="b" * 20, revision=2, scores=scores(discipline=1),
                    comment="Cần đúng giờ hơn")]
    for count, step in zip((3, 4, 4), steps, strict=True):
        deliver(office, step)
        for period in PERIODS:  # monthly, quarterly and yearly alike
            assert peer_of(office, period) == {"count": count, "criteria": None,
                                               "index": None}, period
        assert every_view(office) == before, f"after the review making {count}"
    events = settled(office)
    assert cb1_events(events), "the count is published"
    for data in cb1_events(events):
        assert data["score"]["peer"]["criteria"] is None
        assert data["score"]["peer"]["index"] is None
        # the conduct index is the citizens' part only
        assert data["score"]["conduct_index"] == data["score"]["citizen"]["index"]
    published_before = len(events)

    deliver(office, closed_window(version=2))
    shown = {period: peer_of(office, period) for period in PERIODS}  # reads: at once
    # a (dress 1), b edited (discipline 1), c (conduct 3), d (participation 1): the mean of
    # the 20 scores is (100 − 4 − 4 − 2 − 4) / 20 = 4.3, the index 100 × 3.3 / 4 = 82.5
    assert shown["2026"] == {"count": 4, "index": 82.5, "criteria": {
        "discipline": 4.0, "conduct": 4.5, "ethics": 5.0, "dress": 4.0,
        "participation": 4.0}}
    assert all(peer == shown["2026"] for peer in shown.values())
    after = settled(office)[published_before:]
    by_period = {}
    for data in cb1_events(after):
        by_period.setdefault(data["period"], []).append(data["score"])
    assert sorted(by_period) == sorted(PERIODS)
    assert all(len(published) == 1 for published in by_period.values()), "each once"
    assert all(published[0]["peer"] == shown["2026"] for published in by_period.values())
    assert settled(office)[published_before:] == after  # and nothing more comes


def test_a_window_reopened_hides_the_results_again_and_publishes_that(office):
    deliver(office, closed_window(), *[review("CB1", reviewer=r * 20) for r in "abc"])
    assert peer_of(office, "2026-05")["index"] == 100.0
    assert cb1_events(settled(office))[-1]["score"]["peer"]["index"] == 100.0

    deliver(office, open_window(version=2))
    assert peer_of(office, "2026-05") == {"count": 3, "criteria": None, "index": None}
    latest = {d["period"]: d["score"] for d in cb1_events(settled(office))}
    assert all(score["peer"]["index"] is None for score in latest.values())
    assert len(latest) == len(PERIODS)


def test_an_older_or_replayed_window_changes_nothing(office):
    hidden = {"count": 3, "criteria": None, "index": None}
    deliver(office, *[review("CB1", reviewer=r * 20) for r in "abc"],
            open_window(version=2), closed_window(version=1))  # v1 arrives late
    assert peer_of(office, "2026") == hidden
    deliver(office, closed_window(version=3))
    assert peer_of(office, "2026")["index"] == 100.0
    deliver(office, open_window(version=2), closed_window(version=1))  # a replay
    assert peer_of(office, "2026")["index"] == 100.0


def test_a_year_without_a_window_is_published_at_its_end(office):
    """No window: the year closes at its end, local time (a past year is published, a
    year still to come is not)."""
    deliver(office, *[review("CB1", reviewer=r * 20, period="2024") for r in "abc"],
            *[review("CB1", reviewer=r * 20, period="2999") for r in "abc"])
    assert peer_of(office, "2024-Q4")["index"] == 100.0
    assert peer_of(office, "2999-Q4") == {"count": 3, "criteria": None, "index": None}


def test_a_close_that_passed_while_scoring_was_down_is_published_at_its_start(
        office, monkeypatch):
    """The window closed while no refresher ran: the first scan of the next one marks
    the year, so the stored scores and notify follow the reads."""
    import services.scoring.disclosure as disclosure
    from services.scoring.scores import Refresher

    refresher = office.runtime.get("scoring.refresher")
    deliver(office, open_window(), *[review("CB1", reviewer=r * 20) for r in "abc"])
    refresher.run_once(full_scan=True)
    refresher.stop()  # scoring goes down; a month and a day pass
    later = open_window().loaded_data()["closes_at"] + timedelta(days=1)

    class Later:
        @staticmethod
        def now(tz=None):
            return later

    monkeypatch.setattr(disclosure, "datetime", Later)
    store = office.app.extensions["scoring"].store
    Refresher(store, office.runtime.get("scoring.relay"),
              tz=office.settings.tz).run_once(full_scan=True)
    office.runtime.get("scoring.relay").flush()
    latest = {d["period"]: d["score"] for d in cb1_events(score_events(office))}
    assert all(score["peer"]["index"] == 100.0 for score in latest.values())


def test_the_close_marks_a_year_once(office):
    from services.scoring.disclosure import mark_disclosure_changes

    deliver(office, open_window(), review("CB1", reviewer="a" * 20))
    store, tz = office.app.extensions["scoring"].store, office.settings.tz
    closes_at = open_window().loaded_data()["closes_at"]
    office.runtime.get("scoring.refresher").stop()
    mark_disclosure_changes(store, tz, closes_at - timedelta(seconds=1))
    assert mark_disclosure_changes(store, tz, closes_at - timedelta(seconds=1)) == []
    assert mark_disclosure_changes(store, tz, closes_at) == ["2026"]
    assert store.dirty_count() > 0
    assert mark_disclosure_changes(store, tz, closes_at + timedelta(hours=1)) == []
