"""Channels: email and signed webhooks that fail, retry, never block each other, and the
notification log that shows it all."""

from __future__ import annotations

from datetime import UTC, datetime

from devkit.apps import ADMIN, make_settings
from services.notify.channels import EmailChannel, signature, verify_signature
from tests.conftest import wait_for
from tests.notify.conftest import SECRET
from tests.notify.helpers import (
    ctx,
    deliver,
    notifications,
    official,
    rating,
    score,
    settled,
    start_notify,
    unit,
)


def test_a_score_alert_reaches_a_webhook_with_its_data_as_json(notify, hook):
    from services.notify.alerts import flush_score_alerts
    from services.notify.domain import SCORE_FOLD_WINDOW

    deliver(notify, unit("U1", webhook=hook.url), official("CB1", "U1"),
            score("CB1", conduct=30.0))
    ctx(notify).scheduler.run(flush_score_alerts, "official:CB1",
                              now=datetime.now(UTC) + SCORE_FOLD_WINDOW)
    settled()
    [sent] = notifications(kind="score.alert")
    assert sent["status"] == "sent", sent["errors"]
    [payload] = hook.received
    assert payload["kind"] == "score.alert" and payload["data"]["threshold"] == 50
    assert datetime.fromisoformat(payload["data"]["computed_at"]).tzinfo is not None


def test_webhook_failing_twice_then_succeeding_is_delivered_once(notify, webhook_receiver):
    flaky = webhook_receiver(fail_first=2)
    deliver(notify, unit("U1", emails=["u1@example.vn"], webhook=flaky.url),
            official("CB1", "U1"), rating("CB1", 1))
    settled()
    hook = next(n for n in notifications() if n["channel"] == "webhook")
    assert hook["status"] == "sent" and hook["attempts"] == 3
    assert len(hook["errors"]) == 2 and "HTTP 500" in hook["errors"][0]
    assert len(flaky.received) == 1 and flaky.attempts == 3 and flaky.bad_signatures == 0


def test_a_dead_webhook_ends_failed_and_blocks_nothing(notify, smtp, webhook_receiver):
    dead = webhook_receiver(always_fail=True)
    deliver(notify, unit("U1", emails=["u1@example.vn"], webhook=dead.url),
            official("CB1", "U1"), rating("CB1", 1), rating("CB1", 5))
    settled(15)
    by_channel = {n["channel"]: n for n in notifications()}
    assert by_channel["webhook"]["status"] == "failed"
    assert by_channel["webhook"]["attempts"] == 4
    assert by_channel["email"]["status"] == "sent"
    assert len(smtp.messages) == 1
    r = notify.client.get("/api/v1/notifications?status=failed", headers=ADMIN)
    assert [n["channel"] for n in r.get_json()] == ["webhook"]
    metrics = notify.client.get("/metrics", headers=ADMIN).get_data(as_text=True)
    assert 'congso_notifications_total{channel="webhook",kind="rating.alert",' \
           'status="failed"}' in metrics


def test_stopping_while_a_send_waits_to_retry_leaves_it_pending_for_the_next_start(
        notify_settings, webhook_receiver):
    flaky = webhook_receiver(fail_first=1)
    first = start_notify(notify_settings)
    sender = ctx(first).sender
    sender.initial_delay = sender.max_delay = 30  # the retry would come long after the stop
    deliver(first, unit("U1", webhook=flaky.url), official("CB1", "U1"), rating("CB1", 1))
    wait_for(lambda: flaky.attempts == 1, message="the first attempt")
    [record] = wait_for(lambda: [n for n in notifications() if n["errors"]])
    first.stop()
    [record] = notifications()
    assert record["status"] == "pending" and "sending_until" not in record
    again = start_notify(notify_settings)  # its rescan picks it up at once
    try:
        settled()
        [record] = notifications()
        assert record["status"] == "sent" and record["attempts"] == 2
        assert len(flaky.received) == 1
    finally:
        again.stop()


