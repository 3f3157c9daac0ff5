"""Ratings as their state makes them (integrity_events): low ratings that count alert,
held ones do not (until accepted); a burst of held ratings alerts the unit's managers and
the parent unit, once.

- A low rating (1 or 2) alerts only in a state that counts (counted, accepted), and only
  the newest state notify has seen of it (`status_version`: an older one arriving late
  changes nothing). A held one alerts when accepted, once; one that is held again while
  waiting for its folded alert is taken out of it.
- A rating held for "burst" joins its burst (survey's opaque id). The burst's alert goes
  `burst_domain.BURST_ALERT_DELAY` after notify first heard of it (`flush_burst_alert`,
  a scheduler job): to each active manager of the unit whose email notify knows (the
  unit's own emails and webhook when none is known) and to the parent unit (emails and
  webhook). It is claimed by the burst's id, so redeliveries, a flush run twice or a
  restart never send it twice; later ratings of the burst alert nobody.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import alerts, burst_domain, domain
from services.notify.injection import INJECTED
from services.notify.render import render
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from shared.events import json_safe

logger = logging.getLogger(__name__)


def apply_rating(data: dict, *, at: datetime, store: NotifyStore, sender: Sender, scheduler,
                 tz: ZoneInfo, now: datetime | None = None) -> None:
    """A rating in the state an event carries (`rating.submitted` or
    `rating.status_changed`); `at`: when it came to be in that state."""
    now = now or datetime.now(UTC)
    burst = burst_domain.burst_of(data)
    if burst is not None:
        note_burst(burst, data, at=at, store=store, scheduler=scheduler, now=now)
    if data["overall"] <= domain.LOW_RATING:
        alert_if_low(data, at=at, store=store, sender=sender, scheduler=scheduler, tz=tz,
                     now=now)


def alert_if_low(data: dict, *, at: datetime, store: NotifyStore, sender: Sender, scheduler,
                 tz: ZoneInfo, now: datetime) -> None:
    """Alert on a low rating in the newest state notify knows, if that state counts."""
    state = store.rating_state(data["id"], data.get("status_version") or 0,
                               data.get("status") or "counted")
    if state is None:
        return  # a newer state came first
    if not burst_domain.counts(data):
        # held (or rejected): out of the next folded alert if it was waiting in it, so
        # that accepted later it alerts then
        subject = domain.rating_alert_subject(data.get("official"), data["counter"])
        if store.drop_pending_rating(subject, data["id"]):
            store.mark_low_alerted(data["id"], False)
        return
    if state.get("low_alerted"):
        return  # alerted in an earlier state that counted
    alerts.alert_low_rating(data, store=store, sender=sender, scheduler=scheduler, tz=tz,
                            now=now, at=at)
    store.mark_low_alerted(data["id"])


def note_burst(burst: str, data: dict, *, at: datetime, store: NotifyStore, scheduler,
               now: datetime) -> None:
    """Add a held rating to its burst; the burst's first one plans its alert."""
    ready_at = now + burst_domain.BURST_ALERT_DELAY
    if store.note_burst(burst, burst_domain.member(data), now=now, ready_at=ready_at,
                        start=not burst_domain.stale(at, now)):
        scheduler.schedule_flush("burst", burst, ready_at)


def flush_burst_alert(burst: str, *, store: NotifyStore = INJECTED, sender: Sender = INJECTED,
                      scheduler=INJECTED, tz: ZoneInfo = INJECTED, base_url: str = INJECTED,
                      now: datetime | None = None) -> list[str]:
    """Send the burst's one alert, once its time has come (a job of the scheduler)."""
    now = now or datetime.now(UTC)
    doc = store.burst(burst)
    if doc is None or doc.get("alerted_at"):
        return []
    ready = burst_domain.as_utc(doc["ready_at"])
    if now < ready:
        scheduler.schedule_flush("burst", burst, ready)
        return []
    unit = doc["unit"]
    contact = store.unit(unit) or {}
    official = store.official(doc.get("official")) or {}
    context = burst_domain.alert_context(doc, official_name=official.get("full_name"),
                                         unit_name=contact.get("name", unit), tz=tz,
                                         base_url=base_url)
    data = burst_domain.alert_data(burst, doc, context)
    key = f"{burst_domain.KIND}|{burst}"
    created: list[str] = []
    managers = store.managers_of(unit)
    for manager in managers:
        created += _to_manager(key, unit, manager, context, data, sender=sender, now=now)
    if not managers:  # no manager's email known: the unit's own addresses
        created += sender.notify_unit(f"{key}|unit", burst_domain.KIND, unit, context, data,
                                      wait_for_directory=True)
    parent = contact.get("parent")
    if parent and parent != unit:
        created += sender.notify_unit(f"{key}|parent", burst_domain.KIND, parent, context,
                                      data, about_unit=unit, wait_for_directory=True)
    elif not contact:
        logger.warning("burst %s in unit %s: the unit is not known yet, its parent is not "
                       "alerted", burst, unit)
    store.close_burst(burst, context["held"], now)
    return created


def _to_manager(key: str, unit: str, manager: dict, context: dict, data: dict, *,
                sender: Sender, now: datetime) -> list[str]:
    """The alert to one manager, at their own address (in the log: admins only)."""
    subject, text, html = render(burst_domain.KIND, {
        **context, "recipient_name": manager["full_name"]})
    doc = {"_id": f"{key}|manager:{manager['_id']}|email", "kind": burst_domain.KIND,
           "unit": unit, "to_unit": unit, "official": manager["_id"], "deadline": None,
           "channel": "email", "recipient": manager["email"], "status": "pending",
           "attempts": 0, "errors": [], "subject": subject, "text": text, "html": html,
           "data": json_safe(data), "created_at": now}
    return [doc["_id"]] if sender.create(doc) else []
