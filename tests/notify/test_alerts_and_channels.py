"""Alerts from ratings and scores; channels that fail, retry, and never block each other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devkit.apps import ADMIN, make_settings, start
from devkit.receivers import WebhookReceiver
from services.notify.app import create_app
from services.notify.channels import signature, verify_signature
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for
from tests.notify.conftest import SECRET, fast_retries
from tests.notify.helpers import (
    deliver,
    notifications,
    official,
    rating,
    score,
    this_year,
    unit,
)


@pytest.fixture
def people(notify, smtp):
    deliver(notify, unit("U1", emails=["u1@example.vn"]), official("CB1", "U1", "Lê Văn An"))
    return notify


def settled():
    return not [n for n in notifications() if n["status"] == "pending"]


def test_a_low_rating_alerts_the_officials_unit(people, smtp):
    deliver(people, rating("CB1", 1, comment="Thái độ không tốt"), rating("CB1", 4))

    wait_for(lambda: smtp.messages, message="the alert")
    [mail] = smtp.messages
    assert "Lê Văn An" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "1/5 (Rất không hài lòng)" in text and "Thái độ không tốt" in text and "Q1" in text


def test_later_low_ratings_within_the_hour_are_folded_into_the_next_alert(people, smtp):
    first, second, third = (rating("CB1", v) for v in (2, 1, 1))
    deliver(people, first, second, third, second)  # a redelivery among them
    wait_for(lambda: len(smtp.messages) == 1)
    assert len(notifications(kind="rating.alert")) == 1
    svc = people.app.extensions["notify"].service
    jobs = [j["id"] for j in people.app.extensions["notify"].scheduler.jobs()]
    assert "rating-flush:CB1" in jobs  # the folded ones go out when the hour is over
    svc.flush_rating_alerts("CB1", now=datetime.now(UTC) + timedelta(hours=1))
    wait_for(lambda: len(smtp.messages) == 2)
    folded = smtp.messages[1].get_body(("plain",)).get_content()
    assert folded.count("/5 (") == 2
    assert svc.flush_rating_alerts("CB1") == []  # nothing left


def test_an_old_rating_replayed_does_not_alert(people, smtp):
    deliver(people, rating("CB1", 1, when=datetime.now(UTC) - timedelta(days=3)))
    assert notifications(kind="rating.alert") == []


def test_score_alerts_fire_once_per_crossing(people, smtp):
    events = [score("CB1", conduct=40.0), score("CB1", conduct=45.0),
              score("CB1", conduct=62.0), score("CB1", conduct=30.0),
              score(unit_code="U1", satisfaction=75.0), score(unit_code="U1", satisfaction=70.0)]
    deliver(people, *events)
    alerts = notifications(kind="score.alert")
    assert len(alerts) == 3  # down at 40, down again at 30, the unit under 80%
    wait_for(settled)
    subjects = [m["Subject"] for m in smtp.messages]
    assert sum("dưới 50" in s for s in subjects) == 2
    assert sum("dưới 80%" in s for s in subjects) == 1


CONTRACT_FIELDS = {"id", "kind", "unit", "deadline", "channel", "recipient", "status",
                   "attempts", "created_at", "sent_at"}


def test_an_alert_for_a_unit_not_known_yet_waits_for_its_directory_record(notify, smtp):
    """The rating's event overtook its unit's: the alert waits, then goes once."""
    deliver(notify, rating("CB9", 1, unit_code="U9", comment="Chờ quá lâu"))
    [waiting] = notifications(kind="rating.alert")
    assert waiting["status"] == "waiting" and smtp.messages == []
    r = notify.client.get("/api/v1/notifications?status=waiting", headers=ADMIN)
    assert r.status_code == 200 and len(r.get_json()) == 1
    [item] = r.get_json()  # not sent yet: every field of the contract there, null
    assert set(item) >= CONTRACT_FIELDS
    assert item["sent_at"] is None and item["deadline"] is None and item["attempts"] == 0
    deliver(notify, unit("U9", emails=["u9@example.vn"]))
    wait_for(lambda: len(smtp.messages) == 1, message="the alert once the unit is known")
    # the SMTP server has it before the sender records it: wait for the record
    wait_for(lambda: [n["status"] for n in notifications(kind="rating.alert")] == ["sent"],
             message="the alert marked sent")
    deliver(notify, unit("U9", emails=["u9@example.vn"], version=2))  # and again: nothing
    wait_for(settled)
    assert len(smtp.messages) == 1
    assert "Chờ quá lâu" in smtp.messages[0].get_body(("plain",)).get_content()


def test_score_alerts_only_for_the_periods_running_now(people, smtp):
    year = int(this_year())
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).month
    deliver(people, score("CB1", conduct=20.0, period=str(year - 1)),  # a past year
            score("CB1", conduct=20.0, period=str(year + 1)),  # a later one
            score("CB1", conduct=20.0, period=f"{year}-{month:02d}"),  # this month
            score(unit_code="U1", satisfaction=50.0, period=f"{year - 1}-12"))
    assert [n["data"]["period"] for n in notifications(kind="score.alert")] == [
        f"{year}-{month:02d}"]


def test_a_score_alert_reaches_a_webhook_with_its_data_as_json(notify_settings, smtp, hook):
    running = start(create_app, notify_settings, MemoryBus())
    fast_retries(running)
    try:
        deliver(running, unit("U1", webhook=hook.url), official("CB1", "U1"),
                score("CB1", conduct=30.0))
        wait_for(settled)
        [sent] = notifications(kind="score.alert")
        assert sent["status"] == "sent", sent["errors"]
        [payload] = hook.received
        assert payload["kind"] == "score.alert" and payload["data"]["threshold"] == 50
        assert datetime.fromisoformat(payload["data"]["computed_at"]).tzinfo is not None
    finally:
        running.stop()


def test_webhook_failing_twice_then_succeeding_is_delivered_once(notify_settings, smtp):
    flaky = WebhookReceiver(SECRET, fail_first=2).start()
    running = start(create_app, notify_settings, MemoryBus())
    fast_retries(running)
    try:
        deliver(running, unit("U1", emails=["u1@example.vn"], webhook=flaky.url),
                official("CB1", "U1"), rating("CB1", 1))
        wait_for(settled)
        hook = next(n for n in notifications() if n["channel"] == "webhook")
        assert hook["status"] == "sent" and hook["attempts"] == 3
        assert len(hook["errors"]) == 2 and "HTTP 500" in hook["errors"][0]
        assert len(flaky.received) == 1 and flaky.attempts == 3 and flaky.bad_signatures == 0
    finally:
        running.stop()
        flaky.stop()


def test_a_dead_webhook_ends_failed_and_blocks_nothing(notify_settings, smtp):
    dead = WebhookReceiver(SECRET, always_fail=True).start()
    running = start(create_app, notify_settings, MemoryBus())
    fast_retries(running)
    try:
        deliver(running, unit("U1", emails=["u1@example.vn"], webhook=dead.url),
                official("CB1", "U1"), rating("CB1", 1), rating("CB1", 5))
        wait_for(settled, timeout=15)
        by_channel = {n["channel"]: n for n in notifications()}
        assert by_channel["webhook"]["status"] == "failed"
        assert by_channel["webhook"]["attempts"] == 4
        assert by_channel["email"]["status"] == "sent"
        assert len(smtp.messages) == 1
        r = running.client.get("/api/v1/notifications?status=failed", headers=ADMIN)
        assert [n["channel"] for n in r.get_json()] == ["webhook"]
        metrics = running.client.get("/metrics").get_data(as_text=True)
        assert 'congso_notifications_total{channel="webhook",kind="rating.alert",' \
               'status="failed"}' in metrics
    finally:
        running.stop()
        dead.stop()


def test_without_smtp_url_email_is_skipped(mongo_url):
    running = start(create_app, make_settings("notify", mongo_url, webhook_secret=SECRET),
                    MemoryBus())
    try:
        deliver(running, unit("U1", emails=["u1@example.vn"]), official("CB1", "U1"),
                rating("CB1", 2))
        wait_for(settled)
        [n] = notifications()
        assert n["status"] == "skipped" and "SMTP_URL" in n["errors"][0]
    finally:
        running.stop()


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"kind":"rating.alert"}'
    header = signature("k", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature("k", body, header)
    assert not verify_signature("k", body + b" ", header)
    assert not verify_signature("other", body, header)
    assert not verify_signature("k", body, None)


def test_notification_log_filters_and_pages(people, smtp):
    deliver(people, unit("U2", emails=["u2@example.vn"]), official("CB2", "U2"),
            rating("CB1", 1), rating("CB2", 1), score("CB1", conduct=10.0))
    wait_for(settled)
    client = people.client
    r = client.get("/api/v1/notifications?unit=U1", headers=ADMIN)
    assert r.headers["X-Total-Count"] == "2"
    assert {n["kind"] for n in r.get_json()} == {"rating.alert", "score.alert"}
    r = client.get("/api/v1/notifications?kind=rating.alert&per_page=1&page=2", headers=ADMIN)
    assert r.headers["X-Total-Count"] == "2" and len(r.get_json()) == 1
    first = r.get_json()[0]
    assert set(first) >= CONTRACT_FIELDS and first["sent_at"] is not None
    assert client.get("/api/v1/notifications?kind=nope", headers=ADMIN).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401


def test_a_slow_webhook_holds_up_neither_email_nor_the_consumer(notify_settings, smtp):
    slow = WebhookReceiver(SECRET, delay=5.0).start()
    running = start(create_app, notify_settings, MemoryBus())
    fast_retries(running)
    try:
        deliver(running, unit("SLOW", emails=["slow@example.vn"], webhook=slow.url),
                unit("U2", emails=["u2@example.vn"]), official("CB1", "SLOW"),
                official("CB2", "U2"))
        deliver(running, rating("CB1", 1), rating("CB2", 1))  # returns: consumer not held
        wait_for(lambda: len(smtp.messages) == 2, timeout=4.5)  # both emails went out...
        hook = next(n for n in notifications() if n["channel"] == "webhook")
        assert hook["status"] == "pending"  # ...while the webhook was still being answered
        wait_for(settled, timeout=20)
        hook = next(n for n in notifications() if n["channel"] == "webhook")
        assert hook["status"] == "sent" and len(slow.received) == 1
    finally:
        running.stop()
        slow.stop()
