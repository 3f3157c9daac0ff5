"""The times of the yearly peer-review cycle: a window received plans its invitation and
reminders (review_domain.plan), the scheduler runs each at its time, and each publishes
one `review.cycle_due` for survey, through notify's outbox.

Survey decides who is invited or reminded and asks notify to email each of them (an
`auth.link_requested` with the purpose, sent by people.py): notify never writes to an
official survey did not name.

`publish_cycle_due` is a scheduler job like the deadline reminders: plain arguments (the
year, the kind, the offset and the window version it was planned for), `now`, and the
dependencies (`store`, `relay`) the scheduler gives it when it runs it. It is claimed by
(year, kind, offset, window version), so it publishes once however often it runs, and
the reconcile runs again one whose job a crash lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from services.notify import review_domain
from services.notify.documents import CycleDue
from services.notify.injection import INJECTED
from services.notify.review_domain import Plan
from services.notify.store import NotifyStore
from shared import events as ev
from shared import review_events

logger = logging.getLogger(__name__)


def save_window(data: dict, *, store: NotifyStore, scheduler,
                now: datetime | None = None) -> bool:
    """Keep a `review_window.set` if it is the newest version of its year's window and
    (re)schedule the year's times by it: a window changed moves them, one closed (early
    or not) cancels what remains. False for an older or repeated version."""
    now = now or datetime.now(UTC)
    year, version = data["year"], data["version"]
    plan = review_domain.plan(data["opens_at"], data["closes_at"],
                              data.get("remind_before") or [], now,
                              invited=store.invited(year))
    saved = store.save_review_window(year, version, {
        "opens_at": data["opens_at"].astimezone(UTC),
        "closes_at": data["closes_at"].astimezone(UTC),
        "remind_before": list(data.get("remind_before") or []),
        "received_at": now, "plan": plan.to_doc()})
    if not saved and (store.review_window(year) or {}).get("version") != version:
        logger.info("review window %s v%d ignored: a newer version is kept", year, version)
        return False
    # the same version again is a redelivery, maybe after a failure to schedule: its
    # plan (kept from its first arrival) is scheduled again, which changes nothing else
    schedule(year, store=store, scheduler=scheduler)
    return saved


def schedule(year: str, *, store: NotifyStore, scheduler) -> None:
    """Schedule the times of the year's newest window, in place of any before. Run again
    when a newer version was stored meanwhile (two consumers, one a moment behind), so
    the last word is always the newest version's."""
    scheduled = None
    while (window := store.review_window(year)) and window["version"] != scheduled:
        scheduled = window["version"]
        scheduler.schedule_review_window(year, scheduled, Plan.from_doc(window.get("plan")))
    if scheduled is not None:
        logger.info("review window %s v%d: %s", year, scheduled,
                    describe(Plan.from_doc(window.get("plan")) if window else Plan(None, ())))


def describe(plan: Plan) -> str:
    items = plan.items()
    return ", ".join(f"{kind}{' ' + offset if offset else ''} at {when.isoformat()}"
                     for kind, offset, when in items) or "nothing left to send"


def publish_cycle_due(year: str, kind: str, offset: str | None, version: int, *,
                      store: NotifyStore = INJECTED, relay=INJECTED,
                      now: datetime | None = None) -> str | None:
    """The time of an invitation or a reminder has come: publish its `review.cycle_due`
    (once per year, kind, offset and window version); return its claim key, None when
    there is nothing to publish (claimed before, a window changed or closed since)."""
    now = now or datetime.now(UTC)
    window = store.review_window(year)
    if window is None or window["version"] != version:
        logger.info("review %s %s %s of window v%d skipped: the window changed", year, kind,
                    offset or "", version)
        return None
    if now >= window["closes_at"]:
        logger.info("review %s %s %s skipped: the window has closed", year, kind,
                    offset or "")
        return None
    due_at = {(k, o): when for k, o, when in Plan.from_doc(window.get("plan")).items()
              }.get((kind, offset))
    if due_at is None:
        return None  # not a time this version planned
    key = review_domain.claim_key(year, kind, offset, version)
    data = {"year": year, "kind": kind, "offset": offset, "window_version": version,
            "due_at": due_at}
    event = ev.make_event(review_events.CYCLE_DUE, data, source=ev.SOURCES["notify"],
                          subject=year)
    if not store.claim_cycle_due(key, data, event, now):
        return None
    relay.notify(CycleDue._get_collection().name, key)
    logger.info("review.cycle_due %s published", key)
    return key


def reconcile_window(year: str, *, scheduler, scheduled: set, now: datetime) -> list[str]:
    """The times of an open window that a crash left without their job: run now those
    due, schedule again the others; return the job ids touched."""
    store: NotifyStore = scheduler.store
    window = store.review_window(year)
    if window is None or window["closes_at"] <= now:
        return []
    version = window["version"]
    touched = []
    for kind, offset, when in Plan.from_doc(window.get("plan")).items():
        job_id = review_domain.job_id(year, kind, offset)
        if store.cycle_claimed(review_domain.claim_key(year, kind, offset, version)):
            continue  # published already
        if job_id in scheduled and scheduler.job_args(job_id) == [year, kind, offset,
                                                                  version]:
            continue  # waiting for its time
        if when <= now:
            logger.warning("%s had no job (a crash?): publishing now", job_id)
            scheduler.run(publish_cycle_due, year, kind, offset, version, now=now)
        else:
            logger.warning("%s had no job: scheduled again", job_id)
            scheduler.add_review_job(year, kind, offset, version, when)
        touched.append(job_id)
    return touched
