"""HTTP API of peer reviews: windows (admin), assignments and reviews (officials), the
response counts and extra reminders (managers). An official's calls about their own
reviews are left out of the HTTP metrics (`personal`): a counter would date them."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from services.survey import audit_log, domain, keys, review_cycle, reviews
from services.survey.context import context
from services.survey.schemas import (
    AssignmentOut,
    PeerReviewIn,
    PeerReviewOut,
    RemindersOut,
    ResponseQuery,
    ReviewWindowIn,
    ReviewWindowOut,
    UnitResponseOut,
)
from shared.auth import SECURITY, require
from shared.http import check_code, personal

blp = Blueprint("peer_reviews", __name__, url_prefix="/api/v1",
                description="Anonymous yearly peer reviews among colleagues of a unit")


def _key() -> bytes:
    return context().key(keys.REVIEWER_PSEUDONYM)


@blp.put("/review-windows/<period:period>")
@require("admin")
@blp.arguments(ReviewWindowIn())
@blp.response(200, ReviewWindowOut, description="Updated")
@blp.alt_response(201, schema=ReviewWindowOut, description="Created")
@blp.doc(security=SECURITY)
def put_window(body: dict, period: str):
    """Set when officials may review each other for a year, and when those who have not
    finished are reminded (`remind_before` the close). Officials are invited when it
    opens; a change reschedules the invitations and reminders still to come."""
    period = domain.year_period(period)
    ctx = context()
    window, created = reviews.save_window(period, body, key=_key(),
                                          correlationid=g.request_id, notify=ctx.relay.notify)
    audit_log.record(ctx, "review_window_saved", target=period, details={
        "opens_at": body["opens_at"].isoformat(), "closes_at": body["closes_at"].isoformat(),
        "remind_before": window["remind_before"]})
    return window, 201 if created else 200


@blp.get("/review-cycles/<period:period>/response")
@require("admin", "official")
@blp.arguments(ResponseQuery(), location="query")
@blp.response(200, UnitResponseOut(many=True))
@blp.alt_response(403, description="Neither an administrator nor a manager of the unit")
@blp.doc(security=SECURITY)
def get_response(query: dict, period: str):
    """How far the officials of each unit in the caller's scope have got with the year's
    reviews (administrators: every unit): counts only, never who reviewed whom."""
    units = review_cycle.units_in_scope(context(), g.principal, query["unit"])
    return review_cycle.response(domain.year_period(period), units, _key())


@blp.post("/review-cycles/<period:period>/units/<code:code>/reminders")
@require("admin", "official")
@blp.response(202, RemindersOut, description="Reminders on their way")
@blp.alt_response(409, description="The year's review window is not open")
@blp.alt_response(429, description="This unit was reminded less than a day ago "
                                   "(Retry-After)")
@blp.doc(security=SECURITY)
def post_reminders(period: str, code: str):
    """Send one extra reminder now to each official of a unit with reviews pending (an
    administrator, or a manager in scope; once a day per unit; audited)."""
    check_code(code)
    ctx = context()
    review_cycle.units_in_scope(ctx, g.principal, code)
    year = domain.year_period(period)
    return {"year": year, "unit": code, "reminded": review_cycle.remind_unit(ctx, year, code)}


@blp.get("/peer-reviews/<period:period>/assignments")
@require("official")
@blp.response(200, AssignmentOut(many=True))
@blp.doc(security=SECURITY)
@personal
def get_assignments(period: str):
    """The colleagues the calling official is to review, each pending or done."""
    return reviews.assignments(domain.year_period(period), g.principal.subject, _key())


@blp.get("/peer-reviews/<period:period>/<code:reviewee>")
@require("official")
@blp.response(200, PeerReviewOut)
@blp.doc(security=SECURITY)
@personal
def get_own_review(period: str, reviewee: str):
    """The calling official's own review of a colleague (to edit it)."""
    check_code(reviewee, "reviewee")
    return reviews.own_review(domain.year_period(period), g.principal.subject, reviewee,
                              _key())


@blp.put("/peer-reviews/<period:period>/<code:reviewee>")
@require("official")
@blp.arguments(PeerReviewIn())
@blp.response(200, PeerReviewOut, description="Edited: replaces the earlier review")
@blp.alt_response(201, schema=PeerReviewOut, description="First review")
@blp.alt_response(403, description="Yourself, or a colleague of another unit")
@blp.alt_response(409, description="Outside the review window")
@blp.doc(security=SECURITY)
@personal
def put_review(body: dict, period: str, reviewee: str):
    """Review a colleague on the five criteria of Decision 733 (1-5 each)."""
    check_code(reviewee, "reviewee")
    ctx = context()
    record, created = reviews.submit_review(
        domain.year_period(period), g.principal.subject, reviewee, body, key=_key(),
        tz=ctx.settings.tz, correlationid=g.request_id, notify=ctx.relay.notify)
    return record, 201 if created else 200


BLUEPRINTS = (blp,)
