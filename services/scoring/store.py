"""Reads and idempotent writes of scoring's database.

Every write is safe to repeat and to reorder: contributions are `$set` under their own id
in a bucket, a rating's row only replaces a lower version of its state, reviews only a
lower revision, directory records only a lower version. Every read on the event path is by key.

A write that changes a bucket also marks it, in the same write: `changes` counts the
writes and `dirty_since` keeps the earliest one whose scores are not derived yet. The
refresher clears the mark only if no write came after it read the bucket, so a crash,
or a change made while it worked, leaves the bucket marked for the next pass, in this
process or another one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.scoring.buckets import (
    BUCKET_FIELDS,
    CHANGES,
    DIRTY_SINCE,
    changed,
    field_key,
    replaces,
    write_bucket,
    write_rows,
)
from services.scoring.dashboard_store import DashboardRecords
from services.scoring.directory_store import DirectoryRecords
from services.scoring.documents import CitizenMonth, ConfigRecord, PeerYear, Score, UnitRecord
from services.scoring.domain import CitizenInput, ScoringConfig, inputs_of
from services.scoring.review_store import ReviewRecords
from shared.events import FACTORS
from shared.integrity_events import COUNTED
from shared.outbox import outbox_fields
from shared.periods import days_of


def month_id(kind: str, subject: str, month: str) -> str:
    return f"{kind}:{subject}:{month}"


def _buckets():
    return (CitizenMonth._get_collection(), PeerYear._get_collection())


class MongoScoringStore(DirectoryRecords, ReviewRecords, DashboardRecords):
    """Scoring's storage."""

    # --- contributions ----------------------------------------------------------------

    def add_rating(self, rating_id: str, *, official: str | None, unit: str, day: str,
                   hour: int, overall: int, factors: dict, status: str = COUNTED,
                   version: int = 0) -> list[str]:
        """Record one rating (see `add_ratings`), a guarded write per bucket, no read;
        returns the buckets written."""
        row = [overall] + [factors.get(k) for k in FACTORS] + [hour, status, version]
        key, month, now = field_key(rating_id), day[:7], datetime.now(UTC)
        written = []
        for bucket, kind, subject in ((month_id("o", official, month), "o", official),
                                      (month_id("u", unit, day), "u", unit)):
            if subject is not None and write_rows(CitizenMonth._get_collection(), bucket, {
                    "kind": kind, "subject": subject, "month": month}, {key: row}, now):
                written.append(bucket)
        return written

    def add_ratings(self, ratings: list[dict]) -> list[str]:
        """Record ratings under their official (if named) and their counter's unit, each
        with the local hour it was given (the dashboards' weekday × hour grid) and its
        state; returns the buckets written.

        An official's bucket holds a month, a unit's a day (a unit gets many more ratings).
        A row is replaced only by a higher `version` of the rating's state (a row stored
        without one is version 0): a redelivery, or an older state arriving after a newer
        one, changes nothing. A batch reads its buckets once (only the rows it brings) and
        writes each bucket once, all its new rows and the dirty mark in one update guarded
        by the bucket's change counter; a bucket someone else wrote meanwhile is written
        row by row instead, each row guarded by its version (`bucket_rows`).
        """
        by_bucket: dict[str, dict] = {}
        for r in ratings:
            row = [r["overall"]] + [r["factors"].get(k) for k in FACTORS] + \
                [r["hour"], r.get("status") or COUNTED, r.get("version") or 0]
            key, month = field_key(r["id"]), r["day"][:7]
            for bucket, kind, subject in ((month_id("o", r["official"], month), "o",
                                           r["official"]),
                                          (month_id("u", r["unit"], r["day"]), "u", r["unit"])):
                if subject is None:
                    continue
                rows = by_bucket.setdefault(bucket, {"kind": kind, "subject": subject,
                                                     "month": month, "rows": {}})["rows"]
                if replaces(rows.get(key), row):
                    rows[key] = row
        if not by_bucket:
            return []
        coll = CitizenMonth._get_collection()
        keys = {f"r.{k}": 1 for b in by_bucket.values() for k in b["rows"]}
        stored = {d["_id"]: d for d in coll.find({"_id": {"$in": list(by_bucket)}},
                                                 {CHANGES: 1, **keys})}
        written = []
        now = datetime.now(UTC)
        for bucket, b in by_bucket.items():
            doc = stored.get(bucket)
            old = (doc or {}).get("r") or {}
            new = {k: row for k, row in b["rows"].items() if replaces(old.get(k), row)}
            if new and write_bucket(coll, bucket, b, new, doc, now):
                written.append(bucket)
        return written

    def citizen_rows(self, kind: str, subjects: list[str], months: list[str]
                     ) -> dict[str, dict[str, list[list]]]:
        """The stored rows of each subject by bucket (an official's month, a unit's day)
        over some months: one read of the buckets, by key."""
        if kind == "u":
            ids = [month_id(kind, s, d) for s in subjects for m in months for d in days_of(m)]
        else:
            ids = [month_id(kind, s, m) for s in subjects for m in months]
        out: dict[str, dict[str, list[list]]] = {s: {} for s in subjects}
        if ids:
            for doc in CitizenMonth._get_collection().find({"_id": {"$in": ids}}, {"r": 1}):
                _, subject, when = doc["_id"].split(":", 2)
                out[subject][when] = list((doc.get("r") or {}).values())
        return out

    def citizen_inputs(self, kind: str, subjects: list[str], months: list[str]
                       ) -> dict[str, list[CitizenInput]]:
        """Ratings per subject over some months."""
        rows = self.citizen_rows(kind, subjects, months)
        return {s: [r for bucket in rows[s].values() for r in inputs_of(bucket)]
                for s in subjects}

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

    # --- marks: buckets whose scores are to be derived ---------------------------------

    def dirty_buckets(self, hinted: list[str] | None, limit: int = 500) -> list[dict]:
        """Marked buckets (among `hinted` ids, or all), at most `limit` of each kind."""
        out = []
        for coll in _buckets():
            query: dict = {DIRTY_SINCE: {"$exists": True}}
            if hinted is not None:
                query["_id"] = {"$in": hinted}
            out.extend(coll.find(query, BUCKET_FIELDS).limit(limit))
        return out

    def mark_clean(self, buckets: list[dict], read_at: datetime) -> None:
        """Clear the marks of `buckets` (read at `read_at`, then derived) unless written
        since; a bucket written since stays marked, as changed from `read_at` on at most."""
        for doc in buckets:
            coll = (CitizenMonth if "month" in doc else PeerYear)._get_collection()
            cleared = coll.update_one({"_id": doc["_id"], CHANGES: doc.get(CHANGES)},
                                      {"$unset": {DIRTY_SINCE: ""}})
            if not cleared.modified_count:
                coll.update_one({"_id": doc["_id"], DIRTY_SINCE: {"$lt": read_at}},
                                {"$set": {DIRTY_SINCE: read_at}})

    def mark_all(self) -> None:
        """Mark every bucket: all scores are to be derived again."""
        for coll in _buckets():
            coll.update_many({}, changed(datetime.now(UTC)))

    def dirty_count(self) -> int:
        """Buckets changed since their scores were last derived (sparse index)."""
        return sum(coll.count_documents({DIRTY_SINCE: {"$exists": True}}) for coll in _buckets())

    def dirty_before(self, when: datetime) -> bool:
        """Is some bucket changed before `when` still waiting for its scores?"""
        return any(coll.count_documents({DIRTY_SINCE: {"$lt": when}}, limit=1)
                   for coll in _buckets())

    # --- configuration ----------------------------------------------------------------

    def config(self) -> tuple[ScoringConfig, int]:
        doc = ConfigRecord._get_collection().find_one({"_id": "scoring"})
        if doc is None:
            return ScoringConfig(), 0
        return ScoringConfig.stored(doc["values"]), doc.get("version", 0)

    def save_config(self, cfg: ScoringConfig) -> int:
        """Store new parameters and mark every bucket, so every score is derived again."""
        doc = ConfigRecord._get_collection().find_one_and_update(
            {"_id": "scoring"}, {"$set": {"values": cfg.to_dict()}, "$inc": {"version": 1}},
            upsert=True, return_document=True)
        self.mark_for_config()
        return doc["version"]

    def mark_for_config(self) -> bool:
        """Mark every bucket if the configuration changed since they were last all marked
        for it (a process that died between the two writes); True if it did."""
        coll = ConfigRecord._get_collection()
        doc = coll.find_one({"_id": "scoring"}, {"version": 1, "marked": 1})
        if doc is None or doc.get("version", 0) <= doc.get("marked", 0):
            return False
        self.mark_all()
        coll.update_one({"_id": "scoring"}, {"$max": {"marked": doc["version"]}})
        return True

    # --- the publishing hold ------------------------------------------------------------

    def hold_publishing(self, until: datetime) -> datetime:
        """Keep `score.updated` unpublished until `until` (a rebuild replays history: its
        passing states must not reach notify as new crossings)."""
        ConfigRecord._get_collection().update_one(
            {"_id": "hold"}, {"$set": {"values.until": until}}, upsert=True)
        return until

    def release_publishing(self, now: datetime) -> None:
        """End the hold at `now` (a hold that ended already keeps its end)."""
        ConfigRecord._get_collection().update_one(
            {"_id": "hold", "values.until": {"$gt": now}}, {"$set": {"values.until": now}})

    def hold_end(self) -> datetime | None:
        """When the last hold ends or ended (None: never held)."""
        doc = ConfigRecord._get_collection().find_one({"_id": "hold"}, {"values.until": 1})
        until = ((doc or {}).get("values") or {}).get("until")
        return until.replace(tzinfo=UTC) if until else None

    # --- materialised scores ----------------------------------------------------------

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
