"""Each unit's peer-review response counts per year, as last counted, with the
`review.response` event that tells scoring (one document per year and unit).

Counting reads the directory and the reviews, then writes here; two counts taken at
once could be written in the wrong order. So each count, made after the change that calls
for it, first adds a mark and reads what is stored (`mark`), and its result is stored
only if no mark and no other count came since (`save`). A count refused was read before
a later mark, and the count behind that mark sees the change that made it; so the stored
counts are never older than the last change. A change also keeps its year (`keep`,
before it is written), so a crash between the change and its count is made good by the
count of every year kept at start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.survey.documents import PeerReviewWindow, ResponseCounts
from services.survey.store import Notify, notify_of
from shared.events import Event
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields

_NO_OUTBOX = {PENDING_AT: 0, PENDING_EVENT: 0}


def key_of(year: str, unit: str) -> str:
    return f"{year}|{unit}"


def years() -> list[str]:
    """The years whose response is kept: those with a window, or counted or kept before
    (a year reviewed without a window set)."""
    windows = PeerReviewWindow._get_collection().distinct("_id")
    return sorted(set(windows) | set(ResponseCounts._get_collection().distinct("year")))


def _upsert(coll, year: str, unit: str, change: dict) -> None:
    change = {**change, "$setOnInsert": {"year": year, "unit": unit, "version": 0}}
    try:
        coll.update_one({"_id": key_of(year, unit)}, change, upsert=True)
    except DuplicateKeyError:  # inserted meanwhile by another upsert: it exists now
        coll.update_one({"_id": key_of(year, unit)}, change)


def keep(year: str, unit: str) -> None:
    """Keep `year`'s counts of `unit` from now on (none counted yet): `years` names it."""
    _upsert(ResponseCounts._get_collection(), year, unit, {"$inc": {"marks": 0}})


def mark(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Note that the counts of each (year, unit) may have changed, then read them as
    stored: {(year, unit): {counts, at, version, marks}} (no counts yet: none kept)."""
    coll = ResponseCounts._get_collection()
    pairs = list(pairs)
    for year, unit in pairs:
        _upsert(coll, year, unit, {"$inc": {"marks": 1}})
    stored = {d["_id"]: d for d in coll.find(
        {"_id": {"$in": [key_of(y, u) for y, u in pairs]}}, _NO_OUTBOX)}
    return {(y, u): stored[key_of(y, u)] for y, u in pairs}


def save(read: dict, counts: dict[str, int], at: datetime, event: Event, *,
         notify: Notify | None = None) -> bool:
    """Store new counts with their event over `read` (as `mark` gave it), unless a mark
    or another count came since (False: the later one counts)."""
    done = ResponseCounts._get_collection().update_one(
        {"_id": read["_id"], "marks": read["marks"], "version": read["version"]},
        {"$set": {"counts": dict(counts), "at": at, "version": read["version"] + 1,
                  **outbox_fields(event)}}).matched_count
    if done:
        notify_of(notify, ResponseCounts, read["_id"])
    return bool(done)


def each() -> Iterator[dict]:
    """Every unit's counts of every year kept, as stored (replays)."""
    yield from ResponseCounts._get_collection().find({"version": {"$gt": 0}},
                                                     _NO_OUTBOX).sort("_id", 1)
