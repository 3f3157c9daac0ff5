"""How a bucket document is written: contribution ids as field names, and the mark that
a bucket changed (`changes` counts the writes, `dirty_since` keeps the earliest one whose
scores are not derived yet), set in the same write as the contribution; a rating's row
replaced only by a higher version of its state (`replaces`), a batch's rows of one bucket
in one write (`write_bucket`)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.scoring.domain import HOUR, VERSION

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHANGES = "changes"
DIRTY_SINCE = "dirty_since"
BUCKET_FIELDS = {"kind": 1, "subject": 1, "month": 1, "reviewee": 1, "year": 1, CHANGES: 1}


def changed(now: datetime) -> dict:
    """The update operators that mark a bucket changed at `now`."""
    return {"$inc": {CHANGES: 1}, "$min": {DIRTY_SINCE: now}}


def field_key(contribution_id: str) -> str:
    """A contribution id usable as a field name (no '.', no leading '$')."""
    if _SAFE_KEY.match(contribution_id):
        return contribution_id
    return "h" + hashlib.sha256(contribution_id.encode()).hexdigest()[:40]


def replaces(old: list | None, new: list) -> bool:
    """Does row `new` replace the stored row `old` of the same rating? A higher version
    does; so does version 0 over a version-0 row stored before the hour was kept."""
    if old is None:
        return True
    old_version = old[VERSION] if len(old) > VERSION else 0
    if new[VERSION] != old_version:
        return new[VERSION] > old_version
    return new[VERSION] == 0 and len(old) <= HOUR


def _older_row(key: str, version: int) -> dict:
    """The filter of a bucket whose row `key` is to be replaced by one of `version`: no
    row, or a row of a lower version (a row stored without a version is version 0; one of
    version 0 stored before the hour was kept is completed by the same version)."""
    if version == 0:
        return {f"r.{key}.{HOUR}": {"$exists": False}}
    return {"$or": [{f"r.{key}.{VERSION}": {"$exists": False}},
                    {f"r.{key}.{VERSION}": {"$lt": version}}]}


def write_bucket(coll, bucket: str, b: dict, rows: dict, doc: dict | None,
                 now: datetime) -> bool:
    """Write `rows` into `bucket` in one update, if it is as read (`doc`; None: absent);
    else row by row, each guarded by its version. True if anything was written."""
    unchanged = {CHANGES: doc.get(CHANGES)} if doc is not None and CHANGES in doc \
        else {CHANGES: {"$exists": False}}
    insert = {"$setOnInsert": {"kind": b["kind"], "subject": b["subject"],
                               "month": b["month"]}}
    try:
        result = coll.update_one({"_id": bucket, **unchanged},
                                 {"$set": {f"r.{k}": row for k, row in rows.items()},
                                  **changed(now), **insert}, upsert=doc is None)
        if result.modified_count or result.upserted_id:
            return True
    except DuplicateKeyError:
        pass  # created meanwhile by another writer
    return write_rows(coll, bucket, b, rows, now)  # written meanwhile


def write_rows(coll, bucket: str, b: dict, rows: dict, now: datetime) -> bool:
    """Write `rows` into `bucket` one by one, each guarded by its version (a row already
    stored at that version or a newer one is left); True if any was written."""
    insert = {"$setOnInsert": {"kind": b["kind"], "subject": b["subject"],
                               "month": b["month"]}}
    done = False
    for key, row in rows.items():
        try:
            result = coll.update_one({"_id": bucket, **_older_row(key, row[VERSION])},
                                     {"$set": {f"r.{key}": row}, **changed(now), **insert},
                                     upsert=True)
            done |= bool(result.modified_count or result.upserted_id)
        except DuplicateKeyError:
            continue  # this version or a newer one is stored already
    return done
