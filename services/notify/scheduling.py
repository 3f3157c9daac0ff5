"""Scheduled reminders, overdue runs and folded alerts: APScheduler 3.11, jobs in notify's
own database, and a lease so one scheduler acts at a time however many processes run.

Job choices, on purpose:
- every job has an explicit id (`reminder:<deadline>:<offset>`, `overdue:<deadline>`,
  `rating-flush:<official or counter:code>`, `score-flush:<subject>`, `burst-flush:<burst>`,
  `review-invitation:<year>`, `review-reminder:<year>:<offset>`) and is added with
  `replace_existing=True`, so rescheduling replaces a job instead of adding a copy;
- `misfire_grace_time=None`: a job whose time passed while notify was down still runs
  when it comes back (a reminder is never silently skipped);
- `coalesce=True`: however many runs were missed, it runs once (never a burst of copies);
- the sends themselves are claimed by key, so even a job run twice sends once.

Jobs are module-level functions (`deadlines.send_reminders`, ...) taking plain arguments,
`now`, and keyword dependencies that the scheduler injects when it runs them (see
`services.notify.injection`): nothing but plain arguments is stored.

APScheduler removes a one-off job from its store when it hands the job to a thread, before
the job has done anything; a process killed in between would lose it. So the lease holder
also reconciles (on taking the lease, then every minute): a reminder planned when its
deadline was saved, due and not marked done, or low ratings, score crossings or a burst
whose flush is due, or a review window's time not yet published, run now; a planned job that
is missing is scheduled again. One bad record is
logged and skipped: it never stops the pass over the others.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from services.notify import alerts, burst_domain, deadlines, domain, held, review_domain, reviews
from services.notify.injection import InjectingExecutor, run_with
from services.notify.store import NotifyStore
from shared.loop import BackgroundLoop

logger = logging.getLogger(__name__)

LEASE = "notify-scheduler"
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}
FLUSHES = {"rating": alerts.flush_rating_alerts, "score": alerts.flush_score_alerts,
           "burst": held.flush_burst_alert}
# jobs stored by earlier releases refer to these names
run_reminder, run_overdue = deadlines.send_reminders, deadlines.send_overdue
run_rating_flush = alerts.flush_rating_alerts


class Scheduler:
    """A BackgroundScheduler that runs jobs only while this process holds the lease."""

    def __init__(self, client, database: str, *, store: NotifyStore, deps: dict,
                 lease_ttl: float = 30.0, check_interval: float = 1.0,
                 reconcile_interval: float = 60.0):
        self.store = store
        self.deps = {**deps, "store": store, "scheduler": self}
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MongoDBJobStore(client=client, database=database,
                                                  collection="jobs")},
            executors={"default": InjectingExecutor(self.deps)},
            job_defaults=JOB_DEFAULTS, timezone=UTC)
        self.holder = uuid.uuid4().hex
        self.lease_ttl = timedelta(seconds=lease_ttl)
        self._reconcile_interval = reconcile_interval
        self._reconciled_at = 0.0
        self._loop = BackgroundLoop("notify-lease", self.lease_step, interval=check_interval)
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
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_lease(timeout)
        self.stop_store()

    def stop_store(self, timeout: float = 10.0) -> None:
        if self.scheduler.running:
            # detach the store first: a paused scheduler woken at this moment (a job added
            # or moved) would process due jobs once more after shutdown turns it from paused
            # to stopped, fail to hand them to the closed executor, and drop them
            self.scheduler.remove_jobstore("default", shutdown=False)
            self.scheduler.shutdown(wait=False)

    def stop_lease(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)
        if self.active and self.scheduler.running:
            self.scheduler.pause()
        self.active = False
        try:
            self.store.release_lease(LEASE, self.holder)
        except Exception as exc:  # it runs out by itself
            logger.warning("scheduler lease not released: %s", exc)

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

    def lease_step(self, now: datetime | None = None) -> float | None:
        """Take or renew the lease; run jobs while it is held, pause when it is lost."""
        if not self._start_scheduler():
            return 5.0
        try:
            held = self.store.take_lease(LEASE, self.holder, now or datetime.now(UTC),
                                         self.lease_ttl)
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
            self.scheduler.wakeup()  # jobs may have been added by another process
        elif self.active:
            logger.info("scheduler %s lost the lease: pausing", self.holder[:8])
            self.scheduler.pause()
            self.active = False
        return None

    def _reconcile_soon(self) -> None:
        self._reconciled_at = time.monotonic()
        try:
            self.reconcile()
        except Exception:
            logger.exception("reconciling the jobs failed")

    # --- reconcile --------------------------------------------------------------------

    def reconcile(self, now: datetime | None = None) -> list[str]:
        """Run what is due but has lost its job (a crash), schedule again what is planned
        but missing; return the job ids touched."""
        now = now or datetime.now(UTC)
        scheduled = {job.id for job in self.scheduler.get_jobs()}
        touched: list[str] = []
        work = [(f"deadline {d}", partial(self._reconcile_deadline, d))
                for d in self.store.live_deadline_ids()]
        work += [(f"held ratings of {s}", partial(self._reconcile_flush, "rating", s, last))
                 for s, last in self.store.rating_windows_waiting()]
        work += [(f"score crossings of {s}", partial(self._reconcile_flush, "score", s, e))
                 for s, e in self.store.folds()]
        work += [(f"burst {b}", partial(self._reconcile_flush, "burst", b, ready))
                 for b, ready in self.store.bursts_waiting()]
        work += [(f"review window {y}", partial(reviews.reconcile_window, y, scheduler=self))
                 for y in self.store.open_review_years(now)]
        for what, step in work:
            try:
                touched += step(scheduled=scheduled, now=now)
            except Exception:
                logger.exception("reconcile: %s failed; the others go on", what)
        if touched:
            self.scheduler.wakeup()
        return touched

    def _reconcile_deadline(self, deadline_id: str, *, scheduled: set, now: datetime
                            ) -> list[str]:
        deadline = self.store.deadline(deadline_id)
        if deadline is None:
            return []
        due = deadline["due_at"]
        if problem := domain.due_problem(due):
            logger.warning("deadline %s skipped: its due_at %s", deadline_id, problem)
            return []
        since = deadline.get("scheduled_at") or deadline.get("updated_at") or now
        done = set(deadline.get("reminders_done") or [])
        touched = []
        for offset, when in domain.planned_reminders(
                due, deadline.get("remind_before") or [], since).items():
            job_id = f"reminder:{deadline_id}:{offset}"
            if offset in done or due <= now or job_id in scheduled:
                continue  # sent already, too late to remind, or waiting for its time
            if when <= now:
                logger.warning("reminder %s had no job (a crash?): sending now", job_id)
                self.run(deadlines.send_reminders, deadline_id, offset, now=now)
            else:
                logger.warning("reminder %s had no job: scheduled again", job_id)
                self._add_reminder(deadline_id, offset, when)
            touched.append(job_id)
        if f"overdue:{deadline_id}" not in scheduled:
            self._add_overdue(deadline_id, due)
            touched.append(f"overdue:{deadline_id}")
        return touched

    def _reconcile_flush(self, kind: str, subject: str, state, *, scheduled: set,
                         now: datetime) -> list[str]:
        """`state`: the last rating alert's time, the score crossings folded, or when
        the burst's alert goes."""
        job_id = f"{kind}-flush:{subject}"
        if job_id in scheduled:
            return []
        if kind == "score":
            when = domain.fold_ready_at(state, domain.SCORE_FOLD_WINDOW)
        elif kind == "burst":
            when = burst_domain.as_utc(state)
        else:
            when = state + domain.RATING_ALERT_WINDOW if state else now
        if when <= now:
            logger.warning("%s had no job (a crash?): sending now", job_id)
            self.run(FLUSHES[kind], subject, now=now)
        else:
            self.schedule_flush(kind, subject, when)
        return [job_id]

    # --- jobs -------------------------------------------------------------------------

    def run(self, func, *args, now: datetime | None = None):
        """Run a job function here and now, with its dependencies (the reconcile; tests
        drive jobs with an explicit `now` this way)."""
        return run_with(self.deps, func, *args, now=now)

    def schedule_deadline(self, deadline: dict, now: datetime) -> None:
        """(Re)schedule a deadline's reminders still to come, and its overdue run."""
        self.cancel_deadline(deadline["_id"])
        for offset, when in domain.planned_reminders(
                deadline["due_at"], deadline["remind_before"], now).items():
            self._add_reminder(deadline["_id"], offset, when)
        self._add_overdue(deadline["_id"], deadline["due_at"])

    def _add(self, func, job_id: str, args: list, **trigger) -> None:
        self.scheduler.add_job(func, args=args, id=job_id, replace_existing=True,
                               misfire_grace_time=None, coalesce=True, **trigger)

    def _add_reminder(self, deadline_id: str, offset: str, when: datetime) -> None:
        self._add(deadlines.send_reminders, f"reminder:{deadline_id}:{offset}",
                  [deadline_id, offset], trigger="date", run_date=when)

    def _add_overdue(self, deadline_id: str, due: datetime) -> None:
        self._add(deadlines.send_overdue, f"overdue:{deadline_id}", [deadline_id],
                  trigger="interval", days=1, start_date=due)

    def cancel_deadline(self, deadline_id: str) -> None:
        for job in self.scheduler.get_jobs():
            # the overdue id exactly: "overdue:bc" must not take "overdue:bc-2026" with it
            if (job.id.startswith(f"reminder:{deadline_id}:")
                    or job.id == f"overdue:{deadline_id}"):
                with contextlib.suppress(JobLookupError):
                    job.remove()

    def schedule_flush(self, kind: str, subject: str, when: datetime) -> None:
        """Send the folded alerts of `subject` ("rating" or "score") at `when`."""
        self._add(FLUSHES[kind], f"{kind}-flush:{subject}", [subject], trigger="date",
                  run_date=when)

    def schedule_review_window(self, year: str, version: int, plan) -> None:
        """(Re)schedule the times a review window's version plans (review_domain.Plan),
        and none of an earlier version's."""
        self.cancel_review_window(year)
        for kind, offset, when in plan.items():
            self.add_review_job(year, kind, offset, version, when)

    def add_review_job(self, year: str, kind: str, offset: str | None, version: int,
                       when: datetime) -> None:
        self._add(reviews.publish_cycle_due, review_domain.job_id(year, kind, offset),
                  [year, kind, offset, version], trigger="date", run_date=when)

    def cancel_review_window(self, year: str) -> None:
        for job in self.scheduler.get_jobs():
            if (job.id == review_domain.job_id(year, "invitation", None)
                    or job.id.startswith(f"review-reminder:{year}:")):
                with contextlib.suppress(JobLookupError):
                    job.remove()

    def job_args(self, job_id: str) -> list | None:
        """The plain arguments a stored job runs with (None: no such job)."""
        job = self.scheduler.get_job(job_id)
        return None if job is None else list(job.args)

    def jobs(self) -> list[dict]:
        return [{"id": j.id, "next_run_time": j.next_run_time} for j in
                self.scheduler.get_jobs()]
