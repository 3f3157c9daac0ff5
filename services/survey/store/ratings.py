"""Citizen ratings and the receipt codes they claimed.

Every lookup on the rating path is by key (`_id`), so it stays O(1) whatever the number
of ratings, on MongoDB and on the embedded store alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from pymongo.errors import DuplicateKeyError

from services.survey import domain
from services.survey.documents import Rating, ReceiptClaim
from services.survey.store import Notify, notify_of
from shared.errors import Conflict
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields


def rating_exists(rating_id: str) -> bool:
    return Rating._get_collection().find_one({"_id": rating_id}, {"_id": 1}) is not None


def _receipt_conflict() -> Conflict:
    return Conflict("This receipt code has already been rated.",
                    errors={"receipt_code": ["has already been rated"]},
                    slug="receipt-already-rated")


def claim_receipt(key: str, rating_id: str) -> None:
    """Reserve a receipt code for `rating_id`, or raise Conflict if another rating has it.

    A claim whose rating was never stored (the process died between the two writes)
    is stale and is taken over, so a crash can't burn a citizen's receipt code.
    """
    claims = ReceiptClaim._get_collection()
    try:
        claims.insert_one({"_id": key, "rating": rating_id})
        return
    except DuplicateKeyError:
        pass
    holder = (claims.find_one({"_id": key}) or {}).get("rating")
    if holder == rating_id:
        return
    if holder is None or rating_exists(holder):
        raise _receipt_conflict()
    taken = claims.update_one({"_id": key, "rating": holder}, {"$set": {"rating": rating_id}})
    if not taken.modified_count:
        raise _receipt_conflict()


def add_rating(data: dict, *, address_hash: str | None, correlationid: str | None = None,
               notify: Notify | None = None, subject: str | None = None,
               source: str | None = None) -> bool:
    """Store a rating (`domain.rating_data`, with its state) with its `rating.submitted`
    event; return False if a rating of the same client_id is already stored (sent twice
    at once). `subject` and `source` place it among the ratings the rules compare."""
    event = domain.rating_event(data, correlationid)
    doc = {
        "_id": data["id"],
        **{k: v for k, v in data.items() if k != "id" and v is not None},
        "client_hash": address_hash,
        **({"subject": subject, "source": source} if source else {}),
        **outbox_fields(event),
    }
    try:
        Rating._get_collection().insert_one(doc)
    except DuplicateKeyError:
        return False
    notify_of(notify, Rating, data["id"])
    return True


def each_rating() -> Iterator[dict]:
    """Every rating as stored, without its pending event, one at a time (replays)."""
    yield from Rating._get_collection().find({}, {PENDING_AT: 0, PENDING_EVENT: 0})


def count() -> int:
    return Rating._get_collection().estimated_document_count()
