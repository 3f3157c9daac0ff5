"""HTTP API of notify: deadlines, submissions, the calendar, the notification log.

Writes are for administrators and audited; reads are for administrators and the managers
of units, within their scope (scopes.py).
"""

from __future__ import annotations

from flask import current_app, g
from flask_smorest import Blueprint

from services.notify import calendar, scopes
from services.notify.deadline_status import announce
from services.notify.deadlines import planned, save_deadline
from services.notify.schemas import (
    CalendarIn,
    DeadlineIn,
    DeadlineOut,
    NotificationOut,
    NotificationQuery,
    SubmissionOut,
)
from shared import audit
from shared.auth import SECURITY, access_store, require
from shared.db import stored_now
from shared.errors import Forbidden, NotFound
from shared.http import check_code, set_total_count, total_count_header

blp = Blueprint("notify", __name__, url_prefix="/api/v1",
                description="Deadlines, reminders, alerts and their log")


def _ctx():
    return current_app.extensions["notify"]


def _scope() -> set[str] | None:
    """None for an administrator; else the units in the caller's scope (403 if none)."""
    principal = g.principal
    if principal.is_admin:
        return None
    store = access_store()
    scope = store.scope(principal.official) if principal.official and store else set()
    scopes.require_manager(scope)
    return scope


def _deadline_out(doc: dict, scope: set[str] | None = None) -> dict | None:
    """The deadline as the caller sees it (None: not in their scope)."""
    seen = scopes.visible_deadline(doc, _ctx().store.submitted(doc["_id"]), scope)
    return None if seen is None else {**seen, "reminders_at": planned(doc)}


def _audit(action: str, target: str, details: dict | None = None) -> None:
    """Record who did it, from which address (hashed), for survey's audit log."""
    ctx = _ctx()
    ctx.store.record_audit(ctx.relay, audit.request_entry("notify", action, target=target,
                                                          details=details))


def _deadline_details(doc: dict) -> dict:
    return {"title": doc["title"], "due_at": doc["due_at"].isoformat(),
            "units": doc["units"], "remind_before": doc["remind_before"],
            "escalate_to": doc.get("escalate_to")}


def _unknown(deadline_id: str) -> NotFound:
    return NotFound(f"No deadline {deadline_id!r}.", slug="unknown-deadline")


def _live_deadline(deadline_id: str) -> dict:
    """The deadline, unless unknown or deleted (then a 404)."""
    doc = _ctx().store.deadline(deadline_id)
    if doc is None:
        raise _unknown(deadline_id)
    return doc


def _save(deadline_id: str, body: dict) -> tuple[dict, bool]:
    ctx = _ctx()
    return save_deadline(deadline_id, body, store=ctx.store, scheduler=ctx.scheduler,
                         relay=ctx.relay)


@blp.put("/deadlines/<code:deadline_id>")
@require("admin")
@blp.arguments(DeadlineIn())
@blp.response(200, DeadlineOut, description="Updated: reminders rescheduled")
@blp.alt_response(201, schema=DeadlineOut, description="Created")
@blp.doc(security=SECURITY)
def put_deadline(body: dict, deadline_id: str):
    """Create or change a deadline; its reminders are (re)scheduled."""
    check_code(deadline_id, "id")
    before = _ctx().store.deadline(deadline_id)
    doc, created = _save(deadline_id, body)
    details = _deadline_details(doc)
    if before is not None:
        details["previous"] = _deadline_details(before)
    _audit("deadline_created" if created else "deadline_changed", f"deadlines/{deadline_id}",
           details)
    return _deadline_out(doc), 201 if created else 200


@blp.get("/deadlines")
@require("admin", "official")
@blp.response(200, DeadlineOut(many=True))
@blp.doc(security=SECURITY)
def list_deadlines():
    """Every deadline not deleted, soonest first (a manager: those naming a unit in
    their scope, with only those units listed)."""
    scope = _scope()
    seen = (_deadline_out(d, scope) for d in _ctx().store.deadlines())
    return [d for d in seen if d is not None]


@blp.get("/deadlines/<code:deadline_id>")
@require("admin", "official")
@blp.response(200, DeadlineOut)
@blp.doc(security=SECURITY)
def get_deadline(deadline_id: str):
    """One deadline (a manager: if it names a unit in their scope)."""
    scope = _scope()
    seen = _deadline_out(_live_deadline(deadline_id), scope)
    if seen is None:
        raise Forbidden(f"Deadline {deadline_id!r} names no unit in your scope.",
                        slug="out-of-scope")
    return seen


@blp.delete("/deadlines/<code:deadline_id>")
@require("admin")
@blp.response(204)
@blp.doc(security=SECURITY)
def delete_deadline(deadline_id: str):
    """Delete a deadline and cancel its reminders (its status says deleted)."""
    before = _ctx().store.deadline(deadline_id)
    if before is None or not _ctx().store.delete_deadline(deadline_id):
        raise _unknown(deadline_id)
    announce(_ctx().relay, deadline_id)
    _ctx().scheduler.cancel_deadline(deadline_id)
    _audit("deadline_deleted", f"deadlines/{deadline_id}", _deadline_details(before))


@blp.post("/deadlines/<code:deadline_id>/submissions/<code:unit>")
@require("admin")
@blp.response(200, SubmissionOut)
@blp.doc(security=SECURITY)
def post_submission(deadline_id: str, unit: str):
    """Mark the unit's report submitted: no more reminders or overdue notices for it."""
    check_code(unit, "unit")
    deadline = _live_deadline(deadline_id)
    if "*" not in deadline["units"] and unit not in deadline["units"]:
        # a mistyped code must not look submitted while the real unit is still reminded
        raise NotFound(f"Deadline {deadline_id!r} is not for unit {unit!r}; it is for "
                       f"{', '.join(deadline['units'])}.", slug="unit-not-in-deadline")
    record = _ctx().store.submit(deadline_id, unit, stored_now())
    announce(_ctx().relay, deadline_id)
    _audit("submission_marked", f"deadlines/{deadline_id}/submissions/{unit}",
           {"deadline": deadline_id, "unit": unit,
            "submitted_at": record["submitted_at"].isoformat()})
    return record


@blp.post("/calendar")
@require("admin")
@blp.arguments(CalendarIn())
@blp.response(200, DeadlineOut(many=True))
@blp.doc(security=SECURITY)
def load_calendar(body: dict):
    """Load the built-in calendar of a year (the yearly evaluation, 15 December)."""
    out = []
    for deadline_id, spec in calendar.deadlines(body["year"], _ctx().settings.tz):
        doc, _ = _save(deadline_id, spec)
        out.append(_deadline_out(doc))
    _audit("calendar_loaded", f"calendar/{body['year']}",
           {"year": body["year"], "deadlines": [d["_id"] for d in out]})
    return out


@blp.get("/notifications")
@require("admin", "official")
@blp.arguments(NotificationQuery(), location="query")
@blp.response(200, NotificationOut(many=True), headers=total_count_header("notifications"))
@blp.doc(security=SECURITY)
def list_notifications(query: dict):
    """The notification log, newest first; filter by unit, deadline, kind, status,
    official. A manager: the notifications about units in their scope (403 for a unit
    outside it), never the messages to one official (sign-in links, account notices)."""
    where = scopes.log_filter(query, _scope())
    total, page = _ctx().store.notifications(where, query["page"], query["per_page"])
    set_total_count(total)
    return page


BLUEPRINTS = (blp,)
