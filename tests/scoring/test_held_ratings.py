"""Held ratings in scoring: a rating's state decides where it counts (counted and accepted
in every figure, held in `citizen.suspect` only, rejected nowhere); the highest
`status_version` wins whatever the order of arrival; a decision moves a score once; the
comments of held and rejected ratings stay off the dashboards; the unit's page says how
many wait, and the yearly report and `score.updated` carry them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN
from devkit.auth import signed_in
from services.scoring import dashboards, rebuild
from shared import events as ev
from shared.integrity_events import ACCEPTED, COUNTED, HELD, REJECTED
from tests.scoring.helpers import WHEN, deliver, official, rated, rating, unit
from tests.scoring.test_score_updates_and_config import latest, score_events

WHERE = [unit("P"), unit("U1", parent="P"), official("CB1"), official("CB2")]


def store_of(running):
    return running.app.extensions["scoring"].store


def api(running, path: str) -> dict:
    r = running.client.get(path, headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def citizen(running, official_code="CB1", period="2026") -> dict:
    return api(running, f"/api/v1/scores/officials/{official_code}?period={period}")["citizen"]


def unit_citizen(running, code="U1", period="2026") -> dict:
    return api(running, f"/api/v1/scores/units/{code}?period={period}")["citizen"]


def settle(running):
    running.runtime.get("scoring.refresher").run_once(full_scan=True)
    running.runtime.get("scoring.relay").flush()


@pytest.fixture
def stuffed(scoring):
    """CB1: three ratings of 4 counted, and five of 5 held (one burst)."""
    fair = [rated(rating("CB1", 4, rid=f"fair{i}"), COUNTED, 1) for i in range(3)]
    held = [rated(rating("CB1", 5, rid=f"held{i}"), HELD, 1, burst="b1") for i in range(5)]
    deliver(scoring, *WHERE, *fair, *held)
    scoring.held = held
    return scoring


def test_a_held_rating_counts_in_suspect_only(stuffed):
    c = citizen(stuffed)
    assert (c["count"], c["suspect"], c["mean"], c["satisfaction_rate"]) == (3, 5, 4.0, 100.0)
    assert c["index"] == 84.62  # 100 × (3 + 8) / 13: the three counted ones only
    for code in ("U1", "P"):  # the unit's own counters, and rolled up above it
        u = unit_citizen(stuffed, code)
        assert (u["count"], u["suspect"]) == (3, 5), code
    assert api(stuffed, "/api/v1/scores/units/U1?period=2026")["citizen_own"]["suspect"] == 5
    assert unit_citizen(stuffed, "U1", "2026-06")["suspect"] == 0  # another month: none


def test_only_held_ratings_give_no_score_but_are_told(scoring):
    deliver(scoring, *WHERE, *[rated(rating("CB2", 5), HELD, 1) for _ in range(4)])
    body = api(scoring, "/api/v1/scores/officials/CB2?period=2026")
    assert body["citizen"]["count"] == 0 and body["citizen"]["suspect"] == 4
    assert body["citizen"]["index"] is None and body["conduct_index"] is None
    # published all the same, so notify and the dashboards know of them
    settle(scoring)
    s = latest(scoring, "official", "CB2", "2026")
    assert s["citizen"]["count"] == 0 and s["citizen"]["suspect"] == 4


def test_accepting_moves_the_score_once(stuffed):
    settle(stuffed)
    before = latest(stuffed, "official", "CB1", "2026")["citizen"]
    assert (before["count"], before["suspect"]) == (3, 5)
    accepted = [rated(e, ACCEPTED, 2) for e in stuffed.held[:2]]
    deliver(stuffed, *accepted, *accepted, *stuffed.held)  # redelivered, and the old state
    c = citizen(stuffed)
    assert (c["count"], c["suspect"], c["mean"]) == (5, 3, 4.4)
    settle(stuffed)
    after = latest(stuffed, "official", "CB1", "2026")["citizen"]
    assert (after["count"], after["suspect"]) == (5, 3)
    published = len(score_events(stuffed))
    deliver(stuffed, *accepted, *stuffed.held)  # the broker redelivers once more
    settle(stuffed)
    assert len(score_events(stuffed)) == published  # nothing changed, nothing published
    assert citizen(stuffed)["count"] == 5


def test_rejecting_keeps_the_score(stuffed):
    before = citizen(stuffed)
    deliver(stuffed, *[rated(e, REJECTED, 2) for e in stuffed.held])
    c = citizen(stuffed)
    assert c["suspect"] == 0
    assert {k: v for k, v in c.items() if k != "suspect"} == \
        {k: v for k, v in before.items() if k != "suspect"}
    assert unit_citizen(stuffed)["suspect"] == 0


@pytest.mark.parametrize("order", ["in order", "changes first", "reversed", "doubled"])
def test_the_highest_version_wins_whatever_arrives_first(scoring, order):
    base = rating("CB1", 5, rid="r1")
    history = [rated(base, COUNTED, 1), rated(base, HELD, 2), rated(base, ACCEPTED, 3)]
    events = {"in order": history, "changes first": history[1:] + history[:1],
              "reversed": history[::-1], "doubled": history + history[::-1] + [base]}[order]
    deliver(scoring, *WHERE, *events)
    assert (citizen(scoring)["count"], citizen(scoring)["suspect"]) == (1, 0)
    rows = store_of(scoring).citizen_rows("o", ["CB1"], ["2026-05"])["CB1"]["2026-05"]
    assert [r[7:] for r in rows] == [["accepted", 3]]


def test_an_older_state_after_a_newer_one_changes_nothing(scoring):
    base = rating("CB1", 5, rid="r1")
    deliver(scoring, *WHERE, rated(base, HELD, 2))  # a late burst held a counted rating
    deliver(scoring, rated(base, COUNTED, 1), base)  # its first state, and an old event
    assert (citizen(scoring)["count"], citizen(scoring)["suspect"]) == (0, 1)


def test_a_rating_of_before_states_counts_and_a_higher_version_replaces_it(scoring):
    old = rating("CB1", 5, rid="old")  # no state: stored before ratings were judged
    deliver(scoring, *WHERE, old, old)
    assert (citizen(scoring)["count"], citizen(scoring)["suspect"]) == (1, 0)
    deliver(scoring, rated(old, HELD, 1))
    assert (citizen(scoring)["count"], citizen(scoring)["suspect"]) == (0, 1)
    deliver(scoring, old)  # version 0 again: nothing
    assert (citizen(scoring)["count"], citizen(scoring)["suspect"]) == (0, 1)


def test_a_row_of_before_the_hour_is_completed_by_the_same_version(scoring):
    from services.scoring.documents import CitizenMonth

    old = rating("CB1", 4, rid="nohour")
    deliver(scoring, *WHERE)
    CitizenMonth._get_collection().insert_one(
        {"_id": "o:CB1:2026-05", "kind": "o", "subject": "CB1", "month": "2026-05",
         "r": {"nohour": [4, None, None, None, None, None]}})
    deliver(scoring, old)  # a rebuild without a wipe fills the hour in
    rows = store_of(scoring).citizen_rows("o", ["CB1"], ["2026-05"])["CB1"]["2026-05"]
    assert rows == [[4, None, None, None, None, None, 10, "counted", 0]]


# --- comments -----------------------------------------------------------------------------

def shown_comments(running, code="U1"):
    start = WHEN - timedelta(days=30)
    return sorted(c["_id"] for c in store_of(running).latest_comments(
        units=[code], start=start, end=start + timedelta(days=60)))


def test_comments_of_held_and_rejected_ratings_are_shown_once_accepted(scoring):
    said = {rid: rating("CB1", 2, rid=rid, comment=f"Góp ý {rid}")
            for rid in ("old", "fine", "held", "accepted", "rejected")}
    deliver(scoring, *WHERE, said["old"], rated(said["fine"], COUNTED, 1),
            rated(said["held"], HELD, 1), rated(said["accepted"], HELD, 1),
            rated(said["rejected"], HELD, 1))
    assert shown_comments(scoring) == ["fine", "old"]
    # the decisions, one before the rating itself would arrive, and redelivered
    deliver(scoring, rated(said["accepted"], ACCEPTED, 2),
            rated(said["rejected"], REJECTED, 2), rated(said["accepted"], HELD, 1),
            rated(said["rejected"], ACCEPTED, 2))
    assert shown_comments(scoring) == ["accepted", "fine", "old"]
    page = dashboards.unit_page(store_of(scoring), "U1", "2026", scoring.settings.tz)
    assert sorted(c["_id"] for c in page["comments"]) == ["accepted", "fine", "old"]
    # a counted rating a late burst holds: its comment is taken off
    deliver(scoring, rated(said["fine"], HELD, 2))
    assert shown_comments(scoring) == ["accepted", "old"]


def test_a_change_arriving_before_its_rating_keeps_the_comment(scoring):
    said = rating("CB1", 1, rid="early", comment="Thái độ không tốt")
    deliver(scoring, *WHERE, rated(said, ACCEPTED, 2), rated(said, HELD, 1))
    page = dashboards.official_page(store_of(scoring), "CB1", "2026", scoring.settings.tz)
    assert [(c["_id"], c["text"]) for c in page["comments"]] == [("early", "Thái độ không tốt")]


# --- the unit's page, the report, score.updated, the API's description -------------------

def test_the_unit_page_says_how_many_wait_and_links_to_them(stuffed):
    deliver(stuffed, unit("P", managers=["CB2"], version=2))
    client = stuffed.app.test_client()
    signed_in(client, "CB2")  # the manager of the unit above
    text = client.get("/dashboard/units/U1?period=2026").get_data(as_text=True)
    card = text.split('id="held"', 1)[1].split("</div>", 1)[0]
    assert "Chờ xem xét" in card and ">5</a>" in card
    assert 'href="/ratings/held?unit=U1&amp;period=2026"' in card
    assert 'aria-label="Chờ xem xét: 5. Xem các đánh giá bị tạm giữ"' in card
    # the distribution and the hour grid count what the score counts: the three of 4
    page = dashboards.unit_page(store_of(stuffed), "U1", "2026", stuffed.settings.tz)
    assert [r[1] for r in page["charts"]["distribution"].rows] == [0, 0, 0, 3, 0]
    assert sum(sum(r[1:]) for r in page["charts"]["grid"].rows) == 3
    assert page["charts"]["trend"].rows[4][1] == 3  # May
    # a month without held ratings: 0, not alerting
    text = client.get("/dashboard/units/P?period=2026-06").get_data(as_text=True)
    card = text.split('id="held"', 1)[1].split("</div>", 1)[0]
    assert ">0</a>" in card and "alert" not in text.split('id="held"', 1)[0][-40:]


def test_the_yearly_report_has_the_held_ratings(stuffed):
    r = stuffed.client.get("/api/v1/reports/units/U1.csv?period=2026", headers=ADMIN)
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[1:14] if row}
    assert summary["Số lượt người dân đánh giá (gồm đơn vị trực thuộc)"] == "3"
    assert summary["Số lượt tạm giữ, chờ xem xét (không tính điểm)"] == "5"
    header = next(r for r in rows if r and r[0] == "STT")
    assert header[-1] == "Số lượt tạm giữ, chờ xem xét (không tính điểm)"
    by_code = {row[1]: row for row in rows[rows.index(header) + 1:] if len(row) > 1}
    assert by_code["CB1"][4] == "3" and by_code["CB1"][-1] == "5"
    assert by_code["CB2"][-1] == "0"


def test_score_updated_carries_suspect_and_old_events_load_with_none(stuffed):
    settle(stuffed)
    s = latest(stuffed, "unit", "U1", "2026")
    assert (s["citizen"]["count"], s["citizen"]["suspect"]) == (3, 5)
    final = {(d.scope, d.official or d.unit): d for d in
             (e.loaded_data() for e in score_events(stuffed)) if d.period == "2026"}
    assert {k: d.citizen.suspect for k, d in final.items()} == {
        ("official", "CB1"): 5, ("unit", "U1"): 5, ("unit", "P"): 5}
    old = ev.make_event(ev.SCORE_UPDATED, {
        "scope": "unit", "unit": "U1", "period": "2026", "computed_at": datetime.now(UTC),
        "score": {"citizen": {"count": 1, "mean": 5.0, "satisfaction_rate": 100.0,
                              "index": 81.82, "factors": {}}}}, source="/test")
    assert old.loaded_data().citizen.suspect == 0


def test_the_api_describes_suspect(scoring):
    doc = scoring.client.get("/api/v1/openapi.json").get_json()
    out = doc["components"]["schemas"]["CitizenOut"]["properties"]
    assert "held" in out["suspect"]["description"] and "burst" in out["suspect"]["description"]
    assert "accepted" in out["count"]["description"]


# --- a rebuild ------------------------------------------------------------------------------

def test_a_rebuild_with_the_current_states_reproduces_the_scores(stuffed):
    held = stuffed.held
    later = rating("CB2", 5, rid="late", comment="Tốt", when=WHEN + timedelta(days=40))
    deliver(stuffed, rated(held[0], ACCEPTED, 2), rated(held[1], REJECTED, 2),
            rated(later, COUNTED, 1), rated(later, HELD, 2))
    paths = [f"/api/v1/scores/{kind}/{code}?period={p}" for kind, code in
             (("officials", "CB1"), ("officials", "CB2"), ("units", "U1"), ("units", "P"))
             for p in ("2026", "2026-05", "2026-06", "2026-Q2")]
    before = {p: api(stuffed, p) for p in paths}
    comments = shown_comments(stuffed)
    current = [rated(held[0], ACCEPTED, 2, changed=False), rated(held[1], REJECTED, 2,
               changed=False), *held[2:], rated(later, HELD, 2, changed=False),
               *(rated(rating("CB1", 4, rid=f"fair{i}"), COUNTED, 1) for i in range(3))]
    deliver(stuffed, *current)  # a replay over what is there: nothing moves
    assert {p: api(stuffed, p) for p in paths} == before
    rebuild.wipe(stuffed.settings)
    assert citizen(stuffed)["suspect"] == 0
    deliver(stuffed, *current)  # survey replays each rating once, as it stands
    assert {p: api(stuffed, p) for p in paths} == before
    assert shown_comments(stuffed) == comments
    assert before[paths[0]]["citizen"]["count"] == 4  # 3 fair + 1 accepted
    assert before[paths[0]]["citizen"]["suspect"] == 3
