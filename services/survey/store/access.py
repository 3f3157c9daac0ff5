"""Survey's keys (when SECRET_KEY is not set) and officials' bearer tokens (as digests)."""

from __future__ import annotations

import contextlib
import secrets

from pymongo.errors import DuplicateKeyError

from services.survey.documents import KeyRecord, OfficialToken
from shared.db import stored_now


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


def add_official_token(digest: str, official: str) -> None:
    OfficialToken._get_collection().insert_one(
        {"_id": digest, "official": official, "created_at": stored_now()})


def revoke_official_tokens(official: str) -> int:
    """Revoke every live token of `official`; return how many."""
    result = OfficialToken._get_collection().update_many(
        {"official": official, "revoked_at": {"$exists": False}},
        {"$set": {"revoked_at": stored_now()}})
    return result.modified_count


def live_token_official(digest: str) -> str | None:
    """The official whose live (not revoked) token has this digest, if any."""
    doc = OfficialToken._get_collection().find_one({"_id": digest})
    if doc is None or doc.get("revoked_at"):
        return None
    return doc["official"]
