"""Deadlines: saving one (its units checked against the directory notify knows), the
reminders before it and the overdue notices after it.

`send_reminders` and `send_overdue` are scheduler jobs: plain arguments, `now`, and the
dependencies (`store`, `sender`, `tz`) the scheduler gives them when it runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import domain
from services.notify.deadline_status import announce
from services.notify.injection import INJECTED
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from shared.db import stored_now
from shared.errors import Invalid

logger = logging.getLogger(__name__)


def save_deadline(deadline_id: str, body: dict, *, store: NotifyStore, scheduler, relay,
                  now: datetime | None = None) -> tuple[dict, bool]:
    """Create or change a deadline, (re)schedule its reminders and publish its status;
    return it and whether it is new. Units and `escalate_to` must be units notify knows
    (Invalid otherwise): a unit it does not know would never be reminded."""
    check_units(body["units"], body.get("escalate_to"), store.unit_codes())
    now = now or stored_now()
    doc, created = store.save_deadline(deadline_id, {
        "title": body["title"], "due_at": body["due_at"].astimezone(UTC),
        "units": body["units"], "remind_before": body["remind_before"],
        "escalate_to": body.get("escalate_to")}, now)
    announce(relay, deadline_id)
    scheduler.schedule_deadline(doc, now=now)
    return doc, created


def check_units(units: list[str], escalate_to: str | None, known: list[str]) -> None:
    errors = {}
    unknown = domain.unknown_units(units, known)
    if unknown:
        errors["units"] = [f"not units notify knows: {domain.describe_unknown(unknown)}"]
    if escalate_to is not None and (wrong := domain.unknown_units([escalate_to], known)):
        errors["escalate_to"] = [f"not a unit notify knows: {domain.describe_unknown(wrong)}"]
    if errors:
        raise Invalid(
            "The deadline names units notify does not know. Codes are case-sensitive; a "
            "unit created a moment ago reaches notify within seconds: try again then.",
            errors=errors, slug="unknown-unit")


def planned(doc: dict) -> list[str]:
    """The times (UTC, ISO 8601) of the reminders the deadline's last save planned."""
    since = doc.get("scheduled_at") or doc["due_at"]
    return [when.isoformat() for when in domain.planned_reminders(
        doc["due_at"], doc.get("remind_before") or [], since).values()]


def target_units(deadline: dict, store: NotifyStore) -> list[str]:
    units = deadline.get("units") or []
    return store.unit_codes() if "*" in units else list(dict.fromkeys(units))


def send_reminders(deadline_id: str, offset: str, *, store: NotifyStore = INJECTED,
                   sender: Sender = INJECTED, tz: ZoneInfo = INJECTED,
                   now: datetime | None = None) -> list[str]:
    """Remind every listed unit not yet submitted (once per unit, offset and channel)."""
    now = now or datetime.now(UTC)
    deadline = store.deadline(deadline_id)
    if deadline is None or offset not in deadline.get("remind_before", []):
        return []
    due = deadline["due_at"]
    if now >= due:
        logger.info("reminder %s %s skipped: the deadline has passed", deadline_id, offset)
        return []
    context = domain.reminder_context(deadline["title"], due, now, tz)
    data = {"deadline": deadline_id, "due_at": due.isoformat(), "offset": offset}
    done = set(store.submitted(deadline_id))

    def remind(unit: str) -> list[str]:
        return sender.notify_unit(f"deadline.reminder|{deadline_id}|{unit}|{offset}",
                                  "deadline.reminder", unit, context, data,
                                  deadline=deadline_id)

    created, complete = _each(
        [u for u in target_units(deadline, store) if u not in done], remind,
        f"reminder {deadline_id} {offset}")
    if complete:  # every unit's reminder is claimed: the reconcile leaves this one alone
        store.mark_reminder_done(deadline_id, offset)
    return created


def send_overdue(deadline_id: str, *, store: NotifyStore = INJECTED,
                 sender: Sender = INJECTED, tz: ZoneInfo = INJECTED,
                 now: datetime | None = None) -> list[str]:
    """Once a day after the deadline: each unit not submitted, and its escalation."""
    now = now or datetime.now(UTC)
    deadline = store.deadline(deadline_id)
    if deadline is None or now < deadline["due_at"]:
        return []
    due = deadline["due_at"]
    day = domain.local_day(now, tz)
    context = domain.overdue_context(deadline["title"], due, now, tz)
    data = {"deadline": deadline_id, "due_at": due.isoformat(), "day": day}
    done = set(store.submitted(deadline_id))

    def notice(unit: str) -> list[str]:
        contact = store.unit(unit) or {}
        key = f"deadline.overdue|{deadline_id}|{unit}|{day}"
        created = sender.notify_unit(key, "deadline.overdue", unit, context, data,
                                     deadline=deadline_id)
        escalate = domain.escalation_target(unit, deadline.get("escalate_to"),
                                            contact.get("parent"))
        if escalate:
            recipient = (store.unit(escalate) or {}).get("name", escalate)
            created += sender.notify_unit(
                f"{key}|to:{escalate}", "deadline.overdue", escalate,
                {**context, "escalated": True, "unit_name": contact.get("name", unit),
                 "recipient_name": recipient},
                {**data, "escalated_to": escalate}, deadline=deadline_id, about_unit=unit)
        return created

    created, _ = _each([u for u in target_units(deadline, store) if u not in done], notice,
                       f"overdue notices of {deadline_id}")
    return created


def _each(units: list[str], send: Callable[[str], list[str]], what: str
          ) -> tuple[list[str], bool]:
    """`send` to each unit; one that fails (a broken record) is logged and the others still
    go. Returns what was created and whether every unit was handled."""
    created: list[str] = []
    complete = True
    for unit in units:
        try:
            created += send(unit)
        except Exception:
            complete = False
            logger.exception("%s: unit %s failed; the other units go on", what, unit)
    return created, complete
