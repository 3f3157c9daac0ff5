"""Scheduled reminders, overdue runs and folded alerts: APScheduler 3.11, jobs in notify's
own database, and a lease so one scheduler acts at a time however many processes run.

Job choices, on purpose:
- every job has an explicit id (`reminder:<deadline>:<offset>`, `overdue:<deadline>`,
  `rating-flush:<official>`) and is added with `replace_existing=True`, so rescheduling
  a deadline replaces its jobs instead of adding copies;
- `misfire_grace_time=None`: a job whose time passed while notify was down still runs
  when it comes back (a reminder is never silently skipped);
- `coalesce=True`: however many runs were missed, it runs once (never a burst of copies);
- the sends themselves are claimed by key, so even a job run twice sends once.

APScheduler removes a one-off job from its store when it hands the job to a thread, before
the job has done anything; a process killed in between would lose that reminder. So the
lease holder also reconciles (on taking the lease, then every minute): a reminder whose
time has come, that was planned when the deadline was saved and is not marked done, runs
now; a planned reminder or overdue run whose job is missing is scheduled again.
Job functions are module-level (the job store keeps them by reference) and reach the
running service through `bind()`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from pymongo.errors import DuplicateKeyError

from services.notify.documents import Deadline, Lease
from services.notify.service import NotifyService, parse_duration

logger = logging.getLogger(__name__)

_service: NotifyService | None = None
LEASE_ID = "notify-scheduler"
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}


def bind(service: NotifyService) -> None:
    global _service
    _service = service


def run_reminder(deadline_id: str, offset: str) -> None:
    if _service is not None:
        _service.send_reminders(deadline_id, offset)


def run_overdue(deadline_id: str) -> None:
    if _service is not None:
        _service.send_overdue(deadline_id)


def run_rating_flush(subject: str) -> None:
    if _service is not None:
        _service.flush_rating_alerts(subject)


class Scheduler:
    """A BackgroundScheduler that runs jobs only while this process holds the lease."""

    def __init__(self, client, database: str, *, lease_ttl: float = 30.0,
                 check_interval: float = 1.0, reconcile_interval: float = 60.0):
        self._store = MongoDBJobStore(client=client, database=database, collection="jobs")
        self.scheduler = BackgroundScheduler(jobstores={"default": self._store},
                                             job_defaults=JOB_DEFAULTS, timezone=UTC)
        self.holder = uuid.uuid4().hex
        self.lease_ttl = timedelta(seconds=lease_ttl)
        self._check_interval = check_interval
        self._reconcile_interval = reconcile_interval
        self._reconciled_at = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False

    # --- lifecycle and lease ------------------------------------------------------------

    def start(self) -> None:
        self.start_store()
        self.start_lease()

    def start_store(self) -> None:
        """Open the job store (paused): enough to add and remove jobs, runs none."""
        self._start_scheduler()

    def start_lease(self) -> None:
        """Compete for the lease; while held, run the jobs."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._lease_loop, daemon=True,
                                        name="notify-lease")
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_lease(timeout)
        self.stop_store()

    def stop_store(self, timeout: float = 10.0) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def stop_lease(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.active and self.scheduler.running:
            self.scheduler.pause()
        self.active = False
        self._release()

    def _start_scheduler(self) -> bool:
        """Start (paused) once the job store's database answers; False while it does not."""
        if self.scheduler.running:
            return True
        try:
            self.scheduler.start(paused=True)
        except Exception as exc:
            logger.warning("scheduler not started, its database is unreachable: %s", exc)
            return False
        return True

    def _lease_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._start_scheduler():
                self._stopping.wait(5.0)
                continue
            try:
                held = self._acquire()
            except Exception as exc:
                logger.warning("scheduler lease check failed: %s", exc)
                held = False
            if held and not self.active:
                logger.info("scheduler %s holds the lease: running jobs", self.holder[:8])
                self.scheduler.resume()
                self.active = True
                self._reconcile_soon()
            elif held and time.monotonic() - self._reconciled_at >= self._reconcile_interval:
                self._reconcile_soon()
            elif held:
                # jobs may have been added by another process: look at the store again
                self.scheduler.wakeup()
            elif not held and self.active:
                logger.info("scheduler %s lost the lease: pausing", self.holder[:8])
                self.scheduler.pause()
                self.active = False
            self._stopping.wait(self._check_interval)

    def _acquire(self) -> bool:
        now = datetime.now(UTC)
        coll = Lease._get_collection()
        try:
            coll.update_one(
                {"_id": LEASE_ID, "$or": [{"holder": self.holder}, {"expires_at": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "expires_at": now + self.lease_ttl}},
                upsert=True)
        except DuplicateKeyError:
            return False  # held by another live scheduler
        doc = coll.find_one({"_id": LEASE_ID})
        return bool(doc) and doc["holder"] == self.holder

    def _reconcile_soon(self) -> None:
        self._reconciled_at = time.monotonic()
        try:
            self.reconcile()
        except Exception:
            logger.exception("reconciling deadlines with their jobs failed")

    def reconcile(self, now: datetime | None = None) -> list[str]:
        """Run reminders that are due but neither done nor scheduled (a crash took their
        job) and schedule again what is planned but missing; return the job ids touched."""
        now = now or datetime.now(UTC)
        touched = []
        scheduled = {job.id for job in self.scheduler.get_jobs()}
        for deadline in Deadline._get_collection().find({"deleted": False}):
            due = deadline["due_at"].replace(tzinfo=UTC)
            since = (deadline.get("scheduled_at") or deadline.get("updated_at") or now)
            since = since.replace(tzinfo=UTC)
            done = set(deadline.get("reminders_done") or [])
            for offset in deadline.get("remind_before") or []:
                job_id = f"reminder:{deadline['_id']}:{offset}"
                when = due - parse_duration(offset)
                if when <= since or offset in done or due <= now:
                    continue  # not planned, sent already, or too late to remind
                if job_id not in scheduled:
                    self._add_reminder(deadline["_id"], offset, max(when, now))
                    touched.append(job_id)
                    logger.warning("reminder %s had no job (a crash?): %s", job_id,
                                   "sending now" if when <= now else "scheduled again")
            overdue_id = f"overdue:{deadline['_id']}"
            if overdue_id not in scheduled:
                self._add_overdue(deadline["_id"], due)
                touched.append(overdue_id)
        if touched:
            self.scheduler.wakeup()
        return touched

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            Lease._get_collection().delete_one({"_id": LEASE_ID, "holder": self.holder})

    # --- jobs -------------------------------------------------------------------------

    def schedule_deadline(self, deadline: dict, now: datetime | None = None) -> list[str]:
        """(Re)schedule a deadline's reminders and overdue run; return the reminder times."""
        now = now or datetime.now(UTC)
        self.cancel_deadline(deadline["_id"])
        planned = []
        for offset in deadline["remind_before"]:
            when = deadline["due_at"] - parse_duration(offset)
            if when <= now:
                continue  # that reminder's time is past at (re)scheduling: not sent late
            self._add_reminder(deadline["_id"], offset, when)
            planned.append(when.isoformat())
        self._add_overdue(deadline["_id"], deadline["due_at"])
        return planned

    def _add_reminder(self, deadline_id: str, offset: str, when: datetime) -> None:
        self.scheduler.add_job(
            "services.notify.scheduling:run_reminder", "date", run_date=when,
            args=[deadline_id, offset], id=f"reminder:{deadline_id}:{offset}",
            replace_existing=True, misfire_grace_time=None, coalesce=True)

    def _add_overdue(self, deadline_id: str, due: datetime) -> None:
        self.scheduler.add_job(
            "services.notify.scheduling:run_overdue", "interval", days=1,
            start_date=due, args=[deadline_id], id=f"overdue:{deadline_id}",
            replace_existing=True, misfire_grace_time=None, coalesce=True)

    def cancel_deadline(self, deadline_id: str) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith((f"reminder:{deadline_id}:", f"overdue:{deadline_id}")):
                with contextlib.suppress(JobLookupError):
                    job.remove()

    def schedule_flush(self, subject: str, when: datetime) -> None:
        self.scheduler.add_job(
            "services.notify.scheduling:run_rating_flush", "date", run_date=when,
            args=[subject], id=f"rating-flush:{subject}", replace_existing=True,
            misfire_grace_time=None, coalesce=True)

    def jobs(self) -> list[dict]:
        return [{"id": j.id, "next_run_time": j.next_run_time} for j in
                self.scheduler.get_jobs()]
