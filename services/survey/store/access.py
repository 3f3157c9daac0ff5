"""Survey's keys, officials' bearer tokens (as digests), the public session keys it
announced and the revocations it published: what survey's part of sign-in stores, each
with its event in the same write where the other services need to hear of it."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.survey.documents import KeyRecord, OfficialToken, PublishedKey, Revocation
from services.survey.store import Notify, notify_of
from shared.db import stored_now
from shared.events import Event
from shared.outbox import outbox_fields


def ensure_indexes() -> None:
    Revocation._get_collection().create_index([("until", ASCENDING)], sparse=True)


def database_name() -> str:
    """Which database the keys live in (a process may serve several, in tests)."""
    return KeyRecord._get_collection().database.name


def key_record(purpose: str) -> bytes:
    """The random key kept for `purpose`, made by whichever process asks first."""
    coll = KeyRecord._get_collection()
    doc = coll.find_one({"_id": purpose})
    if doc is None:
        # DuplicateKeyError: another process made it first; use theirs
        with contextlib.suppress(DuplicateKeyError):
            coll.insert_one({"_id": purpose, "key": secrets.token_hex(32)})
        doc = coll.find_one({"_id": purpose})
    return bytes.fromhex(doc["key"])


# --- officials' bearer tokens ------------------------------------------------------------


def add_official_token(digest: str, official: str, *, issued_by: str, created_at: datetime,
                       event: Event, notify: Notify | None = None) -> None:
    OfficialToken._get_collection().insert_one(
        {"_id": digest, "official": official, "created_at": created_at,
         "issued_by": issued_by, **outbox_fields(event)})
    notify_of(notify, OfficialToken, digest)


def revoke_official_tokens(official: str, at: datetime | None = None) -> int:
    """Mark every live token of `official` revoked; return how many."""
    result = OfficialToken._get_collection().update_many(
        {"official": official, "revoked_at": {"$exists": False}},
        {"$set": {"revoked_at": at or stored_now()}})
    return result.modified_count


def tokens_of(official: str, limit: int = 50) -> list[dict]:
    """The tokens issued for `official`, newest first: when, by whom, revoked or not."""
    return list(OfficialToken._get_collection().find(
        {"official": official}, {"created_at": 1, "issued_by": 1, "revoked_at": 1})
        .sort("created_at", -1).limit(limit))


def live_tokens() -> Iterator[dict]:
    """Every token not revoked: {_id (digest), official, created_at}."""
    yield from OfficialToken._get_collection().find(
        {"revoked_at": {"$exists": False}}, {"official": 1, "created_at": 1})


# --- public session keys -------------------------------------------------------------------


def publish_key(kid: str, public_key: str, published_at: datetime, event: Event,
                notify: Notify | None = None) -> None:
    """Record (again) the announcement of a public key, its event pending in the write."""
    PublishedKey._get_collection().update_one(
        {"_id": kid}, {"$set": {"public_key": public_key, "published_at": published_at,
                                **outbox_fields(event)}}, upsert=True)
    notify_of(notify, PublishedKey, kid)


def published_keys() -> list[dict]:
    """The public keys announced, the latest announced last."""
    return list(PublishedKey._get_collection().find({}, {"public_key": 1, "published_at": 1})
                .sort("published_at", 1))


# --- revocations ---------------------------------------------------------------------------


def add_revocation(record: dict, event: Event, notify: Notify | None = None) -> None:
    """Store a revocation ({_id, at, official?, sessions, tokens, session?, until?}) with
    its `auth.revoked` event."""
    Revocation._get_collection().insert_one({**record, **outbox_fields(event)})
    notify_of(notify, Revocation, record["_id"])


def revocations_in_force(now: datetime) -> Iterator[dict]:
    """Revocations that still decide something: every official-wide one, and sign-outs
    of sessions that could still be alive."""
    yield from Revocation._get_collection().find(
        {"$or": [{"session": None}, {"until": {"$gt": now}}]},
        {"outbox_at": 0, "outbox_event": 0})
