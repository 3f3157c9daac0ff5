"""HTTP API of notify: deadlines, submissions, the calendar, the notification log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g, request
from flask_smorest import Blueprint
from pymongo import DESCENDING

from services.notify import calendar
from services.notify.documents import Deadline, Notification, Submission
from services.notify.schemas import (
    CalendarIn,
    DeadlineIn,
    DeadlineOut,
    NotificationOut,
    NotificationQuery,
    SubmissionOut,
)
from shared.auth import SECURITY, require
from shared.http import check_code
from shared.problems import Problem

blp = Blueprint("notify", __name__, url_prefix="/api/v1",
                description="Deadlines, reminders, alerts and their log")


def _ctx():
    return current_app.extensions["notify"]


def _deadline_out(doc: dict, planned: list[str] | None = None) -> dict:
    submitted = sorted(d["unit"] for d in Submission._get_collection().find(
        {"deadline": doc["_id"]}, {"unit": 1}))
    return {**doc, "reminders_at": planned if planned is not None else [], "submitted": submitted}


def _unknown_deadline(deadline_id: str) -> Problem:
    return Problem(404, f"No deadline {deadline_id!r}.", slug="unknown-deadline")


def _live_deadline(deadline_id: str, projection: dict | None = None) -> dict:
    """The deadline, unless unknown or deleted (then a 404)."""
    doc = Deadline._get_collection().find_one({"_id": deadline_id, "deleted": False},
                                              projection)
    if doc is None:
        raise _unknown_deadline(deadline_id)
    return doc


def save_deadline(deadline_id: str, body: dict) -> tuple[dict, bool, list[str]]:
    coll = Deadline._get_collection()
    existing = coll.find_one({"_id": deadline_id})
    doc = {"title": body["title"], "due_at": body["due_at"].astimezone(UTC),
           "units": body["units"], "remind_before": body["remind_before"],
           "escalate_to": body.get("escalate_to"), "deleted": False}
    now = datetime.now(UTC)
    doc["updated_at"] = doc["scheduled_at"] = now
    result = coll.find_one_and_update({"_id": deadline_id},
                                      {"$set": doc, "$inc": {"version": 1}},
                                      upsert=True, return_document=True)
    planned = _ctx().scheduler.schedule_deadline(result, now=now)
    created = existing is None or existing.get("deleted", False)
    return result, created, planned


@blp.put("/deadlines/<code:deadline_id>")
@require("admin")
@blp.arguments(DeadlineIn())
@blp.response(200, DeadlineOut, description="Updated: reminders rescheduled")
@blp.alt_response(201, schema=DeadlineOut, description="Created")
@blp.doc(security=SECURITY)
def put_deadline(body: dict, deadline_id: str):
    """Create or change a deadline; its reminders are (re)scheduled."""
    check_code(deadline_id, "id")
    doc, created, planned = save_deadline(deadline_id, body)
    return _deadline_out(doc, planned), 201 if created else 200


@blp.get("/deadlines")
@require("admin")
@blp.response(200, DeadlineOut(many=True))
@blp.doc(security=SECURITY)
def list_deadlines():
    """Every deadline not deleted, soonest first."""
    return [_deadline_out(d) for d in Deadline._get_collection().find(
        {"deleted": False}).sort("due_at", 1)]


@blp.get("/deadlines/<code:deadline_id>")
@require("admin")
@blp.response(200, DeadlineOut)
@blp.doc(security=SECURITY)
def get_deadline(deadline_id: str):
    doc = _live_deadline(deadline_id)
    return _deadline_out(doc)


@blp.delete("/deadlines/<code:deadline_id>")
@require("admin")
@blp.response(204)
@blp.doc(security=SECURITY)
def delete_deadline(deadline_id: str):
    """Delete a deadline and cancel its reminders."""
    result = Deadline._get_collection().update_one({"_id": deadline_id, "deleted": False},
                                                   {"$set": {"deleted": True}})
    if not result.matched_count:
        raise _unknown_deadline(deadline_id)
    _ctx().scheduler.cancel_deadline(deadline_id)


@blp.post("/deadlines/<code:deadline_id>/submissions/<code:unit>")
@require("admin")
@blp.response(200, SubmissionOut)
@blp.doc(security=SECURITY)
def post_submission(deadline_id: str, unit: str):
    """Mark the unit's report submitted: no more reminders or overdue notices for it."""
    check_code(unit, "unit")
    deadline = _live_deadline(deadline_id, {"units": 1})
    if "*" not in deadline["units"] and unit not in deadline["units"]:
        # a mistyped code must not look submitted while the real unit is still reminded
        raise Problem(404, f"Deadline {deadline_id!r} is not for unit {unit!r}; it is for "
                           f"{', '.join(deadline['units'])}.", slug="unit-not-in-deadline")
    doc = {"deadline": deadline_id, "unit": unit, "submitted_at": datetime.now(UTC)}
    Submission._get_collection().update_one({"_id": f"{deadline_id}|{unit}"},
                                            {"$setOnInsert": doc}, upsert=True)
    return Submission._get_collection().find_one({"_id": f"{deadline_id}|{unit}"})


@blp.post("/calendar")
@require("admin")
@blp.arguments(CalendarIn())
@blp.response(200, DeadlineOut(many=True))
@blp.doc(security=SECURITY)
def load_calendar(body: dict):
    """Load the built-in calendar of a year (the yearly evaluation, 15 December)."""
    out = []
    for deadline_id, spec in calendar.deadlines(body["year"], _ctx().settings.tz):
        doc, _, planned = save_deadline(deadline_id, spec)
        out.append(_deadline_out(doc, planned))
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
    coll = Notification._get_collection()
    total = coll.count_documents(where)
    cursor = (coll.find(where).sort("created_at", DESCENDING)
              .skip((query["page"] - 1) * query["per_page"]).limit(query["per_page"]))
    g.total_count = total
    return list(cursor)


@blp.after_request
def _total_count(response):
    if request.endpoint == "notify.list_notifications" and "total_count" in g:
        response.headers["X-Total-Count"] = str(g.total_count)
    return response


BLUEPRINTS = (blp,)
