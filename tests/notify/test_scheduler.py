"""The scheduler: jobs kept in notify's database and given their dependencies when they
run, exactly once across restarts, a crash at the worst moment, and two schedulers; the
reconcile that recovers what a crash lost. One test waits for a reminder in real time;
the others move the jobs' time themselves."""

from __future__ import annotations

import pickle
import threading
from datetime import UTC, datetime, timedelta

import pytest
from mongoengine.connection import get_db

from devkit.apps import ADMIN
from services.notify.alerts import flush_rating_alerts
from services.notify.deadlines import send_reminders
from services.notify.documents import ALIAS, Lease
from services.notify.domain import RATING_ALERT_WINDOW, SCORE_FOLD_WINDOW
from services.notify.injection import INJECTED
from services.notify.scheduling import Scheduler
from tests.conftest import wait_for
from tests.notify.helpers import (
    ctx,
    deliver,
    notifications,
    official,
    rating,
    run_job,
    score,
    settled,
    start_notify,
    unit,
)

CALLS: list = []


def record_call(label: str, *, calls=INJECTED, now=None) -> None:
    """A job for the test below: it appends to the list the scheduler injects."""
    calls.append(label)


def put(client, deadline_id, due, remind=("P1D",), units=("U1",)):
    r = client.put(f"/api/v1/deadlines/{deadline_id}", headers=ADMIN, json={
        "title": "Báo cáo kết quả thi đua", "due_at": due.isoformat(), "units": list(units),
        "remind_before": list(remind)})
    assert r.status_code in (200, 201), r.get_json()
    return r


def reminders(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("[Nhắc hạn]")]


def known_unit(running, code="U1"):
    """Notify knows the unit (as from its directory event) even with no consumer running."""
    ctx(running).store.upsert_unit(code, 1, {"name": f"Đơn vị {code}", "parent": None,
                                             "emails": [f"{code.lower()}@example.vn"],
                                             "webhook_url": None})


def bring_forward(running, job_id: str, when: datetime) -> None:
    """Move a stored job's time (what waiting for it would do, without the wait)."""
    ctx(running).scheduler.scheduler.modify_job(job_id, next_run_time=when)


def test_jobs_get_the_dependencies_of_the_process_running_them_never_stored_ones(notify):
    calls: list = []
    db = get_db(ALIAS)
    sched = Scheduler(db.client, db.name, store=ctx(notify).store, deps={"calls": calls})
    ctx(notify).scheduler.stop_lease()  # this one runs the jobs
    sched.start()
    try:
        wait_for(lambda: sched.active, message="the lease")
        later = datetime.now(UTC) + timedelta(days=1)
        sched.scheduler.add_job(record_call, "date", run_date=later, args=["hello"],
                                id="probe")
        stored = pickle.loads(db["jobs"].find_one({"_id": "probe"})["job_state"])
        assert stored["func"] == "tests.notify.test_scheduler:record_call"
        assert stored["args"] == ("hello",) and stored["kwargs"] == {}
        sched.scheduler.modify_job("probe", next_run_time=datetime.now(UTC))
        wait_for(lambda: calls, message="the job, run with its dependency")
        assert calls == ["hello"]
    finally:
        sched.stop()
    with pytest.raises(RuntimeError, match="not injected"):
        send_reminders("d", "P1D")  # called outside the scheduler


def test_real_time_reminder_a_few_seconds_away(units_notify, smtp):
    due = datetime.now(UTC) + timedelta(seconds=3)
    r = put(units_notify.client, "soon", due, remind=("PT2S",))
    assert r.status_code == 201 and len(r.get_json()["reminders_at"]) == 1
    wait_for(lambda: reminders(smtp), timeout=15, message="the reminder email")
    settled()
    [record] = notifications(kind="deadline.reminder", status="sent")
    assert record["sent_at"] >= due - timedelta(seconds=2)
    assert len(reminders(smtp)) == 1


@pytest.fixture
def units_notify(notify):
    deliver(notify, unit("U1", emails=["u1@example.vn"]), unit("U2", emails=["u2@example.vn"]))
    return notify


