"""Deadlines: reminders at the right time, once; submissions; overdue escalation;
restarts and a second scheduler; the built-in calendar."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, start
from services.notify import scheduling
from services.notify.app import create_app
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for
from tests.notify.conftest import SECRET, fast_retries
from tests.notify.helpers import deliver, notifications, unit


def put(client, deadline_id, body):
    return client.put(f"/api/v1/deadlines/{deadline_id}", json=body, headers=ADMIN)


def body(due: datetime, units=("U1",), remind=("P1D",), **extra):
    return {"title": "Báo cáo kết quả thi đua", "due_at": due.isoformat(),
            "units": list(units), "remind_before": list(remind), **extra}


@pytest.fixture
def units(notify, smtp, hook):
    deliver(notify, unit("TINH", emails=["tinh@example.vn"]),
            unit("U1", emails=["u1@example.vn", "vanthu@example.vn"], webhook=hook.url,
                 parent="TINH"),
            unit("U2", emails=["u2@example.vn"], parent="TINH"))
    return notify


def reminders(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("[Nhắc hạn]")]


def service(running):
    return running.app.extensions["notify"].service


def settle(running, timeout=10):
    from services.notify.documents import Notification

    wait_for(lambda: not Notification._get_collection().count_documents({"status": "pending"}),
             timeout=timeout, message="notifications settled")


def test_deadline_validation(notify):
    due = datetime.now(UTC) + timedelta(days=10)
    for bad, field in [({"remind_before": ["7 days"]}, "remind_before"),
                       ({"remind_before": ["-P1D"]}, "remind_before"),
                       ({"units": ["*", "U1"]}, "units"),
                       ({"units": []}, "units"),
                       ({"due_at": "2026-12-01T00:00:00"}, "due_at"),
                       ({"escalate_to": "bad code"}, "escalate_to"),
                       ({"title": " \u00a0 "}, "title"),
                       ({"units": ["U1", "U2", "U1"]}, "units"),
                       ({"remind_before": ["P1D", "P1D"]}, "remind_before")]:
        r = put(notify.client, "d1", {**body(due), **bad})
        assert r.status_code == 422 and field in r.get_json()["errors"], bad
    assert put(notify.client, "d1", {**body(due), "title": "  Báo cáo năm "}).status_code == 201
    assert notify.client.get("/api/v1/deadlines/d1", headers=ADMIN).get_json()[
        "title"] == "Báo cáo năm"
    assert put(notify.client, "d1", body(due, remind=("P2D",))).status_code == 200
    assert notify.client.get("/api/v1/deadlines/d1", headers=ADMIN).get_json()[
        "remind_before"] == ["P2D"]
    assert put(notify.client, "d1", body(due)).status_code == 200
    assert notify.client.put("/api/v1/deadlines/d1", json=body(due)).status_code == 401


def test_reminder_goes_once_to_every_channel_of_each_unit_not_submitted(units, smtp, hook):
    due = datetime.now(UTC) + timedelta(days=3)
    put(units.client, "bc-2026", body(due, units=("U1", "U2"), remind=("P2D",)))
    units.client.post("/api/v1/deadlines/bc-2026/submissions/U2", headers=ADMIN)
    svc = service(units)
    created = svc.send_reminders("bc-2026", "P2D", now=due - timedelta(days=2))
    assert svc.send_reminders("bc-2026", "P2D", now=due - timedelta(days=2)) == []
    assert sorted(c.rsplit("|", 1)[1] for c in created) == ["email", "webhook"]
    settle(units)
    [mail] = smtp.messages
    assert mail["To"] == "u1@example.vn, vanthu@example.vn"
    assert "Nhắc hạn" in mail["Subject"] and "Báo cáo kết quả thi đua" in mail["Subject"]
    assert mail.get_body(("plain",)).get_content().startswith("Kính gửi Đơn vị U1")
    assert "<html" in mail.get_body(("html",)).get_content()
    [payload] = hook.received
    assert payload["kind"] == "deadline.reminder" and payload["unit"] == "U1"
    assert payload["data"]["deadline"] == "bc-2026" and hook.bad_signatures == 0
    assert [n["status"] for n in notifications()] == ["sent", "sent"]


def test_submission_is_for_a_unit_the_deadline_names(units):
    due = datetime.now(UTC) + timedelta(days=3)
    put(units.client, "only", body(due, units=("U1",)))
    put(units.client, "all", body(due, units=("*",)))
    post = units.client.post
    r = post("/api/v1/deadlines/only/submissions/U2", headers=ADMIN)
    assert r.status_code == 404 and r.get_json()["type"].endswith("unit-not-in-deadline")
    assert units.client.get("/api/v1/deadlines/only", headers=ADMIN).get_json()[
        "submitted"] == []
    first = post("/api/v1/deadlines/only/submissions/U1", headers=ADMIN)
    assert first.status_code == 200 and first.get_json()["unit"] == "U1"
    again = post("/api/v1/deadlines/only/submissions/U1", headers=ADMIN)
    assert again.get_json() == first.get_json()  # idempotent: the first time is kept
    # "*" is every unit, including one whose directory record has not reached notify yet
    assert post("/api/v1/deadlines/all/submissions/U9", headers=ADMIN).status_code == 200
    assert post("/api/v1/deadlines/nope/submissions/U1", headers=ADMIN).status_code == 404
    assert post("/api/v1/deadlines/only/submissions/U1").status_code == 401
    assert units.client.get("/api/v1/deadlines/only", headers=ADMIN).get_json()[
        "submitted"] == ["U1"]


def test_reminder_after_the_deadline_is_not_sent(units):
    due = datetime.now(UTC) + timedelta(days=1)
    put(units.client, "d", body(due))
    assert service(units).send_reminders("d", "P1D", now=due + timedelta(minutes=1)) == []


def test_real_time_reminder_a_few_seconds_away(units, smtp):
    due = datetime.now(UTC) + timedelta(seconds=5)
    r = put(units.client, "soon", body(due, remind=("PT3S",)))
    assert r.status_code == 201 and len(r.get_json()["reminders_at"]) == 1
    wait_for(lambda: reminders(smtp), timeout=15, message="the reminder email")
    time.sleep(1)
    assert len(reminders(smtp)) == 1
    # the SMTP server has the email a moment before the sender records it as sent
    [record] = wait_for(lambda: notifications(kind="deadline.reminder", channel="email",
                                              status="sent"), message="the record")
    assert record["sent_at"] >= due - timedelta(seconds=3.5)


def test_submitted_unit_is_not_reminded_in_real_time(units, smtp):
    due = datetime.now(UTC) + timedelta(seconds=4)
    put(units.client, "soon", body(due, units=("U1", "U2"), remind=("PT2S",)))
    units.client.post("/api/v1/deadlines/soon/submissions/U1", headers=ADMIN)
    wait_for(lambda: reminders(smtp), timeout=15)
    time.sleep(1)
    assert [m["To"] for m in reminders(smtp)] == ["u2@example.vn"]


def test_delete_cancels_the_reminders(units, smtp):
    due = datetime.now(UTC) + timedelta(seconds=4)
    put(units.client, "gone", body(due, remind=("PT2S",)))
    assert units.client.delete("/api/v1/deadlines/gone", headers=ADMIN).status_code == 204
    assert units.client.get("/api/v1/deadlines/gone", headers=ADMIN).status_code == 404
    assert not [j for j in units.app.extensions["notify"].scheduler.jobs()
                if "gone" in j["id"]]
    time.sleep(3)
    assert smtp.messages == []


def test_overdue_goes_daily_to_the_unit_and_its_escalation(units, smtp):
    due = datetime.now(UTC) - timedelta(hours=30)
    put(units.client, "late", body(due, units=("U1", "U2")))
    units.client.post("/api/v1/deadlines/late/submissions/U2", headers=ADMIN)
    svc = service(units)
    now = datetime.now(UTC)
    first = svc.send_overdue("late", now=now)
    assert svc.send_overdue("late", now=now + timedelta(minutes=5)) == []  # same day
    assert {(n["unit"], n.get("to_unit")) for n in notifications(kind="deadline.overdue")} == {
        ("U1", "U1"), ("U1", "TINH")}
    assert len(first) == 3  # U1 by email and webhook, the province by email
    tomorrow = svc.send_overdue("late", now=now + timedelta(days=1))
    assert len(tomorrow) == 3
    settle(units)
    escalation = [m for m in smtp.messages if m["To"] == "tinh@example.vn"]
    assert len(escalation) == 2 and "Đơn vị U1" in escalation[0]["Subject"]


def test_a_reminder_due_while_notify_was_down_is_sent_once_after_the_restart(
        notify_settings, smtp):
    running = start(create_app, notify_settings, MemoryBus())
    deliver(running, unit("U1", emails=["u1@example.vn"]))
    due = datetime.now(UTC) + timedelta(seconds=5)
    put(running.client, "gap", body(due, remind=("PT3S",)))
    running.stop()  # down across the reminder's time
    time.sleep(3)
    assert smtp.messages == []
    again = start(create_app, notify_settings, MemoryBus())  # same database: jobs kept
    fast_retries(again)
    try:
        wait_for(lambda: reminders(smtp), timeout=15, message="the missed reminder")
        time.sleep(2)
        assert len(reminders(smtp)) == 1
    finally:
        again.stop()


def test_notify_killed_after_its_job_left_the_store_still_reminds_once(
        notify_settings, smtp, monkeypatch):
    """The worst moment to die: APScheduler has taken the one-off reminder job out of its
    store and handed it to a thread, and nothing is claimed yet. The next scheduler to take
    the lease finds the reminder due, not done and without a job, and sends it, once."""
    from services.notify.documents import Lease
    from services.notify.service import NotifyService

    first = start(create_app, notify_settings, MemoryBus())
    deliver(first, unit("U1", emails=["u1@example.vn"]))
    entered, release = threading.Event(), threading.Event()

    def dies(self, deadline_id, offset, now=None):
        entered.set()
        release.wait(30)
        raise RuntimeError("killed: nothing after this point runs")

    monkeypatch.setattr(NotifyService, "send_reminders", dies)
    due = datetime.now(UTC) + timedelta(seconds=6)
    assert put(first.client, "crash", body(due, remind=("PT4S",))).status_code == 201
    dead = first.app.extensions["notify"].scheduler
    try:
        wait_for(entered.is_set, timeout=15, message="the reminder job started")
        assert dead.scheduler.get_job("reminder:crash:PT4S") is None  # out of the store
        # SIGKILL: the process stops acting and releases nothing; its lease runs out
        dead._stopping.set()
        dead._thread.join(5)  # its lease loop has stopped: it renews nothing any more
        dead.scheduler.shutdown(wait=False)
        Lease._get_collection().update_one(
            {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
        monkeypatch.undo()
        assert smtp.messages == []
        again = start(create_app, notify_settings, MemoryBus())
        fast_retries(again)
        try:
            wait_for(lambda: reminders(smtp), timeout=15, message="the reminder after the crash")
            time.sleep(1.5)
            assert len(reminders(smtp)) == 1
            assert again.app.extensions["notify"].scheduler.reconcile() == []  # nothing left
            time.sleep(1)
            assert len(reminders(smtp)) == 1
        finally:
            again.stop()
    finally:
        release.set()
        first.stop()


def test_reconcile_schedules_again_what_a_crash_after_saving_left_unscheduled(units):
    """Killed between saving a deadline and adding its jobs: the reconcile adds them, at
    their planned times, and leaves alone reminders that were already past at the save."""
    due = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    assert put(units.client, "late-jobs", body(due, remind=("P3D", "P20D"))).status_code == 201
    sched = units.app.extensions["notify"].scheduler
    for job_id in ("reminder:late-jobs:P3D", "overdue:late-jobs"):
        sched.scheduler.remove_job(job_id)
    touched = sched.reconcile()
    assert sorted(touched) == ["overdue:late-jobs", "reminder:late-jobs:P3D"]
    assert sched.scheduler.get_job("reminder:late-jobs:P3D").next_run_time == due - timedelta(
        days=3)
    assert sched.scheduler.get_job("reminder:late-jobs:P20D") is None  # past when saved
    assert sched.reconcile() == []


def test_two_schedulers_at_once_send_once(units, smtp):
    from mongoengine.connection import get_db

    from services.notify.documents import ALIAS

    ctx = units.app.extensions["notify"]
    second = scheduling.Scheduler(get_db(ALIAS).client, get_db(ALIAS).name)
    second.start()
    try:
        wait_for(lambda: ctx.scheduler.active or second.active, timeout=5)
        time.sleep(1.5)
        assert [ctx.scheduler.active, second.active].count(True) == 1
        due = datetime.now(UTC) + timedelta(seconds=4)
        put(units.client, "twice", body(due, remind=("PT2S",)))
        wait_for(lambda: reminders(smtp), timeout=15)
        time.sleep(2)
        assert len(reminders(smtp)) == 1
    finally:
        second.stop()


def test_builtin_calendar(notify):
    year = datetime.now(UTC).year + 1
    r = notify.client.post("/api/v1/calendar", json={"year": year}, headers=ADMIN)
    assert r.status_code == 200
    [deadline] = r.get_json()
    assert deadline["id"] == f"danh-gia-xep-loai-{year}"
    assert deadline["due_at"].startswith(f"{year}-12-14T17:00:00")  # 15/12 00:00 in Hà Nội
    assert deadline["units"] == ["*"]
    assert deadline["remind_before"] == ["P30D", "P14D", "P7D", "P3D", "P1D"]
    assert len(deadline["reminders_at"]) == 5
    assert notify.client.post("/api/v1/calendar", json={"year": 1999},
                              headers=ADMIN).status_code == 422


def test_units_star_means_every_known_unit(units):
    due = datetime.now(UTC) + timedelta(days=2)
    put(units.client, "all", body(due, units=("*",)))
    created = service(units).send_reminders("all", "P1D", now=due - timedelta(days=1))
    assert {c.split("|")[2] for c in created} == {"TINH", "U1", "U2"}


def test_webhook_secret_is_the_settings_one(notify):
    assert notify.settings.webhook_secret == SECRET


def test_calendar_loaded_at_start_when_asked(mongo_url, smtp):
    from devkit.apps import make_settings

    settings = make_settings("notify", mongo_url, smtp_url=smtp.url, load_calendar=True)
    running = start(create_app, settings, MemoryBus())
    try:
        ids = [d["id"] for d in running.client.get("/api/v1/deadlines", headers=ADMIN).get_json()]
        year = datetime.now(settings.tz).year
        upcoming = [y for y in (year, year + 1)
                    if datetime(y, 12, 15, tzinfo=settings.tz) > datetime.now(UTC)]
        assert ids == [f"danh-gia-xep-loai-{y}" for y in upcoming]
    finally:
        running.stop()
