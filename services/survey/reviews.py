"""Peer reviews of colleagues: who may review whom, when, and the reviewer's own view.

The stored review and its event never name the reviewer (see `store.reviews`); the
reviewer finds their own reviews again through keys only survey can compute.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.survey import domain
from services.survey.store import Notify, directory, reviews
from shared.db import stored_now
from shared.errors import Conflict, NotFound


def reviewee_for(reviewer_code: str, reviewee_code: str) -> dict:
    """The colleague `reviewer_code` may review, or the refusal (403/404)."""
    reviewer = directory.find("official", reviewer_code)
    reviewee = None if reviewer_code == reviewee_code else directory.find("official",
                                                                          reviewee_code)
    domain.check_reviewable(reviewer_code, reviewer, reviewee_code, reviewee)
    return reviewee


def assignments(period: str, reviewer_code: str, key: bytes) -> list[dict]:
    """The reviewer's active colleagues, each pending or done for `period`."""
    reviewer = directory.find("official", reviewer_code)
    domain.check_reviewer(reviewer)
    people = directory.colleagues(reviewer)
    ids = {domain.review_key(key, period, reviewer_code, p["code"]): p["code"] for p in people}
    done = {ids[i] for i in reviews.reviewed(list(ids))}
    return [{"official": p["code"], "full_name": p["full_name"],
             "status": "done" if p["code"] in done else "pending"} for p in people]


def own_review(period: str, reviewer_code: str, reviewee_code: str, key: bytes) -> dict:
    """The reviewer's own review of a colleague (to edit it), or NotFound."""
    reviewee_for(reviewer_code, reviewee_code)
    doc = reviews.review(domain.review_key(key, period, reviewer_code, reviewee_code))
    if doc is None:
        raise NotFound("You have not reviewed this colleague for this period.",
                       slug="no-review")
    return doc


def submit_review(period: str, reviewer_code: str, reviewee_code: str, body: dict, *,
                  key: bytes, tz: ZoneInfo, now: datetime | None = None,
                  correlationid: str | None = None,
                  notify: Notify | None = None) -> tuple[dict, bool]:
    """Store (or replace) a review inside the period's window; return (review, created).
    `now`: when it is submitted (default now; the demo's history passes its own)."""
    reviewee = reviewee_for(reviewer_code, reviewee_code)
    now = now or stored_now()
    if not domain.window_open(period, reviews.window(period), now, tz):
        raise Conflict(f"The review window for {period} is not open.",
                       slug="review-window-closed")
    return reviews.save_review(period, reviewer_code, reviewee, body, key,
                               correlationid=correlationid, now=now, notify=notify)
