"""Review windows, peer reviews and their drafts, stored under keyed pseudonyms.

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
from services.survey.documents import PeerReview, PeerReviewWindow, ReviewDraft
from services.survey.store import Notify, notify_of
from shared.db import stored_now
from shared.errors import Conflict
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields

ATTEMPTS = 5


def window(period: str) -> dict | None:
    """The review window set for `period`, if any."""
    return PeerReviewWindow._get_collection().find_one({"_id": period},
                                                   {PENDING_AT: 0, PENDING_EVENT: 0})


def windows() -> list[dict]:
    """Every window set, by year (replays)."""
    return list(PeerReviewWindow._get_collection().find({}, {PENDING_AT: 0, PENDING_EVENT: 0})
                .sort("_id", 1))


def set_window(period: str, opens_at: datetime, closes_at: datetime,
               remind_before: list[str], *, correlationid: str | None = None,
               notify: Notify | None = None) -> tuple[dict, bool]:
    """Create or replace a period's window, one version more, with its
    `review_window.set` event; return (window, created). An event not yet published is
    replaced by the next version's: scoring and notify need the newest window only."""
    coll = PeerReviewWindow._get_collection()
    for _ in range(ATTEMPTS):
        current = coll.find_one({"_id": period}, {"version": 1})
        version = (current or {}).get("version", 0) + 1
        doc = {"opens_at": opens_at, "closes_at": closes_at,
               "remind_before": list(remind_before), "version": version}
        fields = {**doc, **outbox_fields(domain.window_event(period, doc, correlationid))}
        if current is None:
            try:
                coll.insert_one({"_id": period, **fields})
            except DuplicateKeyError:
                continue
        elif not coll.update_one({"_id": period, "version": current.get("version")},
                                 {"$set": fields}).matched_count:
            continue
        notify_of(notify, PeerReviewWindow, period)
        return doc, current is None
    raise Conflict("This window is being changed at the same time elsewhere; try again.",
                   slug="concurrent-edit")


def reviewed(review_ids: list[str]) -> set[str]:
    """Those of `review_ids` that are stored."""
    return {d["_id"] for d in PeerReview._get_collection().find(
        {"_id": {"$in": list(review_ids)}}, {"_id": 1})}


def drafted(review_ids: list[str]) -> set[str]:
    """Those of `review_ids` that have a draft saved."""
    return {d["_id"] for d in ReviewDraft._get_collection().find(
        {"_id": {"$in": list(review_ids)}}, {"_id": 1})}


def draft(review_id: str) -> dict | None:
    return ReviewDraft._get_collection().find_one({"_id": review_id})


def save_draft(review_id: str, scores: dict, comment: str | None) -> None:
    """Keep a review to finish later (replacing an earlier draft of it)."""
    ReviewDraft._get_collection().replace_one(
        {"_id": review_id}, {"scores": dict(scores), "comment": comment}, upsert=True)


def drop_draft(review_id: str) -> None:
    ReviewDraft._get_collection().delete_one({"_id": review_id})


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
