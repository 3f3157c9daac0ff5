"""Peer reviews: windows, assignments, and reviews stored under keyed pseudonyms.

Nothing stored or published names the reviewer. A review's key is an HMAC of (period,
reviewer, reviewee) with a key survey keeps, so only the reviewer's own token can find
their review again (to show "done" or to edit it); the event carries another HMAC of the
same triple as `reviewer`, so scoring can replace an edited review but cannot tell that
two reviews of different colleagues came from the same person.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from services.survey import keys
from services.survey.documents import Official, PeerReview, ReviewWindow
from shared import events as ev
from shared.db import stored_now
from shared.outbox import outbox_fields
from shared.periods import InvalidPeriod, parse_period
from shared.problems import Problem

SOURCE = "/congso/survey"
PSEUDONYM_PURPOSE = "reviewer-pseudonym"


def year_period(period: str) -> str:
    """Validate a peer-review period: a year, YYYY (422 otherwise)."""
    try:
        parsed = parse_period(period)
    except InvalidPeriod as exc:
        raise Problem(422, str(exc), errors={"period": [str(exc)]},
                      slug="validation-error") from None
    if parsed.kind != "year":
        message = "peer reviews are yearly: use YYYY"
        raise Problem(422, message, errors={"period": [message]}, slug="validation-error")
    return str(parsed)


def _hmac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()[:40]


def review_key(key: bytes, period: str, reviewer: str, reviewee: str) -> str:
    return _hmac(key, "review", period, reviewer, reviewee)


def reviewer_pseudonym(key: bytes, period: str, reviewer: str, reviewee: str) -> str:
    return _hmac(key, "reviewer", period, reviewer, reviewee)


def window_open(period: str, now: datetime, tz: ZoneInfo) -> bool:
    """Is the review window of `period` open? Without a window: during its own year."""
    doc = ReviewWindow._get_collection().find_one({"_id": period})
    if doc is None:
        start, end = parse_period(period).bounds(tz)
    else:
        start, end = doc["opens_at"], doc["closes_at"]
    return start <= now < end


def set_window(period: str, opens_at: datetime, closes_at: datetime) -> bool:
    """Create or replace a period's window; return True if it is new."""
    result = ReviewWindow._get_collection().update_one(
        {"_id": period}, {"$set": {"opens_at": opens_at, "closes_at": closes_at}}, upsert=True)
    return result.upserted_id is not None


def colleagues(reviewer: dict) -> list[dict]:
    """Active officials of the reviewer's unit, the reviewer aside."""
    cursor = Official._get_collection().find(
        {"unit": reviewer["unit"], "active": {"$ne": False}, "_id": {"$ne": reviewer["_id"]}},
        {"full_name": 1}).sort("_id", 1)
    return list(cursor)


def assignments(period: str, reviewer_code: str, key: bytes) -> list[dict]:
    reviewer = _official(reviewer_code)
    people = colleagues(reviewer)
    ids = {review_key(key, period, reviewer_code, p["_id"]): p["_id"] for p in people}
    done = {ids[d["_id"]] for d in PeerReview._get_collection().find(
        {"_id": {"$in": list(ids)}}, {"_id": 1})}
    return [{"official": p["_id"], "full_name": p["full_name"],
             "status": "done" if p["_id"] in done else "pending"} for p in people]


def _official(code: str) -> dict:
    doc = Official._get_collection().find_one({"_id": code})
    if doc is None:
        raise Problem(403, "Your official record no longer exists.", slug="not-allowed")
    return doc


def check_reviewable(reviewer_code: str, reviewee_code: str) -> dict:
    """Return the reviewee, or raise 403/404 per the contract."""
    if reviewer_code == reviewee_code:
        raise Problem(403, "Nobody reviews themselves.", slug="self-review")
    reviewer = _official(reviewer_code)
    reviewee = Official._get_collection().find_one({"_id": reviewee_code})
    if reviewee is None:
        raise Problem(404, f"No official {reviewee_code!r}.", slug="unknown-official")
    if reviewee["unit"] != reviewer["unit"]:
        raise Problem(403, "You can review colleagues of your own unit only.",
                      slug="other-unit")
    if not reviewee.get("active", True):
        raise Problem(403, "That colleague is not active.", slug="inactive-official")
    return reviewee


def own_review(period: str, reviewer: str, reviewee: str, key: bytes) -> dict | None:
    return PeerReview._get_collection().find_one(
        {"_id": review_key(key, period, reviewer, reviewee)})


def save_review(period: str, reviewer: str, reviewee: dict, body: dict, key: bytes,
                correlationid: str | None = None) -> tuple[dict, bool]:
    """Store (or replace) a review with its event; return (stored review, created)."""
    coll = PeerReview._get_collection()
    rid = review_key(key, period, reviewer, reviewee["_id"])
    for _ in range(5):
        current = coll.find_one({"_id": rid}, {"revision": 1})
        revision = (current or {}).get("revision", 0) + 1
        now = stored_now()
        pseudonym = reviewer_pseudonym(key, period, reviewer, reviewee["_id"])
        record = {"period": period, "unit": reviewee["unit"], "reviewee": reviewee["_id"],
                  "scores": dict(body["scores"]), "comment": body.get("comment"),
                  "revision": revision, "submitted_at": now}
        event = review_event(rid, {**record, "reviewer_pseudonym": pseudonym},
                             correlationid=correlationid)
        doc = {**record, "reviewer_pseudonym": pseudonym, **outbox_fields(event)}
        if current is None:
            try:
                coll.insert_one({"_id": rid, **doc})
            except DuplicateKeyError:
                continue
            return record, True
        if coll.update_one({"_id": rid, "revision": revision - 1}, {"$set": doc}).matched_count:
            return record, False
    raise Problem(409, "This review is being edited at the same time elsewhere; try again.",
                  slug="concurrent-edit")


def review_event(review_id: str, doc: dict, correlationid: str | None = None) -> ev.Event:
    """The `peer_review.submitted` event of a stored review (also used to replay it)."""
    return ev.make_event(ev.PEER_REVIEW_SUBMITTED, {
        "id": review_id, "period": doc["period"], "unit": doc["unit"],
        "reviewee": doc["reviewee"], "reviewer": doc["reviewer_pseudonym"],
        "scores": doc["scores"], "revision": doc["revision"],
        "submitted_at": doc["submitted_at"],
    }, source=SOURCE, id=f"review-{review_id}-{doc['revision']}", correlationid=correlationid)


def pseudonym_key(secret: str | None) -> bytes:
    return keys.purpose_key(PSEUDONYM_PURPOSE, secret)
