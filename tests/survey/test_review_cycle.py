"""The review cycle on survey's side: a window's reminders and its `review_window.set`
event; the invitations and reminders sent when notify says they are due, each once per
(year, official, kind, offset), as sign-in links to the review list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN
from devkit.auth import signed_in
from services.survey import review_cycle, review_rules, reviews
from services.survey.documents import PeerReviewWindow, ReviewNotice
from shared import signin
from shared.messages import OutgoingMessage
from tests.conftest import wait_for
from tests.survey.cycle import (
    SCORES,
    YEAR,
    bearer,
    due,
    due_event,
    open_window,
    review_links,
    ward,
    window_events,
)


@pytest.fixture
def people(client):
    ward(client)


def test_a_window_with_reminders_is_announced_to_scoring_and_notify(survey, client):
    opens, closes = "2026-11-20T08:00:00+07:00", "2026-12-15T17:00:00+07:00"
    r = client.put("/api/v1/review-windows/2026", headers=ADMIN, json={
        "opens_at": opens, "closes_at": closes, "remind_before": ["P7D", "PT12H"]})
    assert r.status_code == 201
    body = r.get_json()
    assert body["remind_before"] == ["P7D", "PT12H"]
    assert [datetime.fromisoformat(t) for t in body["reminders_at"]] == [
        datetime.fromisoformat("2026-12-08T17:00:00+07:00"),
        datetime.fromisoformat("2026-12-15T05:00:00+07:00")]
    assert [(e.data["version"], e.data["remind_before"]) for e in window_events(survey)] == [
        (1, ["P7D", "PT12H"])]
    r = client.put("/api/v1/review-windows/2026", headers=ADMIN, json={
        "opens_at": opens, "closes_at": "2026-12-18T17:00:00+07:00"})
    assert r.status_code == 200 and r.get_json()["remind_before"] == []
    for consumer in ("notify", "scoring"):
        events = window_events(survey, consumer)
        assert [(e.data["version"], e.data["remind_before"]) for e in events] == [
            (1, ["P7D", "PT12H"]), (2, [])]
        assert datetime.fromisoformat(events[1].data["closes_at"]) == \
            datetime.fromisoformat("2026-12-18T17:00:00+07:00")


def test_a_change_not_yet_published_is_replaced_by_the_next(survey, client):
    """The consumers need the newest window only: versions only ever grow."""
    opens = datetime.fromisoformat("2026-11-20T08:00:00+07:00")
    for days in (25, 26):  # the relay not told: both stored before it publishes
        reviews.save_window("2026", {"opens_at": opens,
                                     "closes_at": opens + timedelta(days=days)}, key=b"k")
    assert [e.data["version"] for e in window_events(survey)] == [2]


@pytest.mark.parametrize("remind_before, wrong", [
    (["P7D", "P1W"], "the same length"),
    (["P3D", "P3D"], "twice"),
    (["PT0S"], "positive"),
    (["P30D"], "shorter than the window"),
    (["seven days"], "not an ISO 8601 duration"),
    (["P99999999Y"], "not an ISO 8601 duration"),
])
def test_reminders_that_do_not_fit_are_refused_and_nothing_is_announced(
        survey, client, remind_before, wrong):
    r = client.put("/api/v1/review-windows/2026", headers=ADMIN, json={
        "opens_at": "2026-11-20T08:00:00+07:00", "closes_at": "2026-12-15T17:00:00+07:00",
        "remind_before": remind_before})
    assert r.status_code == 422, r.get_json()
    assert wrong in " ".join(r.get_json()["errors"]["remind_before"])
    assert window_events(survey) == []
    assert PeerReviewWindow._get_collection().count_documents({}) == 0


def test_the_invitation_goes_to_each_active_official_with_colleagues_and_an_address(
        survey, client, ctx, people):
    window = open_window(client)
    assert review_cycle.on_cycle_due(ctx, due("invitation", 1)) == 2
    links = review_links(survey)
    assert sorted(e.data["official"] for e in links) == ["A", "B"]  # C: no address
    for event in links:
        data = event.data
        assert data["purpose"] == "review.invitation" and data["next"] == f"/reviews/{YEAR}"
        assert data["context"] == {"year": YEAR, "assigned": 2, "done": 0, "pending": 2,
                                   "closes_at": window["closes_at"], "extra": False}
        expires = datetime.fromisoformat(data["expires_at"])
        assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
    # the link signs in like /login's, once, and leads to the review list
    secret = signin.secret_for(ctx.link_key, links[0].data["nonce"])
    r = client.get(f"/login/{secret}")
    assert r.status_code == 303 and r.headers["Location"] == f"/reviews/{YEAR}"
    assert client.get(f"/login/{secret}").status_code == 410
    # delivered again (or by a second process): nothing more
    assert review_cycle.on_cycle_due(ctx, due("invitation", 1)) == 0
    assert len(review_links(survey)) == 2
    assert ReviewNotice._get_collection().count_documents({}) == 2


def test_a_time_planned_for_an_older_window_is_ignored(survey, client, ctx, people):
    open_window(client)
    open_window(client, days_left=20)  # version 2: notify plans again
    assert review_cycle.on_cycle_due(ctx, due("invitation", 1)) == 0
    assert review_cycle.on_cycle_due(ctx, due("reminder", 1, "P3D")) == 0
    assert review_links(survey) == []
    assert review_cycle.on_cycle_due(ctx, due("invitation", 2)) == 2


def test_reminders_go_only_to_those_with_reviews_pending_once_per_offset(
        survey, client, ctx, people):
    open_window(client, remind_before=["P3D", "P1D"])
    a, b = bearer(client, "A"), bearer(client, "B")
    for reviewee in ("B", "C"):
        assert client.put(f"/api/v1/peer-reviews/{YEAR}/{reviewee}", json={"scores": SCORES},
                          headers=a).status_code == 201
    assert client.put(f"/api/v1/peer-reviews/{YEAR}/A", json={"scores": SCORES},
                      headers=b).status_code == 201
    assert review_cycle.on_cycle_due(ctx, due("reminder", 1, "P3D")) == 1
    assert review_cycle.on_cycle_due(ctx, due("reminder", 1, "P3D")) == 0
    [reminder] = review_links(survey)
    assert reminder.data["official"] == "B" and reminder.data["purpose"] == "review.reminder"
    assert (reminder.data["context"]["done"], reminder.data["context"]["pending"]) == (1, 1)
    # the next offset reminds again; a window changed later does not repeat an offset
    assert review_cycle.on_cycle_due(ctx, due("reminder", 1, "P1D")) == 1
    open_window(client, remind_before=["P3D", "P1D"], days_left=12)
    assert review_cycle.on_cycle_due(ctx, due("reminder", 2, "P1D")) == 0
    assert [e.data["official"] for e in review_links(survey)] == ["B", "B"]


def test_a_link_never_outlives_the_window_and_a_closed_window_sends_nothing(
        survey, client, ctx, people):
    window = open_window(client, days_left=1, remind_before=["PT12H"])
    assert review_cycle.on_cycle_due(ctx, due("reminder", 1, "PT12H")) == 2
    assert {e.data["expires_at"] for e in review_links(survey)} == {window["closes_at"]}
    later = datetime.fromisoformat(window["closes_at"]) + timedelta(seconds=1)
    assert review_cycle.on_cycle_due(ctx, due("invitation", 1), now=later) == 0


def test_notify_word_arrives_on_survey_queue(survey, client, people):
    open_window(client)
    event = due_event("invitation", 1)
    survey.bus.publisher().publish(OutgoingMessage.from_event(event))
    wait_for(lambda: len(review_links(survey)) == 2, message="the invitations")
    entries = client.get("/api/v1/audit?action=review_cycle_sent", headers=ADMIN).get_json()
    assert [(e["actor"], e["target"], e["details"]) for e in entries] == [
        ("system", YEAR, {"kind": "invitation", "offset": None, "sent": 2})]
    # the audit page says it in words
    client.put("/api/v1/officials/AD", headers=ADMIN, json={
        "full_name": "Quản trị", "unit": "D", "roles": ["admin"]})
    signed_in(client, "AD", survey.app.config["CONGSO_SESSION_SIGNER"])
    page = client.get("/audit").get_data(as_text=True)
    assert "Gửi thư mời, nhắc đánh giá đồng nghiệp" in page
    assert "<br>Thư mời<br>Số cán bộ được gửi thư: 2" in page
    assert "Nhắc trước hạn chót: P3D" in page and "opens_at" not in page


def test_no_secret_and_no_reviewer_in_what_is_kept_or_sent(survey, client, ctx, people):
    open_window(client)
    a = bearer(client, "A")
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    review_cycle.on_cycle_due(ctx, due("reminder", 1, "P3D"))
    for link in review_links(survey):
        secret = signin.secret_for(ctx.link_key, link.data["nonce"])
        assert secret not in link.to_bytes().decode()
        for doc in ReviewNotice._get_collection().find():
            # once published, not even the nonce is kept (the link's secret never was)
            assert secret not in str(doc) and link.data["nonce"] not in str(doc)
        # the counts are the official's own; no colleague is named
        assert set(link.data["context"]) == {"year", "assigned", "done", "pending",
                                             "closes_at", "extra"}


@pytest.mark.parametrize("left, said", [
    (timedelta(seconds=20), (1, "minutes")), (timedelta(minutes=58, seconds=30), (59, "minutes")),
    (timedelta(minutes=59, seconds=30), (1, "hours")),  # never "60 minutes"
    (timedelta(hours=1), (1, "hours")), (timedelta(hours=47, minutes=20), (47, "hours")),
    (timedelta(days=9, hours=23), (10, "days")), (timedelta(days=2, hours=5), (2, "days")),
])
def test_the_time_left_is_said_as_people_count_it(left, said):
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert review_rules.time_left(now, now + left) == said
