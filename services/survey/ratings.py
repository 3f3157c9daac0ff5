"""Accepting a citizen rating: the rules, then one write that stores it with its event.

Every lookup on this path is by key (`_id`), so it stays O(1) whatever the number of
ratings, on MongoDB and on the embedded store alike.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from pymongo.errors import DuplicateKeyError

from services.survey.documents import Official, Rating, ReceiptClaim
from shared import events as ev
from shared.db import stored_now
from shared.outbox import outbox_fields
from shared.problems import Problem

SOURCE = "/congso/survey"
# Rating ids are derived from the client's id: the same client_id is the same rating.
RATING_NAMESPACE = uuid.UUID("5b1f0f36-6a4c-4f38-9d0e-6f3b8c1d2a47")


def rating_id_for(client_id: str) -> str:
    return uuid.uuid5(RATING_NAMESPACE, client_id).hex


def existing_rating(client_id: str) -> str | None:
    """The id of the rating already stored for this client_id, if any."""
    rating_id = rating_id_for(client_id)
    found = Rating._get_collection().find_one({"_id": rating_id}, {"_id": 1})
    return rating_id if found else None


def client_hash(address: str | None, key: bytes) -> str | None:
    """A keyed (salted) hash of the client address: lets us see floods, never who rated."""
    if not address:
        return None
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def check_official(counter: dict, official: str | None) -> None:
    """Raise a 422 unless `official` is absent or an active official on that counter."""
    if official is None:
        return
    if official not in (counter.get("officials") or []):
        raise Problem(422, "That official does not serve at this counter.",
                      errors={"official": ["is not an official of this counter"]},
                      slug="validation-error")
    doc = Official._get_collection().find_one({"_id": official}, {"active": 1})
    if doc is None or not doc.get("active", True):
        raise Problem(422, "That official is not active.",
                      errors={"official": ["is not an active official"]},
                      slug="validation-error")


def _receipt_conflict() -> Problem:
    return Problem(409, "This receipt code has already been rated.",
                   errors={"receipt_code": ["has already been rated"]},
                   slug="receipt-already-rated")


def claim_receipt(key: str, rating_id: str) -> None:
    """Reserve a receipt code for `rating_id`, or raise 409 if another rating has it.

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
    if holder is None or Rating._get_collection().find_one({"_id": holder}, {"_id": 1}):
        raise _receipt_conflict()
    taken = claims.update_one({"_id": key, "rating": holder}, {"$set": {"rating": rating_id}})
    if not taken.modified_count:
        raise _receipt_conflict()


def rating_event(data: dict, correlationid: str | None = None) -> ev.Event:
    """The `rating.submitted` event of a rating (also used to replay it)."""
    return ev.make_event(ev.RATING_SUBMITTED, data, source=SOURCE, id=f"rating-{data['id']}",
                         subject=data["id"], correlationid=correlationid)


def accept_rating(
    body: dict, counter: dict, *, address_hash: str | None, correlationid: str | None = None,
) -> tuple[str, bool]:
    """Store the rating and its `rating.submitted` event; return (id, created).

    The caller has checked that this `client_id` is new (see `existing_rating`); sent twice
    at once, the second insert fails on the key and returns the first rating's id. A
    receipt code already rated at this unit is a 409.
    """
    ratings = Rating._get_collection()
    rating_id = rating_id_for(body["client_id"])
    check_official(counter, body.get("official"))
    if body.get("receipt_code"):
        claim_receipt(f"{counter['unit']}:{body['receipt_code']}", rating_id)
    data = {
        "id": rating_id,
        "client_id": body["client_id"],
        "counter": counter["_id"],
        "unit": counter["unit"],
        "official": body.get("official"),
        "overall": body["overall"],
        "factors": body.get("factors") or {},
        "comment": body.get("comment"),
        "receipt_code": body.get("receipt_code"),
        "submitted_at": stored_now(),
    }
    event = rating_event(data, correlationid)
    doc = {
        "_id": rating_id,
        **{k: v for k, v in data.items() if k != "id" and v is not None},
        "client_hash": address_hash,
        **outbox_fields(event),
    }
    try:
        ratings.insert_one(doc)
    except DuplicateKeyError:
        return rating_id, False  # the same client_id, sent twice at once
    return rating_id, True
