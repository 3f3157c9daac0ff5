"""Survey's side of identity: the session key and signer, the public key it announces, its
own copy of who may do what (kept current as survey writes, never lagging behind itself),
officials' bearer tokens, and ending sessions and tokens.

Survey alone holds the private session key: `SESSION_SIGNING_KEY`, else a key generated
once and kept in survey's database (never derived from SECRET_KEY: the demo's is public).
The other services verify sessions with the public key survey announces
(`auth.keys_published`) or are given (`SESSION_PUBLIC_KEYS`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.survey import domain
from services.survey.store import access as access_store
from services.survey.store import directory
from shared import auth_events as auth
from shared import events as ev
from shared import sessions
from shared.access import AccessStore
from shared.auth import token_digest
from shared.db import stored_now

logger = logging.getLogger(__name__)
SESSION_KEY = "session-signing-key"


class LazySigner:
    """Survey's `SessionSigner`, its key read when first needed: a key kept in the
    database cannot be read before the database is up, but the app is built before."""

    def __init__(self, settings):
        self._settings = settings
        self._signer: sessions.SessionSigner | None = None
        self._lock = threading.Lock()

    def _get(self) -> sessions.SessionSigner:
        if self._signer is None:
            with self._lock:
                if self._signer is None:
                    self._signer = sessions.SessionSigner(private_key(self._settings))
        return self._signer

    def issue(self, official: str, *, now: datetime | None = None,
              previous: sessions.SessionClaims | None = None):
        return self._get().issue(official, now=now, previous=previous)

    @property
    def public_text(self) -> str:
        return self._get().public_text

    @property
    def kid(self) -> str:
        return self._get().kid


def private_key(settings) -> Ed25519PrivateKey:
    if settings.session_signing_key:
        return sessions.private_key_from_text(settings.session_signing_key)
    return Ed25519PrivateKey.from_private_bytes(access_store.key_record(SESSION_KEY))


def announce_key(ctx) -> None:
    """Announce survey's public key (again) to the other services and to its own copy."""
    key, now = {"kid": ctx.signer.kid, "public_key": ctx.signer.public_text}, stored_now()
    access_store.publish_key(key["kid"], key["public_key"], now, _keys_event([key], now),
                             ctx.relay.notify)
    ctx.access.apply_keys([key], now)
    pinned = ctx.settings.session_public_keys
    if pinned and key["public_key"] not in pinned:
        logger.warning("SESSION_PUBLIC_KEYS does not list survey's own public key %s: the "
                       "sessions survey issues will be refused", key["kid"])


# --- survey's own access copy --------------------------------------------------------------


def track_unit(access: AccessStore, code: str, record: dict) -> None:
    access.apply_unit({"code": code, **record})


def track_official(access: AccessStore, code: str, record: dict) -> None:
    access.apply_official({"code": code, **record})


def sync_access(ctx) -> None:
    """Bring survey's copy up to its own records (at start: a database written by an
    earlier release, or a copy lost). Each step is idempotent."""
    for kind, track in (("unit", track_unit), ("official", track_official)):
        for record in directory.each(kind):
            track(ctx.access, record["code"], record)
    for doc in access_store.live_tokens():
        ctx.access.apply_token(doc["_id"], doc["official"], doc["created_at"])
    announced = access_store.published_keys()
    if announced:  # the newest announcement is the set trusted (a replay sends it again)
        latest = announced[-1]
        ctx.access.apply_keys([{"kid": latest["_id"], "public_key": latest["public_key"]}],
                              latest["published_at"])
    for doc in access_store.revocations_in_force(stored_now()):
        _apply_revocation(ctx.access, doc)


# --- tokens, sessions, revocations ----------------------------------------------------------


def issue_token(ctx, official: str, *, issued_by: str) -> str:
    """A new bearer token for `official`, returned once; stored and announced as its
    digest (every service then accepts it)."""
    token = f"cso_{secrets.token_urlsafe(32)}"
    digest, now = token_digest(token), stored_now()
    access_store.add_official_token(digest, official, issued_by=issued_by, created_at=now,
                                    event=_token_event(official, digest, now),
                                    notify=ctx.relay.notify)
    ctx.access.apply_token(digest, official, now)
    return token


def revoke_official(ctx, official: str) -> int:
    """End every session and token of `official` begun until now, in every service;
    return how many tokens that revoked."""
    now = stored_now()
    _revoke(ctx, {"_id": uuid.uuid4().hex, "at": now, "official": official,
                  "sessions": True, "tokens": True})
    return access_store.revoke_official_tokens(official, now)


def end_session(ctx, claims: sessions.SessionClaims) -> None:
    """Sign-out: the session ends in every service (until the latest it could expire)."""
    _revoke(ctx, {"_id": uuid.uuid4().hex, "at": stored_now(), "session": claims.session_id,
                  "until": claims.auth_time + sessions.MAX_AGE})


def _revoke(ctx, record: dict) -> None:
    access_store.add_revocation(record, _revocation_event(record), ctx.relay.notify)
    _apply_revocation(ctx.access, record)


def _apply_revocation(access: AccessStore, record: dict) -> None:
    access.apply_revocation(at=record["at"], official=record.get("official"),
                            sessions_too=record.get("sessions", False),
                            tokens_too=record.get("tokens", False),
                            session=record.get("session"), until=record.get("until"))


def new_session(ctx, official: str, now: datetime | None = None):
    """A fresh session for `official`: (token, claims)."""
    return ctx.signer.issue(official, now=now)


# --- the events, also replayed -----------------------------------------------------------


def _keys_event(keys: list[dict], published_at: datetime) -> ev.Event:
    return ev.make_event(auth.KEYS_PUBLISHED, {"keys": keys, "published_at": published_at},
                         source=domain.SOURCE, subject=keys[0]["kid"])


def _token_event(official: str, digest: str, issued_at: datetime) -> ev.Event:
    return ev.make_event(auth.TOKEN_ISSUED, {"official": official, "digest": digest,
                                             "issued_at": issued_at},
                         source=domain.SOURCE, subject=official)


def _revocation_event(record: dict) -> ev.Event:
    data = {k: v for k, v in record.items() if k != "_id"}
    return ev.make_event(auth.REVOKED, data, source=domain.SOURCE,
                         subject=record.get("official"))


def access_events() -> Iterator[ev.Event]:
    """What another service needs to know to check callers as survey does: the public
    keys, the live tokens' digests and the revocations still in force (a replay)."""
    published = access_store.published_keys()
    if published:  # the newest announcement: the whole set to trust (older keys are retired)
        latest = published[-1]
        yield _keys_event([{"kid": latest["_id"], "public_key": latest["public_key"]}],
                          latest["published_at"])
    for doc in access_store.live_tokens():
        yield _token_event(doc["official"], doc["_id"], doc["created_at"])
    for doc in access_store.revocations_in_force(stored_now()):
        yield _revocation_event(doc)
