"""Peer reviews of colleagues: the window, who may review whom, when, drafts, and the
reviewer's own view.

The stored review and its event never name the reviewer (see `store.reviews`); the
reviewer finds their own reviews again through keys only survey can compute.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.survey import domain, response_counts, review_rules
from services.survey.store import Notify, directory, reviews
from shared.db import stored_now
from shared.errors import Conflict, Invalid, NotFound
from shared.periods import parse_period


def reviewee_for(reviewer_code: str, reviewee_code: str) -> dict:
    """The colleague `reviewer_code` may review, or the refusal (403/404)."""
    reviewer = directory.find("official", reviewer_code)
    reviewee = None if reviewer_code == reviewee_code else directory.find("official",
                                                                          reviewee_code)
    domain.check_reviewable(reviewer_code, reviewer, reviewee_code, reviewee)
    return reviewee


def save_window(period: str, body: dict, *, key: bytes, correlationid: str | None = None,
                notify: Notify | None = None) -> tuple[dict, bool]:
    """Set a year's window and its reminders (Invalid when a reminder does not fit in
    it); return ({period, opens_at, closes_at, remind_before, reminders_at}, created).
    The year's response is kept from then on (every unit's counts told to scoring)."""
    offsets = body.get("remind_before") or []
    # kept to the millisecond, as BSON keeps it: the answer is what a later read gives
    opens_at, closes_at = (body[k].replace(microsecond=body[k].microsecond // 1000 * 1000)
                           for k in ("opens_at", "closes_at"))
    times, problems = review_rules.reminder_times(opens_at, closes_at, offsets)
    if problems:
        raise Invalid("A reminder does not fit in the window.",
                      errors={"remind_before": problems})
    doc, created = reviews.set_window(period, opens_at, closes_at, offsets,
                                      correlationid=correlationid, notify=notify)
    response_counts.recount(key, years=[period], notify=notify)
    return {"period": period, **doc, "reminders_at": sorted(times.values())}, created


def window_of(period: str, tz: ZoneInfo) -> dict:
    """A year's window as set, or (none set) the year itself, local time."""
    window = reviews.window(period)
    if window is None:
        opens_at, closes_at = parse_period(period).bounds(tz)
        return {"opens_at": opens_at, "closes_at": closes_at, "remind_before": [],
                "version": 0}
    return window


def colleagues(period: str, reviewer_code: str, key: bytes) -> list[dict]:
    """The reviewer's active colleagues (code, full_name, position), each with the status
    of the reviewer's review of them: done, saved (a draft) or not started."""
    reviewer = directory.find("official", reviewer_code)
    domain.check_reviewer(reviewer)
    people = directory.colleagues(reviewer)
    ids = {domain.review_key(key, period, reviewer_code, p["code"]): p["code"] for p in people}
    done = {ids[i] for i in reviews.reviewed(list(ids))}
    saved = {ids[i] for i in reviews.drafted(list(ids))}
    return [{**p, "status": review_rules.colleague_status(p["code"] in done,
                                                          p["code"] in saved)}
            for p in people]


def assignments(period: str, reviewer_code: str, key: bytes) -> list[dict]:
    """The reviewer's active colleagues, each pending or done for `period` (a draft is
    still pending: it counts nowhere)."""
    return [{"official": p["code"], "full_name": p["full_name"],
             "status": "done" if p["status"] == review_rules.DONE else "pending"}
            for p in colleagues(period, reviewer_code, key)]


def own_review(period: str, reviewer_code: str, reviewee_code: str, key: bytes) -> dict:
    """The reviewer's own review of a colleague (to edit it), or NotFound."""
    reviewee_for(reviewer_code, reviewee_code)
    doc = reviews.review(domain.review_key(key, period, reviewer_code, reviewee_code))
    if doc is None:
        raise NotFound("You have not reviewed this colleague for this period.",
                       slug="no-review")
    return doc


def form_values(period: str, reviewer_code: str, reviewee_code: str, key: bytes
                ) -> tuple[str, dict]:
    """What the reviewer's form of a colleague shows: (status, {scores, comment}) from
    their review, else their draft, else nothing yet."""
    review_id = domain.review_key(key, period, reviewer_code, reviewee_code)
    done = reviews.review(review_id)
    if done is not None:
        return review_rules.DONE, {"scores": done["scores"], "comment": done.get("comment")}
    draft = reviews.draft(review_id)
    if draft is not None:
        return review_rules.SAVED, {"scores": draft.get("scores") or {},
                                    "comment": draft.get("comment")}
    return review_rules.NOT_STARTED, {"scores": {}, "comment": None}


def save_draft(period: str, reviewer_code: str, reviewee_code: str, body: dict, *,
               key: bytes, tz: ZoneInfo, now: datetime | None = None,
               notify: Notify | None = None) -> None:
    """Keep a review to finish later, inside the window; a finished review is edited by
    finishing it again, never turned back into a draft (Conflict). The reviewer's first
    draft puts them in progress in their unit's counts."""
    reviewee = reviewee_for(reviewer_code, reviewee_code)
    _check_open(period, now or stored_now(), tz)
    review_id = domain.review_key(key, period, reviewer_code, reviewee_code)
    if reviews.review(review_id) is not None:
        raise Conflict("This review is finished: change it and finish it again.",
                       slug="review-finished")
    first = reviews.draft(review_id) is None  # a later draft moves no count
    if first:
        response_counts.before_change(period, reviewee["unit"])
    reviews.save_draft(review_id, body["scores"], body.get("comment"))
    if first:
        response_counts.recount(key, units=[reviewee["unit"]], years=[period], notify=notify)


def _check_open(period: str, now: datetime, tz: ZoneInfo) -> None:
    if not domain.window_open(period, reviews.window(period), now, tz):
        raise Conflict(f"The review window for {period} is not open.",
                       slug="review-window-closed")


def submit_review(period: str, reviewer_code: str, reviewee_code: str, body: dict, *,
                  key: bytes, tz: ZoneInfo, now: datetime | None = None,
                  correlationid: str | None = None,
                  notify: Notify | None = None) -> tuple[dict, bool]:
    """Store (or replace) a review inside the period's window; return (review, created).
    `now`: when it is submitted (default now; the demo's history passes its own)."""
    reviewee = reviewee_for(reviewer_code, reviewee_code)
    now = now or stored_now()
    _check_open(period, now, tz)
    response_counts.before_change(period, reviewee["unit"])
    saved = reviews.save_review(period, reviewer_code, reviewee, body, key,
                                correlationid=correlationid, now=now, notify=notify)
    reviews.drop_draft(domain.review_key(key, period, reviewer_code, reviewee_code))
    response_counts.recount(key, units=[reviewee["unit"]], years=[period], notify=notify)
    return saved
