"""Counter tokens (signed, revocable, printed in QR codes) and official bearer tokens."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

from flask import current_app

from services.survey import keys
from services.survey.documents import Counter, Official, OfficialToken
from shared.auth import Principal, token_digest

COUNTER_PURPOSE = "counter-token"


def counter_key() -> bytes:
    ctx = current_app.extensions["survey"]
    return keys.purpose_key(COUNTER_PURPOSE, ctx.secret)


def make_counter_token(key: bytes, nonce: str | None = None) -> str:
    """`<nonce>.<signature>`: a forged or mistyped token is refused before any lookup."""
    nonce = nonce or secrets.token_urlsafe(12)
    return f"{nonce}.{keys.sign(key, nonce)}"


def counter_token_valid(key: bytes, token: str) -> bool:
    nonce, _, signature = token.rpartition(".")
    if not nonce or not signature:
        return False
    # bytes: compare_digest refuses str with non-ASCII characters (any URL may have them)
    return hmac.compare_digest(keys.sign(key, nonce).encode(), signature.encode())


def counter_by_token(token: str) -> dict | None:
    """The active counter a token belongs to, or None (unknown, forged or revoked)."""
    if not counter_token_valid(counter_key(), token):
        return None
    return Counter._get_collection().find_one({"token": token})


def rotate_counter_token(code: str) -> str | None:
    """Give a counter a new token; the old one stops working at once."""
    token = make_counter_token(counter_key())
    result = Counter._get_collection().update_one(
        {"_id": code}, {"$set": {"token": token, "updated_at": datetime.now(UTC)}})
    return token if result.matched_count else None


# --- officials ----------------------------------------------------------------------


def issue_official_token(official: str) -> str:
    """A new bearer token for `official`, returned once and stored as its digest."""
    token = f"cso_{secrets.token_urlsafe(32)}"
    OfficialToken._get_collection().insert_one({
        "_id": token_digest(token), "official": official, "created_at": datetime.now(UTC)})
    return token


def revoke_official_tokens(official: str) -> int:
    result = OfficialToken._get_collection().update_many(
        {"official": official, "revoked_at": {"$exists": False}},
        {"$set": {"revoked_at": datetime.now(UTC)}})
    return result.modified_count


def resolve_official_token(token: str) -> Principal | None:
    """The official a bearer token acts as, if it is live and the official is active."""
    if not token.startswith("cso_"):
        return None
    doc = OfficialToken._get_collection().find_one({"_id": token_digest(token)})
    if doc is None or doc.get("revoked_at"):
        return None
    official = Official._get_collection().find_one({"_id": doc["official"]}, {"active": 1})
    if official is None or not official.get("active", True):
        return None
    return Principal("official", doc["official"])
