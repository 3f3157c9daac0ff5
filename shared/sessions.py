"""Signed sessions every service checks by itself.

A session is a short-lived JSON Web Token signed with survey's Ed25519 key (EdDSA, PyJWT):
survey alone holds the private key and issues and renews sessions; every service verifies
them with the public keys it knows (from its environment, or announced by survey in an
`auth.keys_published` event), without calling another service.

The token names the official (`sub`), the session (`sid`, for sign-out), when they signed
in (`auth_time`: revocations and the absolute lifetime are judged on it) and a CSRF value
(`csrf`) that writes made with the cookie must repeat. Who the official is allowed to be
(active, roles, units managed) is not in the token: each service reads it from its own
copy of the directory, so a change applies at once, not when the token expires.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

COOKIE = "congso_session"
ISSUER = "congso"
IDLE = timedelta(minutes=30)  # a token unused this long has expired: signed out when idle
RENEW_AFTER = timedelta(minutes=5)  # older than this, the next request renews it
MAX_AGE = timedelta(hours=12)  # sign in again after this, however busy
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class SessionClaims:
    official: str
    session_id: str
    issued_at: datetime
    expires_at: datetime
    auth_time: datetime
    csrf: str

    def needs_renewal(self, now: datetime) -> bool:
        return now - self.issued_at >= RENEW_AFTER


# --- keys -----------------------------------------------------------------------------


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, or from the base64 of its 32 raw bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def private_key_text(key: Ed25519PrivateKey) -> str:
    """The base64 of the key's 32 raw bytes (what `private_key_from_text` reads)."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The base64 of a public key's 32 raw bytes: how keys travel in events and settings."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def key_id(public_text: str) -> str:
    """A short, stable id of a public key (the token header's `kid`)."""
    return hashlib.sha256(public_text.encode()).hexdigest()[:16]


# --- tokens ---------------------------------------------------------------------------


class SessionSigner:
    """Issues and renews session tokens (survey only: it holds the private key)."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.public_text = public_key_text(private_key)
        self.kid = key_id(self.public_text)

    def issue(self, official: str, *, now: datetime | None = None,
              previous: SessionClaims | None = None) -> tuple[str, SessionClaims]:
        """A new token: for a fresh sign-in, or renewing `previous` (same session, same
        sign-in time and CSRF value, a new expiry)."""
        moment = now or datetime.now(UTC)
        now = moment.replace(microsecond=0)
        # the sign-in time to the millisecond, as revocations are kept: a sign-in a moment
        # after a revocation is not taken for a session it ended
        signed_in = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        claims = SessionClaims(
            official=official,
            session_id=previous.session_id if previous else secrets.token_urlsafe(18),
            issued_at=now,
            expires_at=now + IDLE,
            auth_time=previous.auth_time if previous else signed_in,
            csrf=previous.csrf if previous else secrets.token_urlsafe(24),
        )
        if claims.expires_at > claims.auth_time + MAX_AGE:
            claims = SessionClaims(**{**claims.__dict__,
                                      "expires_at": claims.auth_time + MAX_AGE})
        payload = {
            "iss": ISSUER, "sub": official, "sid": claims.session_id,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "auth_time": round(claims.auth_time.timestamp(), 3), "csrf": claims.csrf,
        }
        token = jwt.encode(payload, self._key, algorithm="EdDSA", headers={"kid": self.kid})
        return token, claims


def _from_ms(timestamp) -> datetime:
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        raise TypeError("not a time")
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.replace(microsecond=round(moment.microsecond / 1000) * 1000 % 1_000_000)


def verify(token: str, keys: dict[str, Ed25519PublicKey], *,
           now: datetime | None = None) -> SessionClaims | None:
    """The claims of a valid token signed by one of `keys` (by `kid`); None for anything
    else: forged, tampered, expired, older than MAX_AGE, or signed by an unknown key."""
    if not token or len(token) > 2048:
        return None
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        # expiry is judged below, against `now` (PyJWT would use the clock)
        payload = jwt.decode(token, key, algorithms=["EdDSA"], issuer=ISSUER,
                             options={"verify_exp": False, "verify_iat": False,
                                      "require": ["exp", "iat", "sub", "sid", "auth_time",
                                                  "csrf"]})
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    try:
        claims = SessionClaims(
            official=str(payload["sub"]), session_id=str(payload["sid"]),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            auth_time=_from_ms(payload["auth_time"]),
            csrf=str(payload["csrf"]))
    except (TypeError, ValueError, OverflowError):
        return None
    now = now or datetime.now(UTC)
    if claims.auth_time + MAX_AGE < now or claims.expires_at <= now:
        return None
    return claims
