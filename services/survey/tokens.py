"""Counter tokens (signed, revocable, printed in QR codes) and official bearer tokens."""

from __future__ import annotations

import hmac
import secrets

from services.survey import keys
from services.survey.store import access, directory
from shared.auth import Principal, token_digest


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


def counter_by_token(key: bytes, token: str) -> dict | None:
    """The active counter a token belongs to, or None (unknown, forged or revoked)."""
    if not counter_token_valid(key, token):
        return None
    return directory.counter_by_token(token)


def issue_official_token(official: str) -> str:
    """A new bearer token for `official`, returned once and stored as its digest."""
    token = f"cso_{secrets.token_urlsafe(32)}"
    access.add_official_token(token_digest(token), official)
    return token


def resolve_official_token(token: str) -> Principal | None:
    """The official a bearer token acts as, if it is live and the official is active."""
    if not token.startswith("cso_"):
        return None
    code = access.live_token_official(token_digest(token))
    official = directory.find("official", code) if code else None
    if official is None or not official.get("active", True):
        return None
    return Principal("official", code)
