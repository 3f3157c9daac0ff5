"""Review windows and peer reviews, stored under keyed pseudonyms.

Nothing stored or published names the reviewer. A review's key is an HMAC of (period,
reviewer, reviewee) with a key survey keeps, so only the reviewer's own token can find
their review again (to show "done" or to edit it); the event carries another HMAC of the
same triple as `reviewer`, so scoring can replace an edited review but cannot tell that
two reviews of different colleagues came from the same person.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.survey import domain
from services.survey.documents import PeerReview, ReviewWindow
from services.survey.store import Notify, notify_of
from shared.db import stored_now
from shared.errors import Conflict
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields

ATTEMPTS = 5


def window(period: str) -> dict | None:
    """The review window set for `period`, if any."""
    return ReviewWindow._get_collection().find_one({"_id": period})


def set_window(period: str, opens_at: datetime, closes_at: datetime) -> bool:
    """Create or replace a period's window; return True if it is new."""
    result = ReviewWindow._get_collection().update_one(
        {"_id": period}, {"$set": {"opens_at": opens_at, "closes_at": closes_at}}, upsert=True)
    return result.upserted_id is not None


def reviewed(review_ids: list[str]) -> set[str]:
    """Those of `review_ids` that are stored."""
    return {d["_id"] for d in PeerReview._get_collection().find(
        {"_id": {"$in": list(review_ids)}}, {"_id": 1})}


def review(review_id: str) -> dict | None:
    return PeerReview._get_collection().find_one({"_id": review_id},
                                                 {PENDING_AT: 0, PENDING_EVENT: 0})


def save_review(period: str, reviewer: str, reviewee: dict, body: dict, key: bytes, *,
                correlationid: str | None = None, now: datetime | None = None,
                notify: Notify | None = None) -> tuple[dict, bool]:
    """Store (or replace) `reviewer`'s review of `reviewee` with its event; return (stored
    review, created). `now` is when it was submitted (the demo's history); default now."""
    coll = PeerReview._get_collection()
    rid = domain.review_key(key, period, reviewer, reviewee["code"])
    pseudonym = domain.reviewer_pseudonym(key, period, reviewer, reviewee["code"])
    for _ in range(ATTEMPTS):
        current = coll.find_one({"_id": rid}, {"revision": 1})
        revision = (current or {}).get("revision", 0) + 1
        record = {"period": period, "unit": reviewee["unit"], "reviewee": reviewee["code"],
                  "scores": dict(body["scores"]), "comment": body.get("comment"),
                  "revision": revision, "submitted_at": now or stored_now()}
        event = domain.review_event(rid, {**record, "reviewer_pseudonym": pseudonym},
                                    correlationid=correlationid)
        doc = {**record, "reviewer_pseudonym": pseudonym, **outbox_fields(event)}
        if current is None:
            try:
                coll.insert_one({"_id": rid, **doc})
            except DuplicateKeyError:
                continue
            notify_of(notify, PeerReview, rid)
            return record, True
        if coll.update_one({"_id": rid, "revision": revision - 1}, {"$set": doc}).matched_count:
            notify_of(notify, PeerReview, rid)
            return record, False
    raise Conflict("This review is being edited at the same time elsewhere; try again.",
                   slug="concurrent-edit")


def each_review() -> Iterator[tuple[str, dict]]:
    """Every review as (id, stored document), one at a time (replays)."""
    for doc in PeerReview._get_collection().find({}, {PENDING_AT: 0, PENDING_EVENT: 0}):
        yield doc["_id"], doc
