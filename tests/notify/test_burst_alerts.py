"""Held ratings in notify: a burst alerts the unit's manager and the parent unit once per
burst id (whatever the number of ratings, redeliveries or restarts); low ratings alert
only in a state that counts, a held one once accepted, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.alerts import flush_rating_alerts
from services.notify.burst_domain import BURST_ALERT_DELAY
from services.notify.held import flush_burst_alert
from shared import events as ev
from shared import integrity_events as integrity
from tests.conftest import wait_for
from tests.notify.helpers import (
    ctx,
    deliver,
    notifications,
    official,
    run_job,
    settled,
    start_notify,
    unit,
)

LATER = BURST_ALERT_DELAY + timedelta(seconds=1)


def held(official_code, burst, *, overall=5, rid=None, given_at=None, counter="Q1",
         unit_code="U1", reasons=(integrity.BURST,), version=1, status=integrity.HELD,
         changed=False, submitted_at=None):
    """A rating as survey publishes it with its state: stored (`rating.submitted`) or
    changed later (`rating.status_changed`, `changed`)."""
    rid = rid or uuid.uuid4().hex
    now = datetime.now(UTC)
    data = {"id": rid, "client_id": str(uuid.uuid4()), "counter": counter,
            "counter_label": f"Quầy {counter[1:]} - Tư pháp", "unit": unit_code,
            "official": official_code, "overall": overall,
            "submitted_at": submitted_at or now, "given_at": given_at or now,
            "status": status, "reasons": list(reasons), "burst": burst,
            "status_version": version}
    kind = integrity.RATING_STATUS_CHANGED if changed else ev.RATING_SUBMITTED
    event_id = f"rating-status-{rid}-{version}" if changed else f"rating-{rid}"
    return ev.make_event(kind, data, source=ev.SOURCES["survey"], id=event_id)


def counted(official_code, overall, **options):
    return held(official_code, None, overall=overall, reasons=(), status=integrity.COUNTED,
                **options)


@pytest.fixture
def people(notify, hook):
    deliver(notify,
            unit("P1", name="Sở Tư pháp", emails=["so@example.vn"], webhook=hook.url),
            unit("U1", name="Phòng Hộ tịch", parent="P1", emails=["u1@example.vn"],
                 managers=["CB9"]),
            official("CB1", "U1", "Lê Văn An"),
            official("CB9", "U1", "Trần Thị Bình", email="binh@example.vn"))
    return notify


def flush(running, burst, *, after=LATER):
    return run_job(running, flush_burst_alert, burst, now=datetime.now(UTC) + after)


def body(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def to(smtp, address):
    return [m for m in smtp.messages if address in m["To"]]


def burst_of(official_code, n, *, start=None, **options):
    start = start or datetime.now(UTC) - timedelta(minutes=2)
    burst = options.pop("burst", "b-one")
    return [held(official_code, burst,
                 given_at=start + timedelta(seconds=3 * i), **options) for i in range(n)]


def test_a_burst_of_forty_alerts_the_manager_and_the_parent_once(people, smtp, hook):
    ratings = burst_of("CB1", 40)
    deliver(people, *ratings)
    assert notifications(kind="burst.alert") == []  # it waits to count the burst
    assert "burst-flush:b-one" in [j["id"] for j in ctx(people).scheduler.jobs()]

    created = flush(people, "b-one")
    assert sorted(c.split("|", 2)[2] for c in created) == [
        "manager:CB9|email", "parent|email", "parent|webhook"]
    settled()
    [mine], [parents] = to(smtp, "binh@example.vn"), to(smtp, "so@example.vn")
    assert len(smtp.messages) == 2 and to(smtp, "u1@example.vn") == []
    assert mine["Subject"] == "[Cảnh báo] Đánh giá dồn dập bị tạm giữ: cán bộ Lê Văn An"
    text = body(mine)
    assert text.startswith("Kính gửi Trần Thị Bình,")
    assert "tạm giữ 40 đánh giá cho cán bộ Lê Văn An (CB1), thuộc Phòng Hộ tịch (U1)" in text
    assert "Quầy: Quầy 1 - Tư pháp." in text
    page = f"{people.settings.public_base_url}/ratings/held?unit=U1"
    assert f"\n{page}\n" in text and page in mine.get_body(("html",)).get_content()
    assert body(parents).startswith("Kính gửi Sở Tư pháp,")
    assert "held 40 ratings for official Lê Văn An (CB1), in Phòng Hộ tịch" in body(parents)
    [payload] = hook.received
    assert payload["kind"] == "burst.alert" and payload["unit"] == "U1"
    assert payload["data"]["held"] == 40 and payload["data"]["burst"] == "b-one"
    assert payload["data"]["url"] == page
    # never where the ratings came from: the events do not carry it, nor does the alert
    assert set(payload["data"]) == {"burst", "unit", "official", "counters", "held",
                                    "first_given_at", "last_given_at", "url"}

    # redelivered, later ratings of the same burst, the flush run again: nothing more
    deliver(people, *ratings, *burst_of("CB1", 5, start=datetime.now(UTC)))
    assert flush(people, "b-one") == []
    assert ctx(people).scheduler.reconcile(now=datetime.now(UTC) + LATER) == []
    settled()
    assert len(smtp.messages) == 2 and len(hook.received) == 1


def test_a_second_burst_later_is_a_second_alert(people, smtp, hook):
    deliver(people, *burst_of("CB1", 15))
    flush(people, "b-one")
    later = datetime.now(UTC) + timedelta(hours=2)
    deliver(people, *burst_of("CB1", 12, start=later, burst="b-two"))
    [created] = [flush(people, "b-two")]
    assert len(created) == 3
    settled()
    assert len(to(smtp, "binh@example.vn")) == 2 and len(hook.received) == 2
    assert [p["data"]["held"] for p in hook.received] == [15, 12]


def test_redelivery_and_restart_send_no_duplicate(notify_settings, smtp, hook):
    first = start_notify(notify_settings)
    deliver(first, unit("P1", emails=["so@example.vn"], webhook=hook.url),
            unit("U1", parent="P1", managers=["CB9"]),
            official("CB9", "U1", email="binh@example.vn"))
    ratings = burst_of("CB1", 40)
    deliver(first, *ratings[:20])
    first.stop()  # before its alert's time: the job stays in notify's database
    again = start_notify(notify_settings)
    try:
        deliver(again, *ratings)  # the broker redelivers what was not acked, and the rest
        assert "burst-flush:b-one" in [j["id"] for j in ctx(again).scheduler.jobs()]
        # the job is lost (a crash as it ran): the reconcile sends it, once
        ctx(again).scheduler.scheduler.remove_job("burst-flush:b-one")
        assert ctx(again).scheduler.reconcile(now=datetime.now(UTC) + LATER) == [
            "burst-flush:b-one"]
        settled()
        assert len(smtp.messages) == 2 and len(hook.received) == 1
        assert hook.received[0]["data"]["held"] == 40
    finally:
        again.stop()
    third = start_notify(notify_settings)
    try:
        deliver(third, *ratings)
        assert flush(third, "b-one") == []
        assert ctx(third).scheduler.reconcile(now=datetime.now(UTC) + LATER) == []
        settled()
        assert len(smtp.messages) == 2 and len(hook.received) == 1
    finally:
        third.stop()


def test_the_alert_goes_by_itself_when_its_time_comes(people, smtp, monkeypatch):
    monkeypatch.setattr("services.notify.burst_domain.BURST_ALERT_DELAY",
                        timedelta(milliseconds=300))
    deliver(people, *burst_of("CB1", 11))
    wait_for(lambda: len(smtp.messages) == 2, timeout=15, message="the burst alert")


def test_without_a_managers_email_the_unit_hears_and_a_counter_burst_names_the_counter(
        notify, smtp):
    deliver(notify, unit("U2", name="Phòng Một cửa", emails=["u2@example.vn"],
                         managers=["CB8"]),
            official("CB8", "U2"))  # a manager without an email
    deliver(notify, *burst_of(None, 12, counter="Q7", unit_code="U2", burst="b-q7"))
    assert len(flush(notify, "b-q7")) == 1
    settled()
    [mail] = smtp.messages
    assert mail["To"] == "u2@example.vn"
    assert mail["Subject"] == "[Cảnh báo] Đánh giá dồn dập bị tạm giữ: Quầy 7 - Tư pháp"
    assert ("12 đánh giá về Quầy 7 - Tư pháp (không nêu tên cán bộ), thuộc Phòng Một cửa "
            "(U2)") in body(mail)


def test_a_burst_known_only_from_its_status_changes_alerts_once(people, smtp):
    """A late-arriving rating makes survey hold ratings stored as counted: their
    `rating.status_changed` start the burst."""
    ids = [uuid.uuid4().hex for _ in range(12)]
    deliver(people, *(counted("CB1", 5, rid=i) for i in ids))
    changes = [held("CB1", "b-late", rid=i, version=2, changed=True) for i in ids]
    deliver(people, *changes, *changes)
    assert len(flush(people, "b-late")) == 3
    settled()
    assert "tạm giữ 12 đánh giá" in body(to(smtp, "binh@example.vn")[0])


def test_an_old_burst_replayed_alerts_nobody(people, smtp):
    old = datetime.now(UTC) - timedelta(days=3)
    deliver(people, *burst_of("CB1", 20, start=old, submitted_at=old))
    assert flush(people, "b-one") == []
    assert ctx(people).scheduler.reconcile(now=datetime.now(UTC) + LATER) == []


def test_held_low_ratings_do_not_alert_as_low_ratings(people, smtp):
    deliver(people, *burst_of("CB1", 30, overall=1))
    assert notifications(kind="rating.alert") == []
    flush(people, "b-one")
    settled()
    assert {m["Subject"] for m in smtp.messages} == {
        "[Cảnh báo] Đánh giá dồn dập bị tạm giữ: cán bộ Lê Văn An"}


def test_a_held_low_rating_alerts_when_accepted_once(people, smtp):
    rid = uuid.uuid4().hex
    stored = held("CB1", None, overall=1, rid=rid, reasons=(integrity.OUTSIDE_HOURS,))
    accepted = held("CB1", None, overall=1, rid=rid, reasons=(integrity.OUTSIDE_HOURS,),
                    status=integrity.ACCEPTED, version=2, changed=True)
    deliver(people, stored)
    assert notifications(kind="rating.alert") == []
    deliver(people, accepted, accepted, stored)
    settled()
    [alert] = notifications(kind="rating.alert", channel="email")
    assert alert["data"]["ratings"][0]["id"] == rid
    rejected = held("CB1", None, overall=2, reasons=(integrity.RECEIPT_FORMAT,),
                    status=integrity.REJECTED, version=2, changed=True)
    deliver(people, rejected)
    assert len(notifications(kind="rating.alert", channel="email")) == 1


def test_an_older_state_arriving_after_a_newer_one_changes_nothing(people, smtp):
    rid = uuid.uuid4().hex
    deliver(people, held("CB1", "b-x", overall=1, rid=rid, version=2, changed=True),
            counted("CB1", 1, rid=rid))  # counted at first, held since: no alert
    assert notifications(kind="rating.alert") == []


def test_a_low_rating_held_while_waiting_for_its_folded_alert_leaves_it(people, smtp):
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    deliver(people, counted("CB1", 1, rid=first))  # alerted at once: the hour begins
    deliver(people, counted("CB1", 2, rid=second))  # waits for the next alert
    deliver(people, held("CB1", "b-x", overall=2, rid=second, version=2, changed=True))

    assert run_job(people, flush_rating_alerts, "CB1",
                   now=datetime.now(UTC) + timedelta(hours=1)) == []
    settled()
    assert len(notifications(kind="rating.alert", channel="email")) == 1
    # accepted later: it alerts then, being new to the unit
    deliver(people, held("CB1", "b-x", overall=2, rid=second, version=3, changed=True,
                         status=integrity.ACCEPTED))
    run_job(people, flush_rating_alerts, "CB1", now=datetime.now(UTC) + timedelta(hours=2))
    settled()
    alerts = notifications(kind="rating.alert", channel="email")
    assert [[r["id"] for r in a["data"]["ratings"]] for a in alerts] == [[first], [second]]


def test_a_directory_replay_fills_the_managers_a_copy_made_before_lacks(people, smtp):
    """Units and officials copied before notify kept managers and emails: the same
    version replayed fills them in (a newer one is needed for nothing else)."""
    from services.notify.documents import OfficialContact, UnitContact

    UnitContact._get_collection().update_one({"_id": "U1"}, {"$unset": {"managers": ""}})
    OfficialContact._get_collection().update_one({"_id": "CB9"}, {"$unset": {"email": ""}})
    assert ctx(people).store.managers_of("U1") == []
    deliver(people, unit("U1", name="Phòng Hộ tịch", parent="P1", managers=["CB9"]),
            official("CB9", "U1", "Trần Thị Bình", email="binh@example.vn"))
    assert [m["email"] for m in ctx(people).store.managers_of("U1")] == ["binh@example.vn"]
    # an inactive manager hears nothing
    deliver(people, official("CB9", "U1", email="binh@example.vn", active=False, version=2))
    assert ctx(people).store.managers_of("U1") == []
