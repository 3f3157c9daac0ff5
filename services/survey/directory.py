"""Directory writes: each upsert and its `directory.*.upserted` event in one document write.

Versions are optimistic: a write names the version it read, so two concurrent edits of one
record can't both claim the same version and consumers can keep the newest by version.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from services.survey.documents import Counter, Official, Unit
from shared import events as ev
from shared.db import stored_now
from shared.outbox import outbox_fields

SOURCE = "/congso/survey"
_RETRIES = 5


class ConflictError(Exception):
    """The record changed under us too many times in a row."""


def _upsert_versioned(
    document, code: str, fields: dict[str, Any], event_type: str | None,
    correlationid: str | None = None,
) -> tuple[dict, bool]:
    """Insert or update `code` with `fields`; return (stored record, created)."""
    coll = document._get_collection()
    for _ in range(_RETRIES):
        current = coll.find_one({"_id": code}, {"version": 1})
        version = (current or {}).get("version", 0) + 1
        now = stored_now()
        record = {**fields, "version": version, "updated_at": now}
        changes = dict(record)
        if event_type is not None:
            data = {"code": code, **record}
            event = ev.make_event(event_type, data, source=SOURCE, subject=code,
                                  correlationid=correlationid)
            changes.update(outbox_fields(event))
        if current is None:
            try:
                coll.insert_one({"_id": code, **changes})
            except DuplicateKeyError:
                continue
            return {"code": code, **record}, True
        result = coll.update_one({"_id": code, "version": version - 1}, {"$set": changes})
        if result.matched_count:
            return {"code": code, **record}, False
    raise ConflictError(f"{code} is being changed concurrently; try again")


def upsert_unit(code: str, data: dict, correlationid: str | None = None) -> tuple[dict, bool]:
    fields = {
        "name": data["name"],
        "parent": data.get("parent"),
        "emails": list(data.get("emails") or []),
        "webhook_url": data.get("webhook_url"),
    }
    return _upsert_versioned(Unit, code, fields, ev.UNIT_UPSERTED, correlationid)


def upsert_official(code: str, data: dict, correlationid: str | None = None) -> tuple[dict, bool]:
    fields = {
        "full_name": data["full_name"],
        "unit": data["unit"],
        "position": data.get("position"),
        "active": data.get("active", True),
    }
    return _upsert_versioned(Official, code, fields, ev.OFFICIAL_UPSERTED, correlationid)


def upsert_counter(code: str, data: dict, new_token) -> tuple[dict, bool]:
    """Create or update a counter; a new counter gets a fresh kiosk token `new_token()`."""
    coll = Counter._get_collection()
    existing = coll.find_one({"_id": code}, {"token": 1})
    fields = {"unit": data["unit"], "label": data["label"],
              "officials": list(dict.fromkeys(data.get("officials") or []))}
    if existing is None:
        fields["token"] = new_token()
    record, created = _upsert_versioned(Counter, code, fields, None)
    if not created:
        record["token"] = existing["token"]
    return record, created


def unit_exists(code: str) -> bool:
    return Unit._get_collection().count_documents({"_id": code}, limit=1) > 0