def test_a_reminder_due_while_notify_was_down_is_sent_once_after_the_restart(
        notify_settings, smtp):
    first = start_notify(notify_settings, background=False)  # it never runs its jobs
    known_unit(first)
    due = datetime.now(UTC) + timedelta(days=3)
    put(first.client, "gap", due, remind=("P2D",))
    # the reminder's time passes while notify is down
    bring_forward(first, "reminder:gap:P2D", datetime.now(UTC) - timedelta(hours=1))
    first.stop()
    again = start_notify(notify_settings)  # same database: jobs kept
    try:
        wait_for(lambda: reminders(smtp), message="the missed reminder")
        settled()
        assert len(reminders(smtp)) == 1
        assert again.app.extensions["notify"].scheduler.reconcile() == []
    finally:
        again.stop()


class DiesInTheJob:
    """The sender of a process killed while its reminder job runs: nothing is claimed."""

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def notify_unit(self, *args, **kwargs):
        self.entered.set()
        self.release.wait(30)
        raise RuntimeError("killed: nothing after this point runs")


def test_notify_killed_after_its_job_left_the_store_still_reminds_once(notify_settings, smtp):
    """The worst moment to die: APScheduler has taken the one-off reminder job out of its
    store and handed it to a thread, and nothing is claimed yet. The next scheduler to take
    the lease finds the reminder due, not done and without a job, and sends it, once."""
    first = start_notify(notify_settings)
    known_unit(first)
    dying = DiesInTheJob()
    dead = ctx(first).scheduler
    dead.deps["sender"] = dying
    try:
        # the reminder is planned a second from now; the test runs its job at once
        due = datetime.now(UTC) + timedelta(days=2, seconds=1)
        put(first.client, "crash", due, remind=("P2D",))
        bring_forward(first, "reminder:crash:P2D", datetime.now(UTC))
        wait_for(dying.entered.is_set, message="the reminder job started")
        assert dead.scheduler.get_job("reminder:crash:P2D") is None  # out of the store
        # SIGKILL: the process stops acting and releases nothing; its lease runs out
        dead._loop.stop(5)
        dead.scheduler.shutdown(wait=False)
        Lease._get_collection().update_one(
            {}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
        assert smtp.messages == []
        again = start_notify(notify_settings)
        try:
            # its reconcile on taking the lease sends it (or, a moment early, plans it
            # again for its time, a second after the save)
            wait_for(lambda: reminders(smtp), message="the reminder after the crash")
            settled()
            assert ctx(again).scheduler.reconcile() == []  # nothing left to recover
            assert len(reminders(smtp)) == 1
        finally:
            again.stop()
    finally:
        dying.release.set()
        first.stop()


def test_a_stopped_scheduler_woken_at_its_stop_drops_no_job(notify_settings):
    """APScheduler turns a paused scheduler into a stopped one; a wake-up arriving then
    (a job just added or moved) made it process the due jobs once more, fail to hand
    them to the closed executor, and drop them from the store."""
    running = start_notify(notify_settings, background=False)  # paused: not the holder
    known_unit(running)
    sched = ctx(running).scheduler
    put(running.client, "d", datetime.now(UTC) + timedelta(days=3), remind=("P2D",))
    bring_forward(running, "reminder:d:P2D", datetime.now(UTC) - timedelta(minutes=1))
    running.stop()
    sched.scheduler._process_jobs()  # what its main loop does when woken just then
    assert get_db(ALIAS)["jobs"].find_one({"_id": "reminder:d:P2D"}) is not None


def test_reconcile_schedules_again_what_a_crash_after_saving_left_unscheduled(units_notify):
    """Killed between saving a deadline and adding its jobs: the reconcile adds them, at
    their planned times, and leaves alone reminders that were already past at the save."""
    due = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    put(units_notify.client, "late-jobs", due, remind=("P3D", "P20D"))
    sched = ctx(units_notify).scheduler
    for job_id in ("reminder:late-jobs:P3D", "overdue:late-jobs"):
        sched.scheduler.remove_job(job_id)
    touched = sched.reconcile()
    assert sorted(touched) == ["overdue:late-jobs", "reminder:late-jobs:P3D"]
    assert sched.scheduler.get_job("reminder:late-jobs:P3D").next_run_time == due - timedelta(
        days=3)
    assert sched.scheduler.get_job("reminder:late-jobs:P20D") is None  # past when saved
    assert sched.reconcile() == []


def test_a_broken_deadline_record_does_not_stop_the_reconcile(units_notify, smtp):
    """Records planted straight in the database (year 1, a due time that is not a time):
    each is logged and skipped, and the pass still recovers the other deadlines."""
    from services.notify.documents import Deadline

    now = datetime.now(UTC)
    coll = Deadline._get_collection()
    for deadline_id, due in (("a-year-one", datetime(1, 1, 1, tzinfo=UTC)),
                             ("b-not-a-time", "tomorrow")):
        coll.insert_one({"_id": deadline_id, "title": "x", "due_at": due, "units": ["U1"],
                         "remind_before": ["P1D"], "deleted": False,
                         "scheduled_at": now - timedelta(days=400), "version": 1})
    due = now + timedelta(days=3)
    put(units_notify.client, "c-good", due, remind=("P2D",))
    sched = ctx(units_notify).scheduler
    sched.scheduler.remove_job("reminder:c-good:P2D")  # lost in a crash
    touched = sched.reconcile(now=due - timedelta(days=2) + timedelta(minutes=1))
    assert "reminder:c-good:P2D" in touched
    settled()
    assert [m["To"] for m in reminders(smtp)] == ["u1@example.vn"]


def test_two_schedulers_at_once_run_jobs_in_one_and_send_once(units_notify, smtp):
    first = ctx(units_notify).scheduler
    db = get_db(ALIAS)
    second = Scheduler(db.client, db.name, store=first.store,
                       deps={"sender": ctx(units_notify).sender, "tz": units_notify.settings.tz})
    second.start()
    try:
        wait_for(lambda: first.active or second.active, message="a lease holder")
        now = datetime.now(UTC)
        for sched in (first, second, first, second):
            sched.lease_step(now)
        assert [first.active, second.active].count(True) == 1
        holder, other = (first, second) if first.active else (second, first)
        # both run the same reminder at once (as if the lease had failed): one send each
        due = now + timedelta(days=3)
        put(units_notify.client, "twice", due, remind=("P2D",))
        at = due - timedelta(days=2)
        runs = [threading.Thread(target=s.run, args=(send_reminders, "twice", "P2D"),
                                 kwargs={"now": at}) for s in (holder, other)]
        for t in runs:
            t.start()
        for t in runs:
            t.join(10)
        settled()
        assert len(reminders(smtp)) == 1
        # the holder dies without a word: after its lease runs out the other takes over
        holder._loop.stop(5)
        later = now + holder.lease_ttl + timedelta(seconds=1)
        other.lease_step(later)
        assert other.active
    finally:
        second.stop()


def test_deleting_a_deadline_keeps_the_jobs_of_one_whose_id_it_begins(units_notify):
    due = datetime.now(UTC) + timedelta(days=10)
    put(units_notify.client, "bc", due)
    put(units_notify.client, "bc-2026", due)
    assert units_notify.client.delete("/api/v1/deadlines/bc", headers=ADMIN).status_code == 204
    assert sorted(j["id"] for j in ctx(units_notify).scheduler.jobs()) == [
        "overdue:bc-2026", "reminder:bc-2026:P1D"]


def test_held_low_ratings_whose_flush_job_was_lost_go_out_at_the_reconcile(units_notify,
                                                                            smtp):
    deliver(units_notify, official("CB1", "U1"), rating("CB1", 1), rating("CB1", 2))
    sched = ctx(units_notify).scheduler
    sched.scheduler.remove_job("rating-flush:CB1")  # a crash took it out of the store
    assert sched.reconcile() == ["rating-flush:CB1"]  # the hour is not over: scheduled
    sched.scheduler.remove_job("rating-flush:CB1")
    sched.reconcile(now=datetime.now(UTC) + RATING_ALERT_WINDOW)
    settled()
    assert len(notifications(kind="rating.alert")) == 2
    assert run_job(units_notify, flush_rating_alerts, "CB1", now=None) == []


def test_score_crossings_whose_flush_job_was_lost_go_out_at_the_reconcile(units_notify,
                                                                           smtp):
    deliver(units_notify, official("CB1", "U1"), score("CB1", conduct=20.0))
    sched = ctx(units_notify).scheduler
    sched.scheduler.remove_job("score-flush:official:CB1")
    assert sched.reconcile() == ["score-flush:official:CB1"]  # scheduled again
    sched.scheduler.remove_job("score-flush:official:CB1")
    sched.reconcile(now=datetime.now(UTC) + SCORE_FOLD_WINDOW)
    settled()
    [alert] = notifications(kind="score.alert")
    assert alert["status"] == "sent" and len(smtp.messages) == 1
