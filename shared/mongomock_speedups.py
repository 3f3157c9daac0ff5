"""Make mongomock answer `_id` lookups from its dictionary instead of scanning.

mongomock (the embedded store behind `mongomock://`) evaluates every query against every
document of the collection, `_id` included, so a lookup by key costs O(collection size).
Its documents already sit in a dict keyed by `_id`; for filters that pin `_id` to one
value or an `$in` list, this takes the candidates from that dict and still applies the
whole filter to each, so results are the same, only found in O(1). Real MongoDB uses its
`_id` index for the same queries; nothing here runs against it.
"""

from __future__ import annotations

import datetime
import uuid

from bson import ObjectId

_SCALARS = (str, int, ObjectId, uuid.UUID, datetime.datetime)
_patched = False


def _candidate_ids(query) -> list | None:
    if not isinstance(query, dict) or "_id" not in query:
        return None
    value = query["_id"]
    if isinstance(value, dict):
        if set(value) == {"$eq"}:
            value = value["$eq"]
        elif set(value) == {"$in"} and isinstance(value["$in"], list | tuple):
            ids = value["$in"]
            if all(isinstance(i, _SCALARS) and not isinstance(i, bool) for i in ids):
                return list(dict.fromkeys(ids))
            return None
        else:
            return None
    if isinstance(value, _SCALARS) and not isinstance(value, bool):
        return [value]
    return None


def install() -> None:
    """Patch mongomock's collection scan once per process (idempotent)."""
    global _patched
    if _patched:
        return
    from mongomock import collection as mc
    from mongomock.filtering import filter_applies

    original = mc.Collection._iter_documents

    def _iter_documents(self, filter):
        ids = _candidate_ids(filter)
        if ids is None:
            return original(self, filter)
        store = self._store
        found = []
        for key in ids:
            try:
                found.append(store[key])
            except KeyError:
                continue
        return (doc for doc in found if filter_applies(filter, doc))

    mc.Collection._iter_documents = _iter_documents
    _patched = True
