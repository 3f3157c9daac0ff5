"""What the dashboards read besides the buckets: citizens' comments (from the ratings
scoring receives), the peer-review response per unit (survey's `review.response`), the
deadlines (notify's `deadline.status`) and the materialised scores. Part of the scoring
store; every write is idempotent and keeps the newest of what it is told.

A rebuild brings the ratings, and so the comments, again; survey's and notify's facts
come when they next change (notify also says each deadline again when it starts).
"""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.scoring.buckets import DIRTY_SINCE
from services.scoring.documents import (
    CitizenMonth,
    DeadlineCopy,
    OfficialRecord,
    RatingComment,
    Score,
    UnitRecord,
    UnitReviewResponse,
)
from shared.integrity_events import COUNTED, HELD, REJECTED

LOW = 2  # a rating of 1 or 2 is a low one (notify alerts on them too)
HIDDEN = (HELD, REJECTED)  # the states whose comments the dashboards do not show


def _newest(coll, key: str, order_field: str, value, fields: dict) -> bool:
    """Store `fields` under `key` unless what is stored is as new or newer."""
    try:
        result = coll.update_one({"_id": key, order_field: {"$lt": value}},
                                 {"$set": fields}, upsert=True)
    except DuplicateKeyError:  # stored already, as new or newer
        return False
    return bool(result.modified_count or result.upserted_id)


class DashboardRecords:
    """Reads and idempotent writes of the dashboards' own facts (part of the store)."""

    # --- citizens' comments -------------------------------------------------------------

    def add_comment(self, rating_id: str, *, unit: str, counter: str | None,
                    counter_label: str | None, official: str | None, overall: int,
                    at: datetime, local: str, text: str, status: str = COUNTED,
                    version: int = 0) -> bool:
        """Keep a rating's comment, once, with its rating's state: a higher `version` of
        the state replaces the state (the text stays as first stored); a redelivery, or an
        older state arriving after a newer one, changes nothing. True if written."""
        state = {"status": status, "status_version": version}
        first = {"unit": unit, "counter": counter, "counter_label": counter_label,
                 "official": official, "overall": overall, "at": at, "local": local,
                 "text": text}
        coll = RatingComment._get_collection()
        if version == 0:  # stored before ratings had states: counted, if not there yet
            result = coll.update_one({"_id": rating_id}, {"$setOnInsert": {**first, **state}},
                                     upsert=True)
            return bool(result.upserted_id)
        try:
            result = coll.update_one(
                {"_id": rating_id, "$or": [{"status_version": {"$exists": False}},
                                           {"status_version": {"$lt": version}}]},
                {"$set": state, "$setOnInsert": first}, upsert=True)
        except DuplicateKeyError:  # this version or a newer one is stored already
            return False
        return bool(result.modified_count or result.upserted_id)

    def latest_comments(self, *, start: datetime, end: datetime, units: list[str] | None = None,
                        official: str | None = None, low_only: bool = False,
                        limit: int = 20) -> list[dict]:
        """The latest comments in [start, end) given at these units' counters or about one
        official, newest first (by the (unit, at) or (official, at) index); those of held
        or rejected ratings are not shown (until a held one is accepted)."""
        query: dict = {"at": {"$gte": start, "$lt": end}, "status": {"$nin": list(HIDDEN)}}
        if official is not None:
            query["official"] = official
        else:
            query["unit"] = {"$in": units or []}
        if low_only:
            query["overall"] = {"$lte": LOW}
        return list(RatingComment._get_collection().find(query).sort(
            [("at", -1), ("_id", 1)]).limit(limit))

    # --- peer-review response -------------------------------------------------------------

    def save_response(self, year: str, unit: str, counts: dict, at: datetime) -> bool:
        """Keep a unit's response counts of `year` as survey last told them."""
        return _newest(UnitReviewResponse._get_collection(), f"{year}:{unit}", "at", at,
                       {"year": year, "unit": unit, "at": at, **counts})

    def responses(self, year: str, units: list[str]) -> dict[str, dict]:
        return {d["unit"]: d for d in UnitReviewResponse._get_collection().find(
            {"year": year, "unit": {"$in": units}})}

    # --- deadlines -----------------------------------------------------------------------

    def save_deadline(self, deadline_id: str, fields: dict, version: int) -> bool:
        """Keep a deadline as notify last told it (a deleted one stays, marked deleted)."""
        return _newest(DeadlineCopy._get_collection(), deadline_id, "version", version,
                       {**fields, "version": version})

    def deadlines_of(self, units: list[str], start: datetime | None = None,
                     end: datetime | None = None) -> list[dict]:
        """Deadlines not deleted that name one of `units` (or every unit), due in
        [start, end) when given, soonest first."""
        query: dict = {"units": {"$in": [*units, "*"]}, "deleted": {"$ne": True}}
        if start is not None:
            query["due_at"] = {"$gte": start, "$lt": end}
        return list(DeadlineCopy._get_collection().find(query).sort([("due_at", 1),
                                                                     ("_id", 1)]))

    # --- materialised scores ------------------------------------------------------------

    def stale_months(self, kind: str, subjects: list[str], months: list[str]) -> set[str]:
        """The months in which a bucket of `subjects` changed since the refresher last
        derived its scores (their stored scores may be behind): the dirty mark's sparse
        index, no rows read."""
        if not subjects or not months:
            return set()
        return {d["month"] for d in CitizenMonth._get_collection().find(
            {DIRTY_SINCE: {"$exists": True}, "kind": kind, "subject": {"$in": subjects},
             "month": {"$in": months}}, {"month": 1})}

    def materialised(self, kind: str, codes: list[str], periods: list[str]
                     ) -> dict[tuple[str, str], dict]:
        """The refresher's last scores of units ("u") or officials ("o") for periods, by
        (code, period): one read by key. A score never derived (no data) is missing."""
        ids = [f"{kind}:{c}|{p}" for c in codes for p in periods]
        out = {}
        for doc in Score._get_collection().find({"_id": {"$in": ids}}, {"score": 1}):
            code, period = doc["_id"][2:].rsplit("|", 1)
            out[(code, period)] = doc.get("score") or {}
        return out

    def active_officials(self, units: list[str]) -> dict[str, list[str]]:
        """The active officials of each unit, by code."""
        out: dict[str, list[str]] = {u: [] for u in units}
        for d in OfficialRecord._get_collection().find(
                {"unit": {"$in": units}, "active": {"$ne": False}}, {"unit": 1}).sort("_id", 1):
            out[d["unit"]].append(d["_id"])
        return out

    def names(self, kind: str, codes: list[str]) -> dict[str, str]:
        """Units' names or officials' full names by code (those the directory copy has)."""
        coll, field = ((UnitRecord, "name") if kind == "unit" else (OfficialRecord, "full_name"))
        return {d["_id"]: d.get(field) for d in coll._get_collection().find(
            {"_id": {"$in": codes}}, {field: 1})}