def test_a_broken_record_fails_alone_in_the_rescan(notify, smtp):
    from services.notify.documents import Notification

    deliver(notify, unit("U1", emails=["u1@example.vn"]))
    coll = Notification._get_collection()
    now = datetime.now(UTC)
    coll.insert_one({"_id": "broken", "status": "pending", "created_at": now})  # no channel
    coll.insert_one({"_id": "good", "kind": "rating.alert", "unit": "U1", "channel": "email",
                     "recipient": "u1@example.vn", "status": "pending", "attempts": 0,
                     "errors": [], "subject": "S", "text": "T", "html": "<p>T</p>",
                     "created_at": now})
    assert sorted(ctx(notify).sender.rescan()) == ["broken", "good"]
    settled()
    assert {n["_id"]: n["status"] for n in notifications()} == {"broken": "failed",
                                                                "good": "sent"}
    assert len(smtp.messages) == 1


def test_without_smtp_url_email_is_skipped(mongo_url):
    running = start_notify(make_settings("notify", mongo_url, webhook_secret=SECRET))
    try:
        deliver(running, unit("U1", emails=["u1@example.vn"]), official("CB1", "U1"),
                rating("CB1", 2))
        settled()
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


CONTRACT_FIELDS = {"id", "kind", "unit", "deadline", "channel", "recipient", "status",
                   "attempts", "created_at", "sent_at"}


def test_notification_log_filters_and_pages(notify):
    deliver(notify, unit("U1", emails=["u1@example.vn"]), official("CB1", "U1"),
            unit("U2", emails=["u2@example.vn"]), official("CB2", "U2"),
            rating("CB1", 1), rating("CB2", 1), rating("CB1", 5))
    settled()
    client = notify.client
    r = client.get("/api/v1/notifications?unit=U1", headers=ADMIN)
    assert r.headers["X-Total-Count"] == "1"
    assert [n["kind"] for n in r.get_json()] == ["rating.alert"]
    r = client.get("/api/v1/notifications?kind=rating.alert&per_page=1&page=2", headers=ADMIN)
    assert r.headers["X-Total-Count"] == "2" and len(r.get_json()) == 1
    first = r.get_json()[0]
    assert set(first) >= CONTRACT_FIELDS and first["sent_at"] is not None
    assert client.get("/api/v1/notifications?kind=nope", headers=ADMIN).status_code == 422
    assert client.get("/api/v1/notifications").status_code == 401


def test_a_slow_webhook_holds_up_neither_email_nor_the_consumer(notify, smtp, gated):
    deliver(notify, unit("SLOW", emails=["slow@example.vn"], webhook=gated.url),
            unit("U2", emails=["u2@example.vn"]), official("CB1", "SLOW"),
            official("CB2", "U2"))
    deliver(notify, rating("CB1", 1), rating("CB2", 1))  # returns: consumer not held
    wait_for(gated.entered.is_set, message="the webhook in hand")
    wait_for(lambda: len(smtp.messages) == 2, message="both emails, the webhook held")
    hook = next(n for n in notifications() if n["channel"] == "webhook")
    assert hook["status"] == "pending"
    gated.gate.set()
    settled()
    hook = next(n for n in notifications() if n["channel"] == "webhook")
    assert hook["status"] == "sent" and len(gated.received) == 1


def test_a_long_vietnamese_subject_arrives_with_every_space(smtp):
    """Python 3.11's header folder dropped the space where it split a long subject."""
    subject = ("[Cảnh báo] Đánh giá dồn dập bị tạm giữ: cán bộ Nguyễn Thị Hồng Nhung, "
               "Quầy 12 - Tư pháp, hộ tịch, chứng thực")
    EmailChannel(smtp.url, "congso@example.vn").send(["a@example.vn"], subject, "x", "<p>x</p>")
    [mail] = smtp.messages
    assert mail["Subject"] == subject
