"""Sign-in links: survey makes a nonce, notify turns it into the link it emails.

The link's secret is `<nonce>.<MAC>`: a keyed MAC of the nonce with a key survey and notify
share (`SIGNIN_LINK_KEY`, else derived from the `ADMIN_TOKEN` both already hold). The
event between them carries only the nonce, so the secret exists in clear nowhere but in
the email: not in an event, not in either database (survey keeps its SHA-256 to find
the link again), not in a log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

LIFETIME_MINUTES = 15
_TAG = 24  # bytes of MAC in a link


def link_key(signin_link_key: str | None, admin_token: str) -> bytes:
    source = signin_link_key or f"congso-signin-link|{admin_token}"
    return hashlib.sha256(source.encode()).digest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _mac(key: bytes, nonce: str) -> str:
    tag = hmac.new(key, f"signin|{nonce}".encode(), hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(tag).rstrip(b"=").decode()


def secret_for(key: bytes, nonce: str) -> str:
    """The secret of the link for `nonce` (notify, as it writes the email)."""
    return f"{nonce}.{_mac(key, nonce)}"


def nonce_of(key: bytes, secret: str) -> str | None:
    """The nonce of a genuine secret, None for a forged or mangled one (no database look-up
    for those)."""
    nonce, _, mac = secret.rpartition(".")
    if not nonce or not mac or len(secret) > 200:
        return None
    if not hmac.compare_digest(_mac(key, nonce).encode(), mac.encode()):
        return None
    return nonce


def secret_digest(secret: str) -> str:
    """How survey stores a link: the SHA-256 of its secret."""
    return hashlib.sha256(secret.encode()).hexdigest()
