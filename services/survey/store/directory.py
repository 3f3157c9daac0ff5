"""The directory in survey's database: units, officials, counters and counter tokens.

Versions are optimistic: a write names the version it read, so two concurrent edits of one
record can't both claim the same version and consumers can keep the newest by version. A
PUT sets the whole record, so a write that lost the race is simply tried again on the
newer version; only one that keeps losing is refused (409).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.survey import domain
from services.survey.documents import Counter, Official, Unit
from services.survey.store import Notify, as_record, notify_of
from shared import events as ev
from shared.db import stored_now
from shared.errors import Conflict, NotFound
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields

ATTEMPTS = 12
KINDS = {"unit": Unit, "official": Official, "counter": Counter}
_NO_OUTBOX = {PENDING_AT: 0, PENDING_EVENT: 0}


def _pause(attempt: int) -> None:
    """A short random wait before trying again, so the racing writers spread out."""
    time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 5)))


def ensure_indexes() -> None:
    # an official's address is unique; officials without one are left out of the index
    coll = Official._get_collection()
    if "email_unique" in coll.index_information():
        return  # (mongomock would check the existing officials without the filter)
    coll.create_index("email", name="email_unique", unique=True,
                      partialFilterExpression={"email": {"$type": "string"}})


def _upsert_versioned(document, code: str, fields: dict[str, Any], event_type: str | None,
                      correlationid: str | None = None, *,
                      on_insert: Callable[[], dict] | None = None,
                      keep: tuple[str, ...] = (),
                      unique_check: Callable[[], None] | None = None) -> tuple[dict, bool]:
    """Insert or update `code` with `fields`; return (stored record, created).

    `on_insert()` gives fields written only when the record is created (a counter's token);
    `keep` names stored fields the answer carries as they are stored; `unique_check()`
    raises the Conflict of a unique field other than the code (an official's email).
    """
    coll = document._get_collection()
    for attempt in range(ATTEMPTS):
        if unique_check is not None:
            unique_check()
        current = coll.find_one({"_id": code}, {"version": 1})
        version = (current or {}).get("version", 0) + 1
        record = {**fields, "version": version, "updated_at": stored_now()}
        changes = dict(record)
        if event_type is not None:
            event = domain.directory_event(event_type, code, record, correlationid)
            changes.update(outbox_fields(event))
        if current is None:
            extra = on_insert() if on_insert else {}
            try:
                coll.insert_one({"_id": code, **changes, **extra})
            except DuplicateKeyError:
                continue  # created meanwhile (or the email taken meanwhile): look again
            return {"code": code, **record, **extra}, True
        try:
            stored = coll.find_one_and_update(
                {"_id": code, "version": version - 1}, {"$set": changes},
                projection={k: 1 for k in keep} or {"_id": 1},
                return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            continue  # a unique field taken meanwhile: `unique_check` names it
        if stored is not None:
            return {"code": code, **record, **{k: stored[k] for k in keep if k in stored}}, False
        _pause(attempt)
    raise Conflict(f"{code} is being changed by several requests at once; try again.",
                   slug="concurrent-edit")


def upsert_unit(code: str, data: dict, *, correlationid: str | None = None,
                notify: Notify | None = None) -> tuple[dict, bool]:
    # the settings of held ratings a write leaves out stay as stored (and are answered)
    result = _upsert_versioned(Unit, code, domain.unit_fields(data), ev.UNIT_UPSERTED,
                               correlationid, keep=domain.UNIT_RULES)
    _rules.pop((Unit._get_collection().database.name, code), None)
    notify_of(notify, Unit, code)
    return result


def upsert_official(code: str, data: dict, *, correlationid: str | None = None,
                    notify: Notify | None = None) -> tuple[dict, bool]:
    """Create or update an official; Conflict (409) when another official has its email."""
    fields = domain.official_fields(data)
    result = _upsert_versioned(Official, code, fields, ev.OFFICIAL_UPSERTED, correlationid,
                               unique_check=lambda: check_email_free(code, fields["email"]))
    notify_of(notify, Official, code)
    return result


def check_email_free(code: str, email: str | None) -> None:
    """Conflict (409 on `email`) when an official other than `code` has `email`."""
    holder = official_by_email(email) if email else None
    if holder is not None and holder["code"] != code:
        raise Conflict(f"Another official ({holder['code']}) has this email address.",
                       field="email", slug="email-taken")


def official_by_email(email: str) -> dict | None:
    """The official whose address is `email` (lower-cased), if any."""
    return as_record(Official._get_collection().find_one({"email": email.lower()},
                                                         _NO_OUTBOX))


def emails_of_others(codes: list[str]) -> dict[str, str]:
    """Every official's address but those of `codes`: {address: official}."""
    return {d["email"]: d["_id"] for d in Official._get_collection().find(
        {"email": {"$type": "string"}, "_id": {"$nin": list(codes)}}, {"email": 1})}


def upsert_counter(code: str, data: dict, new_token: Callable[[], str]) -> tuple[dict, bool]:
    """Create or update a counter; a new counter gets the kiosk token `new_token()`, an
    existing one keeps its own. The answer carries the token as stored."""
    return _upsert_versioned(Counter, code, domain.counter_fields(data), None,
                             on_insert=lambda: {"token": new_token()}, keep=("token",))


def rotate_counter_token(code: str, token: str) -> bool:
    """Give a counter a new token (the old one stops working at once); False if unknown."""
    result = Counter._get_collection().update_one(
        {"_id": code}, {"$set": {"token": token, "updated_at": stored_now()}})
    return result.matched_count > 0


def set_counter_token(code: str, token: str) -> None:
    """Set a counter's token to a chosen one (the demo's, fixed for its printed curl)."""
    Counter._get_collection().update_one({"_id": code}, {"$set": {"token": token}})


# --- reads ------------------------------------------------------------------------------


def get(kind: str, code: str) -> dict:
    """The unit, official or counter `code`, or NotFound (404) naming what was looked for."""
    record = as_record(KINDS[kind]._get_collection().find_one({"_id": code}, _NO_OUTBOX))
    if record is None:
        raise NotFound(f"No {kind} {code!r}.", slug=f"unknown-{kind}")
    return record


def find(kind: str, code: str) -> dict | None:
    """The unit, official or counter `code`, or None."""
    return as_record(KINDS[kind]._get_collection().find_one({"_id": code}, _NO_OUTBOX))


# A unit's rules are read with every rating: kept a few seconds (a change made in this
# process applies at once, one made in another within RULES_SECONDS).
RULES_SECONDS = 5.0
_rules: dict[tuple[str, str], tuple[float, dict]] = {}


def rules_of(unit: str) -> dict:
    """A unit's settings of held ratings (those it has)."""
    coll = Unit._get_collection()
    key, now = (coll.database.name, unit), time.monotonic()
    cached = _rules.get(key)
    if cached is not None and now - cached[0] < RULES_SECONDS:
        return cached[1]
    doc = coll.find_one({"_id": unit}, dict.fromkeys(domain.UNIT_RULES, 1))
    rules = {k: v for k, v in (doc or {}).items() if k != "_id"}
    _rules[key] = (now, rules)
    return rules


def listing(kind: str, unit: str | None = None) -> list[dict]:
    """Every unit, official or counter (of one unit, for officials and counters), by code."""
    where = {"unit": unit} if unit else {}
    return [as_record(d) for d in
            KINDS[kind]._get_collection().find(where, _NO_OUTBOX).sort("_id", 1)]


def each(kind: str) -> Iterator[dict]:
    """Every unit or official as stored, one at a time (replays)."""
    for doc in KINDS[kind]._get_collection().find({}, _NO_OUTBOX):
        yield as_record(doc)


def exists(kind: str, code: str) -> bool:
    return KINDS[kind]._get_collection().count_documents({"_id": code}, limit=1) > 0


def unknown_officials(codes: list[str]) -> list[str]:
    """The codes among `codes` that name no official, in order."""
    known = {d["_id"] for d in Official._get_collection().find(
        {"_id": {"$in": list(codes)}}, {"_id": 1})}
    return [c for c in codes if c not in known]


def by_codes(kind: str, codes: list[str]) -> dict[str, dict]:
    """The stored units or officials among `codes`, by code (in code order)."""
    return {d["_id"]: as_record(d) for d in KINDS[kind]._get_collection().find(
        {"_id": {"$in": list(codes)}}, _NO_OUTBOX).sort("_id", 1)}


def officials(codes: list[str]) -> dict[str, dict]:
    """The stored officials among `codes`, by code."""
    return by_codes("official", codes)


def colleagues(official: dict) -> list[dict]:
    """Active officials of `official`'s unit, that official aside, by code."""
    cursor = Official._get_collection().find(
        {"unit": official["unit"], "active": {"$ne": False}, "_id": {"$ne": official["code"]}},
        {"full_name": 1, "position": 1}).sort("_id", 1)
    return [as_record(d) for d in cursor]


def counter_by_token(token: str) -> dict | None:
    return as_record(Counter._get_collection().find_one({"token": token}, _NO_OUTBOX))


class UnitParents(Mapping):
    """Each unit's parent, read from the directory as asked (for `domain.parent_error`)."""

    def __init__(self):
        self._cache: dict[str, str | None] = {}

    def __getitem__(self, code: str) -> str | None:
        if code not in self._cache:
            doc = Unit._get_collection().find_one({"_id": code}, {"parent": 1})
            if doc is None:
                raise KeyError(code)
            self._cache[code] = doc.get("parent")
        return self._cache[code]

    def __iter__(self):
        return (d["_id"] for d in Unit._get_collection().find({}, {"_id": 1}))

    def __len__(self) -> int:
        return Unit._get_collection().count_documents({})
