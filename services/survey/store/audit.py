"""The audit log: append-only (entries are inserted, never changed), idempotent by id (an
`audit.recorded` event delivered twice is one entry)."""

from __future__ import annotations

import re
import time

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from services.survey.documents import AuditEntry
from services.survey.store import Notify, notify_of
from shared.events import Event
from shared.outbox import outbox_fields

# `at` is kept to the millisecond; `seq` (when appended, in nanoseconds) orders entries of
# one millisecond as they came
NEWEST_FIRST = [("at", DESCENDING), ("seq", DESCENDING)]
FIELDS = {"at": 1, "service": 1, "actor": 1, "action": 1, "target": 1, "details": 1,
          "address_hash": 1}


def ensure_indexes() -> None:
    coll = AuditEntry._get_collection()
    coll.create_index(NEWEST_FIRST)
    coll.create_index([("action", 1), *NEWEST_FIRST])
    coll.create_index([("actor", 1), *NEWEST_FIRST])


def add(record: dict, *, notice: Event | None = None, notify: Notify | None = None) -> bool:
    """Append `record` ({id, at, service, actor, action, target, details, address_hash}),
    with the `account.notice` to send about it in the same write; False if already there."""
    doc = {"_id": record["id"], **{k: v for k, v in record.items() if k != "id"},
           "seq": time.time_ns()}
    if notice is not None:
        doc.update(outbox_fields(notice))
    try:
        AuditEntry._get_collection().insert_one(doc)
    except DuplicateKeyError:
        return False
    if notice is not None:
        notify_of(notify, AuditEntry, record["id"])
    return True


def _where(actor: str | None, action: str | None) -> dict:
    where: dict = {}
    if actor:
        # "CB001" finds "CB001 (session)" and "CB001 (token)": one person, however signed in
        where["actor"] = {"$regex": f"^{re.escape(actor)}( \\(|$)"}
    if action:
        where["action"] = action
    return where


def page(*, actor: str | None = None, action: str | None = None, number: int = 1,
         per_page: int = 50) -> tuple[int, list[dict]]:
    """(matching entries, one page of them newest first)."""
    coll = AuditEntry._get_collection()
    where = _where(actor, action)
    total = coll.count_documents(where)
    docs = coll.find(where, FIELDS).sort(NEWEST_FIRST) \
        .skip((number - 1) * per_page).limit(per_page)
    return total, [{"id": d.pop("_id"), **d} for d in docs]


def actions() -> list[str]:
    """Every action the log holds, by name."""
    return sorted(AuditEntry._get_collection().distinct("action"))
