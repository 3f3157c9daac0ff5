"""Reads and idempotent writes of scoring's database.

Every write is safe to repeat and to reorder: contributions are `$set` under their own id
in a bucket, reviews only replace a lower revision, directory records only a lower
version. Every read on the event path is by key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from services.scoring.documents import (
    CitizenMonth,
    ConfigRecord,
    OfficialRecord,
    PeerYear,
    Score,
    UnitRecord,
)
from services.scoring.domain import CitizenInput, ScoringConfig
from shared.events import CRITERIA, FACTORS
from shared.outbox import outbox_fields
from shared.periods import days_of

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Set, in the same write as a contribution, on the bucket it changed: the scores derived
# from that bucket are to be recomputed (and `score.updated` sent) even after a crash.
DIRTY = "dirty_at"


@dataclass(frozen=True)
class Control:
    """What the refresher reads before each pass: configuration version and the hold."""

    version: int
    held_until: datetime | None
    released: int  # holds ended so far
    drained: int  # of those, how many the refresher has caught up after

    @property
    def undrained(self) -> bool:
        """A hold ended and the refresher has not caught up after it yet."""
        return self.released > self.drained

    def held_at(self, now: datetime) -> datetime | None:
        """Until when publishing is held, if it is held at `now`."""
        return self.held_until if self.held_until and self.held_until > now else None

    def catching_up(self, now: datetime) -> bool:
        """A hold ended (or ran out) and what changed during it is not all derived yet."""
        return self.undrained or (self.held_until is not None and self.held_until <= now)


def field_key(contribution_id: str) -> str:
    """A contribution id usable as a field name (no '.', no leading '$')."""
    if _SAFE_KEY.match(contribution_id):
        return contribution_id
    return "h" + hashlib.sha256(contribution_id.encode()).hexdigest()[:40]


def month_id(kind: str, subject: str, month: str) -> str:
    return f"{kind}:{subject}:{month}"


class MongoScoringStore:
    """Scoring's storage."""

    # --- contributions ----------------------------------------------------------------

    def add_rating(self, rating_id: str, *, official: str | None, unit: str, day: str,
                   overall: int, factors: dict) -> list[str]:
        """Record a rating under its official (if named) and its counter's unit.

        An official's bucket holds a month, a unit's a day (a unit gets many more ratings,
        and a bucket is rewritten whole on every change). Returns the buckets written.
        """
        row = [overall] + [factors.get(k) for k in FACTORS]
        key = field_key(rating_id)
        coll = CitizenMonth._get_collection()
        month = day[:7]
        written = []
        for bucket, kind, subject in ((month_id("o", official, month), "o", official),
                                      (month_id("u", unit, day), "u", unit)):
            if subject is None:
                continue
            written.append(bucket)
            coll.update_one(
                {"_id": bucket},
                {"$set": {f"r.{key}": row, DIRTY: datetime.now(UTC)},
                 "$setOnInsert": {"kind": kind, "subject": subject, "month": month}},
                upsert=True,
            )
        return written

    def add_review(self, review_id: str, *, reviewee: str, year: str, revision: int,
                   scores: dict) -> bool:
        """Record a review unless the same or a newer revision is stored; True if applied."""
        key = field_key(review_id)
        try:
            result = PeerYear._get_collection().update_one(
                {"_id": f"{reviewee}:{year}",
                 "$or": [{f"v.{key}": {"$exists": False}}, {f"v.{key}.rev": {"$lt": revision}}]},
                {"$set": {f"v.{key}": {"rev": revision, "s": [scores[c] for c in CRITERIA]},
                          DIRTY: datetime.now(UTC)},
                 "$setOnInsert": {"reviewee": reviewee, "year": year}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # this revision or a newer one is already there
        return bool(result.modified_count or result.upserted_id)

    def citizen_inputs(self, kind: str, subjects: list[str], months: list[str]
                       ) -> dict[str, list[CitizenInput]]:
        """Ratings per subject over some months."""
        if kind == "u":
            ids = [month_id(kind, s, d) for s in subjects for m in months for d in days_of(m)]
        else:
            ids = [month_id(kind, s, m) for s in subjects for m in months]
        out: dict[str, list[CitizenInput]] = {s: [] for s in subjects}
        if not ids:
            return out
        for doc in CitizenMonth._get_collection().find({"_id": {"$in": ids}}):
            inputs = out[doc["subject"]]
            for row in (doc.get("r") or {}).values():
                factors = {k: v for k, v in zip(FACTORS, row[1:], strict=False) if v is not None}
                inputs.append(CitizenInput(row[0], factors))
        return out

    def reviews(self, reviewees: list[str], year: str) -> dict[str, list[dict]]:
        """Each reviewee's reviews of a year, as {criterion: score}."""
        out: dict[str, list[dict]] = {r: [] for r in reviewees}
        ids = [f"{r}:{year}" for r in reviewees]
        for doc in PeerYear._get_collection().find({"_id": {"$in": ids}}):
            out[doc["reviewee"]] = [dict(zip(CRITERIA, e["s"], strict=True))
                                    for e in (doc.get("v") or {}).values()]
        return out

    def has_contributions(self, official: str) -> bool:
        coll = CitizenMonth._get_collection()
        if coll.count_documents({"kind": "o", "subject": official}, limit=1):
            return True
        return PeerYear._get_collection().count_documents({"reviewee": official}, limit=1) > 0

    def unit_known(self, unit: str) -> bool:
        """A unit from the directory, or one that ratings have named."""
        if UnitRecord._get_collection().count_documents({"_id": unit}, limit=1):
            return True
        return CitizenMonth._get_collection().count_documents(
            {"kind": "u", "subject": unit}, limit=1) > 0

    def scored_years(self) -> list[tuple[str, int]]:
        """(official, year) for every official with any contribution."""
        pairs = set()
        for doc in CitizenMonth._get_collection().find({"kind": "o"}, {"subject": 1, "month": 1}):
            pairs.add((doc["subject"], int(doc["month"][:4])))
        for doc in PeerYear._get_collection().find({}, {"reviewee": 1, "year": 1}):
            pairs.add((doc["reviewee"], int(doc["year"])))
        return sorted(pairs)

    def dirty_buckets(self, hinted: list[str] | None, limit: int = 500) -> list[dict]:
        """Buckets changed since their scores were last derived (hinted ids, or a scan)."""
        out = []
        for coll in (CitizenMonth._get_collection(), PeerYear._get_collection()):
            query = {DIRTY: {"$exists": True}}
            if hinted is not None:
                query["_id"] = {"$in": hinted}
            out.extend(coll.find(query, {"kind": 1, "subject": 1, "month": 1, "reviewee": 1,
                                         "year": 1, DIRTY: 1}).limit(limit))
        return out

    def dirty_count(self) -> int:
        """Buckets changed since their scores were last derived (sparse index)."""
        return sum(coll.count_documents({DIRTY: {"$exists": True}}) for coll in
                   (CitizenMonth._get_collection(), PeerYear._get_collection()))

    def mark_clean(self, buckets: list[dict]) -> None:
        """Clear the mark of buckets not changed again since they were read."""
        for doc in buckets:
            coll = (CitizenMonth if "month" in doc else PeerYear)._get_collection()
            coll.update_one({"_id": doc["_id"], DIRTY: doc[DIRTY]}, {"$unset": {DIRTY: ""}})

    def ancestors(self, unit: str) -> list[str]:
        """The unit and the units above it."""
        out, current, seen = [], unit, set()
        coll = UnitRecord._get_collection()
        while current and current not in seen:
            seen.add(current)
            out.append(current)
            doc = coll.find_one({"_id": current}, {"parent": 1})
            current = (doc or {}).get("parent")
        return out

    # --- directory --------------------------------------------------------------------

    def upsert_directory_record(self, kind: str, record: dict) -> bool:
        """Keep the newest version of a unit or official; older or equal ones change nothing."""
        coll = (UnitRecord if kind == "unit" else OfficialRecord)._get_collection()
        fields = {k: v for k, v in record.items() if k not in ("code", "updated_at")}
        try:
            result = coll.update_one(
                {"_id": record["code"], "version": {"$lt": record["version"]}},
                {"$set": fields}, upsert=True,
            )
        except DuplicateKeyError:
            return False
        return bool(result.modified_count or result.upserted_id)

    def official(self, code: str) -> dict | None:
        return OfficialRecord._get_collection().find_one({"_id": code})

    def unit(self, code: str) -> dict | None:
        return UnitRecord._get_collection().find_one({"_id": code})

    def officials_of(self, unit: str) -> list[dict]:
        return list(OfficialRecord._get_collection().find({"unit": unit}).sort("_id", 1))

    def children_of(self, unit: str) -> list[str]:
        return [d["_id"] for d in UnitRecord._get_collection().find(
            {"parent": unit}, {"_id": 1}).sort("_id", 1)]

    def subtree(self, unit: str) -> list[str]:
        """The unit and all units below it."""
        parents = {d["_id"]: d.get("parent")
                   for d in UnitRecord._get_collection().find({}, {"parent": 1})}
        children: dict[str, list[str]] = {}
        for code, parent in parents.items():
            if parent:
                children.setdefault(parent, []).append(code)
        out, todo, seen = [], [unit], set()
        while todo:
            code = todo.pop()
            if code in seen:
                continue
            seen.add(code)
            out.append(code)
            todo.extend(children.get(code, []))
        return out

    # --- configuration ----------------------------------------------------------------

    def config(self) -> tuple[ScoringConfig, int]:
        doc = ConfigRecord._get_collection().find_one({"_id": "scoring"})
        if doc is None:
            return ScoringConfig(), 0
        return ScoringConfig(**doc["values"]), doc.get("version", 0)

    def save_config(self, cfg: ScoringConfig) -> int:
        doc = ConfigRecord._get_collection().find_one_and_update(
            {"_id": "scoring"}, {"$set": {"values": cfg.to_dict()}, "$inc": {"version": 1}},
            upsert=True, return_document=True)
        return doc["version"]

    def hold_publishing(self, until: datetime) -> datetime:
        """Keep score changes unpublished until `until` (a rebuild replays history: its
        passing states must not reach notify as new crossings)."""
        ConfigRecord._get_collection().update_one(
            {"_id": "hold"}, {"$set": {"values.until": until}}, upsert=True)
        return until

    def release_publishing(self, expired_by: datetime | None = None) -> bool:
        """End the hold (or, with `expired_by`, only a hold that ran out by then). Each end
        counts one release; the refresher derives what changed meanwhile and counts it
        drained, so anyone can tell when the scores are caught up, from any process."""
        where: dict = {"_id": "hold"}
        if expired_by is not None:
            where["values.until"] = {"$lte": expired_by}
        else:
            where["values.until"] = {"$ne": None}
        result = ConfigRecord._get_collection().update_one(
            where, {"$set": {"values.until": None}, "$inc": {"released": 1}})
        return bool(result.modified_count)

    def mark_drained(self, release: int) -> None:
        ConfigRecord._get_collection().update_one({"_id": "hold"},
                                                  {"$max": {"drained": release}})

    def control(self) -> Control:
        """Configuration version and the publishing hold, in one read."""
        docs = {d["_id"]: d for d in ConfigRecord._get_collection().find(
            {"_id": {"$in": ["scoring", "hold"]}},
            {"version": 1, "values.until": 1, "released": 1, "drained": 1})}
        hold = docs.get("hold") or {}
        until = (hold.get("values") or {}).get("until")
        return Control(version=docs.get("scoring", {}).get("version", 0),
                       held_until=until.replace(tzinfo=UTC) if until else None,
                       released=hold.get("released", 0), drained=hold.get("drained", 0))

    # --- materialised scores ----------------------------------------------------------

    def unit_scores(self) -> list[dict]:
        """The stored unit scores (unit, period)."""
        return list(Score._get_collection().find({"official": None}, {"unit": 1, "period": 1}))

    def stored_scores(self, ids: list[str]) -> dict[str, dict]:
        return {d["_id"]: d for d in Score._get_collection().find(
            {"_id": {"$in": ids}}, {"score": 1})}

    def save_score(self, key: str, official: str | None, period: str, unit: str | None,
                   score: dict, event) -> None:
        """Store a changed score with its `score.updated` event (one document write)."""
        Score._get_collection().update_one(
            {"_id": key},
            {"$set": {"official": official, "period": period, "unit": unit, "score": score,
                      "conduct_index": score.get("conduct_index"),
                      "computed_at": datetime.now(UTC), **outbox_fields(event)}},
            upsert=True,
        )
