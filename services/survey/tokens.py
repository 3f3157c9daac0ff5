"""Counter tokens: signed, revocable, printed in QR codes (officials' bearer tokens are
`identity.issue_token`'s)."""

from __future__ import annotations

import hmac
import secrets

from services.survey import keys
from services.survey.store import directory


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
