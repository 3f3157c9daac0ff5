"""HTTP API of peer reviews: windows (admin), assignments and reviews (officials)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g
from flask_smorest import Blueprint

from services.survey import reviews
from services.survey.schemas import (
    AssignmentOut,
    PeerReviewIn,
    PeerReviewOut,
    ReviewWindowIn,
    ReviewWindowOut,
)
from shared.auth import SECURITY, require
from shared.problems import Problem

blp = Blueprint("peer_reviews", __name__, url_prefix="/api/v1",
                description="Anonymous yearly peer reviews among colleagues of a unit")


def _ctx():
    return current_app.extensions["survey"]


@blp.put("/review-windows/<period:period>")
@require("admin")
@blp.arguments(ReviewWindowIn())
@blp.response(200, ReviewWindowOut, description="Updated")
@blp.alt_response(201, schema=ReviewWindowOut, description="Created")
@blp.doc(security=SECURITY)
def put_window(body: dict, period: str):
    """Set when officials may review each other for a year."""
    period = reviews.year_period(period)
    created = reviews.set_window(period, body["opens_at"], body["closes_at"])
    return {"period": period, **body}, 201 if created else 200


@blp.get("/peer-reviews/<period:period>/assignments")
@require("official")
@blp.response(200, AssignmentOut(many=True))
@blp.doc(security=SECURITY)
def get_assignments(period: str):
    """The colleagues the calling official is to review, each pending or done."""
    period = reviews.year_period(period)
    key = reviews.pseudonym_key(_ctx().secret)
    return reviews.assignments(period, g.principal.subject, key)


@blp.get("/peer-reviews/<period:period>/<code:reviewee>")
@require("official")
@blp.response(200, PeerReviewOut)
@blp.doc(security=SECURITY)
def get_own_review(period: str, reviewee: str):
    """The calling official's own review of a colleague (to edit it)."""
    period = reviews.year_period(period)
    reviews.check_reviewable(g.principal.subject, reviewee)
    doc = reviews.own_review(period, g.principal.subject, reviewee,
                             reviews.pseudonym_key(_ctx().secret))
    if doc is None:
        raise Problem(404, "You have not reviewed this colleague for this period.",
                      slug="no-review")
    return doc


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
    ctx = _ctx()
    period = reviews.year_period(period)
    target = reviews.check_reviewable(g.principal.subject, reviewee)
    if not reviews.window_open(period, datetime.now(UTC), ctx.settings.tz):
        raise Problem(409, f"The review window for {period} is not open.",
                      slug="review-window-closed")
    key = reviews.pseudonym_key(ctx.secret)
    record, created = reviews.save_review(period, g.principal.subject, target, body, key,
                                          correlationid=g.request_id)
    ctx.relay.notify("peer_reviews", reviews.review_key(key, period, g.principal.subject,
                                                        reviewee))
    return record, 201 if created else 200


BLUEPRINTS = (blp,)
