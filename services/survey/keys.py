"""Keys survey signs and pseudonymises with, stable for the life of its database.

With SECRET_KEY set, each purpose's key is derived from it (HMAC, so the purposes never
share a key). Without it, a random key per purpose is created once and kept in survey's
own database, so counter tokens and reviewer pseudonyms survive restarts either way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading

from services.survey.store import access

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()
DEMO_SECRET = "congso-demo-secret-not-for-production"
COUNTER_TOKEN = "counter-token"
REVIEWER_PSEUDONYM = "reviewer-pseudonym"
CLIENT_ADDRESS = "client-address"


def purpose_key(purpose: str, secret_key: str | None) -> bytes:
    """The key for `purpose` (one of the names above)."""
    if secret_key:
        return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    cache_key = (access.database_name(), purpose)
    with _lock:
        if cache_key in _cache:
            return _cache[cache_key]
    key = access.key_record(purpose)
    with _lock:
        _cache[cache_key] = key
    return key


def sign(key: bytes, message: str, length: int = 12) -> str:
    """A URL-safe HMAC-SHA256 signature of `message`, `length` bytes long."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
