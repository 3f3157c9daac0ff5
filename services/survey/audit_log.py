"""Survey keeps congso's audit log: its own actions are appended as they happen, the other
services' arrive as `audit.recorded` events on survey's queue (`record_audit`).

Acting on someone's account is never silent: the entry of such an action carries the
`account.notice` that tells the official at once (their current address, and the
previous one when the address changed), stored in the same write as the entry.
"""

from __future__ import annotations

from flask import g, has_request_context, request

from services.survey import domain
from services.survey.store import audit as audit_store
from shared import audit
from shared import auth_events as auth
from shared import events as ev
from shared.db import stored_now
from shared.events import Event

SYSTEM = "system"  # what acts outside a request (the demo's seeding)


def current_actor() -> str:
    """Who the current request acts as, as the log names them."""
    if not has_request_context():
        return SYSTEM
    return audit.actor_of(g.get("principal"))


def current_address(ctx) -> str | None:
    """The keyed hash of the current request's client address (never the address)."""
    if not has_request_context():
        return None
    return audit.address_hash(ctx.settings.admin_token, request.remote_addr)


def record(ctx, action: str, *, target: str | None = None, details: dict | None = None,
           actor: str | None = None, notice: Event | None = None) -> dict:
    """Append one entry of survey's (with the notice to send about it, if any)."""
    entry = audit.entry("survey", actor or current_actor(), action, target=target,
                        details=details, address=current_address(ctx))
    audit_store.add(entry, notice=notice, notify=ctx.relay.notify)
    return entry


def notice(official: dict, kind: str, *, by: str, details: dict | None = None,
           previous_email: str | None = None) -> Event | None:
    """The `account.notice` telling `official` (a directory record) what was done to their
    account; None when they have no address to tell."""
    emails = list(dict.fromkeys(e for e in (official.get("email"), previous_email) if e))
    if not emails:
        return None
    return ev.make_event(auth.ACCOUNT_NOTICE, {
        "official": official["code"], "full_name": official["full_name"], "emails": emails,
        "notice": kind, "at": stored_now(), "by": by, "details": details or {}},
        source=domain.SOURCE, subject=official["code"])


def record_audit(event: Event) -> None:
    """Handler of `audit.recorded`: another service's entry, appended once."""
    data = event.loaded_data()
    audit_store.add({k: data.get(k) for k in
                     ("id", "at", "service", "actor", "action", "target", "details",
                      "address_hash")})
