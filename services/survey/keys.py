"""Keys survey signs and pseudonymises with, stable for the life of its database.

With SECRET_KEY set, each purpose's key is derived from it (HMAC, so the purposes never
share a key). Without it, a random key per purpose is created once and kept in survey's
own database, so counter tokens and reviewer pseudonyms survive restarts either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading

from pymongo.errors import DuplicateKeyError

from services.survey.documents import KeyRecord

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()
DEMO_SECRET = "congso-demo-secret-not-for-production"


def purpose_key(purpose: str, secret_key: str | None) -> bytes:
    """The key for `purpose` (e.g. "counter-token", "reviewer-pseudonym")."""
    if secret_key:
        return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    coll = KeyRecord._get_collection()
    cache_key = (coll.database.name, purpose)
    with _lock:
        if cache_key in _cache:
            return _cache[cache_key]
    doc = coll.find_one({"_id": purpose})
    if doc is None:
        # DuplicateKeyError: another process made it first; use theirs
        with contextlib.suppress(DuplicateKeyError):
            coll.insert_one({"_id": purpose, "key": secrets.token_hex(32)})
        doc = coll.find_one({"_id": purpose})
    key = bytes.fromhex(doc["key"])
    with _lock:
        _cache[cache_key] = key
    return key


def sign(key: bytes, message: str, length: int = 12) -> str:
    """A URL-safe HMAC-SHA256 signature of `message`, `length` bytes long."""
    import base64

    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
