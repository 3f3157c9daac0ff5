"""Peer reviews: assignments, windows, edits, the 403/404/409 rules, anonymity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, queued_events
from shared import events as ev
from shared import topology

YEAR = str(datetime.now(UTC).year)
SCORES = {"discipline": 5, "conduct": 4, "ethics": 5, "dress": 3, "participation": 4}


@pytest.fixture
def people(client):
    for unit in ("U1", "U2"):
        client.put(f"/api/v1/units/{unit}", json={"name": unit}, headers=ADMIN)
    for code, unit, active in [("A", "U1", True), ("B", "U1", True), ("C", "U1", True),
                               ("OFF", "U1", False), ("X", "U2", True)]:
        client.put(f"/api/v1/officials/{code}", headers=ADMIN,
                   json={"full_name": f"Cán bộ {code}", "unit": unit, "active": active})
    return {code: {"Authorization": "Bearer " + client.post(
        f"/api/v1/officials/{code}/tokens", headers=ADMIN).get_json()["token"]}
        for code in ("A", "B", "X")}


def review(client, who, reviewee, scores=SCORES, period=YEAR, **extra):
    return client.put(f"/api/v1/peer-reviews/{period}/{reviewee}",
                      json={"scores": scores, **extra}, headers=who)


def review_events(survey):
    survey.runtime.get("survey.relay").flush()
    return queued_events(survey, topology.queue_for("scoring").name, ev.PEER_REVIEW_SUBMITTED)


def test_assignments_are_active_colleagues_of_the_unit(client, people):
    r = client.get(f"/api/v1/peer-reviews/{YEAR}/assignments", headers=people["A"])
    assert r.status_code == 200
    assert r.get_json() == [
        {"official": "B", "full_name": "Cán bộ B", "status": "pending"},
        {"official": "C", "full_name": "Cán bộ C", "status": "pending"},
    ]
    assert review(client, people["A"], "B").status_code == 201
    statuses = {a["official"]: a["status"] for a in client.get(
        f"/api/v1/peer-reviews/{YEAR}/assignments", headers=people["A"]).get_json()}
    assert statuses == {"B": "done", "C": "pending"}
    # B's own list is not affected by A's review of B
    b_list = client.get(f"/api/v1/peer-reviews/{YEAR}/assignments", headers=people["B"])
    assert {a["official"]: a["status"] for a in b_list.get_json()} == {"A": "pending",
                                                                       "C": "pending"}


def test_edit_replaces_the_review(survey, client, people):
    assert review(client, people["A"], "B").status_code == 201
    r = review(client, people["A"], "B", scores={**SCORES, "dress": 5}, comment="Đã sửa")
    assert r.status_code == 200 and r.get_json()["revision"] == 2
    own = client.get(f"/api/v1/peer-reviews/{YEAR}/B", headers=people["A"]).get_json()
    assert own["scores"]["dress"] == 5 and own["comment"] == "Đã sửa"
    events = review_events(survey)
    assert {e.data["id"] for e in events} == {events[0].data["id"]}
    assert max(e.data["revision"] for e in events) == 2
    # the comment travels with the review (for the reviewee's results), the edit's replacing
    assert events[-1].data["comment"] == "Đã sửa"


def test_the_reviewer_is_never_named(survey, client, people):
    review(client, people["A"], "B")
    review(client, people["A"], "C")
    review(client, people["B"], "C")
    events = review_events(survey)
    assert len(events) == 3
    for e in events:
        assert '"A"' not in e.to_bytes().decode() and '"B"' not in str(e.data["reviewer"])
    # the same reviewer gets unrelated pseudonyms for different colleagues
    pseudonyms = [e.data["reviewer"] for e in events]
    assert len(set(pseudonyms)) == 3
    from services.survey.documents import PeerReview

    for doc in PeerReview._get_collection().find():
        assert "A" not in {v for v in doc.values() if isinstance(v, str)} - {doc["reviewee"]}


@pytest.mark.parametrize("reviewer, reviewee, status", [
    ("A", "A", 403),   # oneself
    ("A", "X", 403),   # another unit
    ("A", "OFF", 403), # inactive colleague
    ("A", "NOBODY", 404),
])
def test_who_may_be_reviewed(client, people, reviewer, reviewee, status):
    r = review(client, people[reviewer], reviewee)
    assert r.status_code == status and r.mimetype == "application/problem+json"


def test_only_officials_review(client, people):
    assert review(client, ADMIN, "B").status_code == 403
    assert review(client, {}, "B").status_code == 401
    assert client.get(f"/api/v1/peer-reviews/{YEAR}/assignments").status_code == 401


@pytest.mark.parametrize("scores, field", [
    ({**SCORES, "dress": 6}, "scores.dress"),
    ({**SCORES, "ethics": True}, "scores.ethics"),
    ({k: v for k, v in SCORES.items() if k != "conduct"}, "scores.conduct"),
    ({**SCORES, "beauty": 5}, "scores.beauty"),
])
def test_scores_are_five_integers_1_to_5(client, people, scores, field):
    r = review(client, people["A"], "B", scores=scores)
    assert r.status_code == 422 and field in r.get_json()["errors"]


@pytest.mark.parametrize("period", ["2026-Q1", "2026-05", "20x6"])
def test_periods_are_years(client, people, period):
    r = review(client, people["A"], "B", period=period)
    assert r.status_code == 422 and "period" in r.get_json()["errors"]


def test_review_window(client, people):
    now = datetime.now(UTC)
    closed = {"opens_at": (now - timedelta(days=10)).isoformat(),
              "closes_at": (now - timedelta(days=1)).isoformat()}
    r = client.put(f"/api/v1/review-windows/{YEAR}", json=closed, headers=ADMIN)
    assert r.status_code == 201
    assert review(client, people["A"], "B").status_code == 409
    open_ = {"opens_at": (now - timedelta(days=1)).isoformat(),
             "closes_at": (now + timedelta(days=1)).isoformat()}
    assert client.put(f"/api/v1/review-windows/{YEAR}", json=open_,
                      headers=ADMIN).status_code == 200
    assert review(client, people["A"], "B").status_code == 201


def test_without_a_window_a_period_is_open_during_its_own_year(client, people):
    assert review(client, people["A"], "B", period=str(int(YEAR) - 1)).status_code == 409
    assert review(client, people["A"], "B", period=str(int(YEAR) + 1)).status_code == 409
    assert review(client, people["A"], "B", period=YEAR).status_code == 201


def test_window_must_close_after_it_opens(client, people):
    r = client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": "2026-12-01T00:00:00+07:00", "closes_at": "2026-11-01T00:00:00+07:00"})
    assert r.status_code == 422 and "closes_at" in r.get_json()["errors"]
    r = client.put(f"/api/v1/review-windows/{YEAR}", headers=ADMIN, json={
        "opens_at": "2026-11-01T00:00:00", "closes_at": "2026-12-01T00:00:00+07:00"})
    assert r.status_code == 422 and "opens_at" in r.get_json()["errors"]
    assert client.put(f"/api/v1/review-windows/{YEAR}", json={}, headers={}).status_code == 401


@pytest.mark.parametrize("period", ["9999", "1899", "0000"])
def test_years_out_of_range_are_422_not_500(client, people, period):
    """9999 had no window, so the default window ran to the year 10000: a 500."""
    answers = [
        review(client, people["A"], "B", period=period),
        client.get(f"/api/v1/peer-reviews/{period}/assignments", headers=people["A"]),
        client.get(f"/api/v1/peer-reviews/{period}/B", headers=people["A"]),
        client.put(f"/api/v1/review-windows/{period}", headers=ADMIN, json={
            "opens_at": "2026-11-01T00:00:00+07:00", "closes_at": "2026-12-01T00:00:00+07:00"}),
    ]
    for r in answers:
        assert r.status_code == 422 and r.mimetype == "application/problem+json"
        assert "period" in r.get_json()["errors"]


def test_the_last_year_allowed_has_a_window(client, people):
    assert review(client, people["A"], "B", period="2999").status_code == 409


def test_a_reviewee_that_is_not_a_code_is_422_like_every_code_in_a_path(client, people):
    for r in (review(client, people["A"], "bad code"),
              client.get(f"/api/v1/peer-reviews/{YEAR}/bad%20code", headers=people["A"])):
        assert r.status_code == 422 and list(r.get_json()["errors"]) == ["reviewee"]
