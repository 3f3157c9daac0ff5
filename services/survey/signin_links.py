"""Signing in by emailed link: asking for a link (the same answer whoever asks) and
opening it (once, within 15 minutes, by an active official).

The link's secret is made from a nonce with the key survey shares with notify
(`shared.signin`): survey stores only the secret's SHA-256 and hands notify the nonce in
an `auth.link_requested` event written with the link, so the secret itself exists only in
the email. A forged secret is refused by its MAC, before any look-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.survey import audit_log, domain, identity, keys
from services.survey.store import directory
from services.survey.store import signin as link_store
from shared import auth_events as auth
from shared import events as ev
from shared import signin
from shared.db import stored_now

ANONYMOUS = "anonymous"


def request_link(ctx, email: str, next_path: str, *, address: str | None,
                 now: datetime | None = None) -> None:
    """Email a sign-in link to the active official whose address is `email`, if there is
    one; RateLimited (429) past the limits, which count every address alike."""
    key = ctx.key(keys.CLIENT_ADDRESS)
    ctx.signin_limiter.check(domain.client_hash(address, key),
                             domain.client_hash(f"email|{email}", key))
    official = directory.official_by_email(email)
    if official is None or not official.get("active", True):
        return
    now = now or stored_now()
    expires_at = now + timedelta(minutes=signin.LIFETIME_MINUTES)
    digest, event = new_link(ctx, official, expires_at=expires_at, next_path=next_path)
    link_store.add_link(digest, official=official["code"], created_at=now,
                        expires_at=expires_at, next_path=next_path, event=event,
                        notify=ctx.relay.notify)
    audit_log.record(ctx, "link_requested", actor=ANONYMOUS, target=official["code"])


def new_link(ctx, official: dict, *, expires_at: datetime, next_path: str,
             purpose: str = "sign_in", context: dict | None = None) -> tuple[str, ev.Event]:
    """A new link for `official` (a directory record with an email): the digest to store
    and the `auth.link_requested` event that carries its nonce to notify."""
    nonce = signin.new_nonce()
    digest = signin.secret_digest(signin.secret_for(ctx.link_key, nonce))
    event = ev.make_event(auth.LINK_REQUESTED, {
        "nonce": nonce, "official": official["code"], "email": official["email"],
        "full_name": official["full_name"], "expires_at": expires_at,
        "login_url": ctx.login_url, "next": next_path, "purpose": purpose,
        "context": context or {}}, source=domain.SOURCE, subject=official["code"])
    return digest, event


@dataclass(frozen=True)
class Opened:
    """What opening a link gave: a session (`token`, `claims`) and where to go, or why
    not (`failure`: forged, unknown, used, expired, inactive)."""

    next: str = "/"
    token: str | None = None
    claims: object = None
    failure: str | None = None


def open_link(ctx, secret: str, *, now: datetime | None = None) -> Opened:
    """Use the link of `secret`: a new session for its official, or the failure (each
    audited, the failure with the client's address hash)."""
    if signin.nonce_of(ctx.link_key, secret) is None:
        return _failed(ctx, "forged")
    now = now or stored_now()
    digest = signin.secret_digest(secret)
    link = link_store.claim_link(digest, now)
    if link is None:
        stored = link_store.link(digest)
        reason = "unknown" if stored is None else "used" if stored.get("used_at") else \
            "expired"
        return _failed(ctx, reason, stored and stored["official"])
    official = directory.find("official", link["official"])
    if official is None or not official.get("active", True):
        return _failed(ctx, "inactive", link["official"])
    token, claims = identity.new_session(ctx, official["code"])
    audit_log.record(ctx, "sign_in", actor=official["code"], target=official["code"],
                     details={"via": "email_link"})
    return Opened(next=domain.local_path(link.get("next")) or "/", token=token,
                  claims=claims)


def _failed(ctx, reason: str, official: str | None = None) -> Opened:
    audit_log.record(ctx, "sign_in_failed", actor=ANONYMOUS, target=official,
                     details={"reason": reason})
    return Opened(failure=reason)
