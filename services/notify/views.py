"""HTTP API of notify: deadlines, submissions, the calendar, the notification log."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint

from services.notify import calendar
from services.notify.deadlines import planned, save_deadline
from services.notify.schemas import (
    CalendarIn,
    DeadlineIn,
    DeadlineOut,
    NotificationOut,
    NotificationQuery,
    SubmissionOut,
)
from shared.auth import SECURITY, require
from shared.db import stored_now
from shared.errors import NotFound
from shared.http import check_code

blp = Blueprint("notify", __name__, url_prefix="/api/v1",
                description="Deadlines, reminders, alerts and their log")


def _ctx():
    return current_app.extensions["notify"]


def _deadline_out(doc: dict) -> dict:
    return {**doc, "reminders_at": planned(doc), "submitted": _ctx().store.submitted(doc["_id"])}


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
    return save_deadline(deadline_id, body, store=ctx.store, scheduler=ctx.scheduler)


@blp.put("/deadlines/<code:deadline_id>")
@require("admin")
@blp.arguments(DeadlineIn())
@blp.response(200, DeadlineOut, description="Updated: reminders rescheduled")
@blp.alt_response(201, schema=DeadlineOut, description="Created")
@blp.doc(security=SECURITY)
def put_deadline(body: dict, deadline_id: str):
    """Create or change a deadline; its reminders are (re)scheduled."""
    check_code(deadline_id, "id")
    doc, created = _save(deadline_id, body)
    return _deadline_out(doc), 201 if created else 200


@blp.get("/deadlines")
@require("admin")
@blp.response(200, DeadlineOut(many=True))
@blp.doc(security=SECURITY)
def list_deadlines():
    """Every deadline not deleted, soonest first."""
    return [_deadline_out(d) for d in _ctx().store.deadlines()]


@blp.get("/deadlines/<code:deadline_id>")
@require("admin")
@blp.response(200, DeadlineOut)
@blp.doc(security=SECURITY)
def get_deadline(deadline_id: str):
    return _deadline_out(_live_deadline(deadline_id))


@blp.delete("/deadlines/<code:deadline_id>")
@require("admin")
@blp.response(204)
@blp.doc(security=SECURITY)
def delete_deadline(deadline_id: str):
    """Delete a deadline and cancel its reminders."""
    if not _ctx().store.delete_deadline(deadline_id):
        raise _unknown(deadline_id)
    _ctx().scheduler.cancel_deadline(deadline_id)


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
    return _ctx().store.submit(deadline_id, unit, stored_now())


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
    return out


@blp.get("/notifications")
@require("admin")
@blp.arguments(NotificationQuery(), location="query")
@blp.response(200, NotificationOut(many=True),
              headers={"X-Total-Count": {"description": "matching notifications",
                                         "schema": {"type": "integer"}}})
@blp.doc(security=SECURITY)
def list_notifications(query: dict):
    """The notification log, newest first; filter by unit, deadline, kind, status."""
    where = {k: query[k] for k in ("unit", "deadline", "kind", "status") if query.get(k)}
    g.total_count, page = _ctx().store.notifications(where, query["page"], query["per_page"])
    return page


@blp.after_request
def _total_count(response):
    if request.endpoint == "notify.list_notifications" and "total_count" in g:
        response.headers["X-Total-Count"] = str(g.total_count)
    return response


BLUEPRINTS = (blp,)
