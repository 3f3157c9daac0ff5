"""HTTP API of peer reviews: windows (admin), assignments and reviews (officials)."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from services.survey import audit_log, domain, keys, reviews
from services.survey.context import context
from services.survey.schemas import (
    AssignmentOut,
    PeerReviewIn,
    PeerReviewOut,
    ReviewWindowIn,
    ReviewWindowOut,
)
from services.survey.store import reviews as review_store
from shared.auth import SECURITY, require
from shared.http import check_code

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
    """Set when officials may review each other for a year."""
    period = domain.year_period(period)
    created = review_store.set_window(period, body["opens_at"], body["closes_at"])
    audit_log.record(context(), "review_window_saved", target=period, details={
        "opens_at": body["opens_at"].isoformat(), "closes_at": body["closes_at"].isoformat()})
    return {"period": period, **body}, 201 if created else 200


@blp.get("/peer-reviews/<period:period>/assignments")
@require("official")
@blp.response(200, AssignmentOut(many=True))
@blp.doc(security=SECURITY)
def get_assignments(period: str):
    """The colleagues the calling official is to review, each pending or done."""
    return reviews.assignments(domain.year_period(period), g.principal.subject, _key())


@blp.get("/peer-reviews/<period:period>/<code:reviewee>")
@require("official")
@blp.response(200, PeerReviewOut)
@blp.doc(security=SECURITY)
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
def put_review(body: dict, period: str, reviewee: str):
    """Review a colleague on the five criteria of Decision 733 (1-5 each)."""
    check_code(reviewee, "reviewee")
    ctx = context()
    record, created = reviews.submit_review(
        domain.year_period(period), g.principal.subject, reviewee, body, key=_key(),
        tz=ctx.settings.tz, correlationid=g.request_id, notify=ctx.relay.notify)
    return record, 201 if created else 200


BLUEPRINTS = (blp,)
