"""The audit trail: who did what, when, from which address (hashed), append-only.

Survey keeps the log (`GET /api/v1/audit`). What scoring and notify audit (report exports,
configuration and deadline changes) they store in their own `audit_outbox` with its
`audit.recorded` event in the same write, and their outbox relay brings it to survey, so
an audited action is never lost with a broker outage.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from shared import auth_events
from shared import events as ev
from shared.db import stored_now
from shared.outbox import ensure_outbox_index, outbox_fields

OUTBOX = "audit_outbox"


def actor_of(principal) -> str:
    """How the log names who acted: `admin` for the admin token, else the official's code
    (with how they were signed in, which matters when an admin acts through a token)."""
    if principal is None:
        return "anonymous"
    if principal.kind == "admin":
        return "admin"
    return f"{principal.official} ({principal.via})"


def address_hash(admin_token: str, address: str | None) -> str | None:
    """A keyed hash of a client address: the same in every service (all share the admin
    token the key comes from), never the address itself."""
    if not address:
        return None
    key = hashlib.sha256(f"congso-audit-address|{admin_token}".encode()).digest()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:24]


def entry(service: str, actor: str, action: str, *, target: str | None = None,
          details: dict | None = None, address: str | None = None) -> dict:
    """One audit record (the data of its `audit.recorded` event)."""
    return {"id": uuid.uuid4().hex, "at": stored_now(), "service": service, "actor": actor,
            "action": action, "target": target, "details": details or {},
            "address_hash": address}


def request_entry(service: str, action: str, *, target: str | None = None,
                  details: dict | None = None) -> dict:
    """The audit record of what the caller of this request just did."""
    from flask import current_app, g, request

    settings = current_app.config["CONGSO_SETTINGS"]
    return entry(service, actor_of(getattr(g, "principal", None)), action, target=target,
                 details=details, address=address_hash(settings.admin_token,
                                                       request.remote_addr))


def record_via_outbox(database, relay, record: dict) -> None:
    """Store `record` with its `audit.recorded` event in one write (scoring, notify)."""
    event = ev.make_event(auth_events.AUDIT_RECORDED, record,
                          source=ev.SOURCES[record["service"]], subject=record["action"])
    database[OUTBOX].insert_one({"_id": record["id"], **record, **outbox_fields(event)})
    relay.notify(OUTBOX, record["id"])


def ensure_indexes(database) -> None:
    ensure_outbox_index(database[OUTBOX])
