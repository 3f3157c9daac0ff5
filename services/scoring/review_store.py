"""Scoring's peer reviews (part of the scoring store): each review with its revision and
comment in its reviewee's year, and each year's review window, which decides when the
year's peer results are published.

A review is kept under its id only (a keyed pseudonym from survey): nothing here says
who wrote it, and nothing dates it, so neither the scores nor the comments can be traced
to a colleague or ordered by when they came.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from services.scoring.buckets import changed, field_key
from services.scoring.documents import PeerYear, ReviewYear
from shared.events import CRITERIA


def _aware(moment: datetime | None) -> datetime | None:
    """A stored time (naive UTC, as MongoDB gives it back) with its zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class ReviewRecords:
    """Reads and idempotent writes of reviews and review windows."""

    def add_review(self, review_id: str, *, reviewee: str, year: str, revision: int,
                   scores: dict, comment: str | None = None) -> bool:
        """Record a review unless the same or a newer revision is stored (an edit replaces
        the scores and the comment, a comment taken out too); True if applied."""
        key = field_key(review_id)
        entry: dict = {"rev": revision, "s": [scores[c] for c in CRITERIA]}
        if comment and comment.strip():
            entry["c"] = comment.strip()
        try:
            result = PeerYear._get_collection().update_one(
                {"_id": f"{reviewee}:{year}",
                 "$or": [{f"v.{key}": {"$exists": False}}, {f"v.{key}.rev": {"$lt": revision}}]},
                {"$set": {f"v.{key}": entry}, **changed(datetime.now(UTC)),
                 "$setOnInsert": {"reviewee": reviewee, "year": year}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # this revision or a newer one is already there
        return bool(result.modified_count or result.upserted_id)

    def reviews(self, reviewees: list[str], year: str) -> dict[str, list[dict]]:
        """Each reviewee's reviews of a year, as {criterion: score}."""
        out: dict[str, list[dict]] = {r: [] for r in reviewees}
        ids = [f"{r}:{year}" for r in reviewees]
        for doc in PeerYear._get_collection().find({"_id": {"$in": ids}}):
            out[doc["reviewee"]] = [dict(zip(CRITERIA, e["s"], strict=True))
                                    for e in (doc.get("v") or {}).values()]
        return out

    def review_comments(self, reviewee: str, year: str) -> list[str]:
        """The comments of a reviewee's reviews of a year (in no meaningful order)."""
        doc = PeerYear._get_collection().find_one({"_id": f"{reviewee}:{year}"}, {"v": 1})
        return [e["c"] for e in ((doc or {}).get("v") or {}).values() if e.get("c")]

    # --- review windows -------------------------------------------------------------

    def save_window(self, year: str, *, opens_at: datetime, closes_at: datetime,
                    version: int) -> bool:
        """Keep a year's window at its newest version (a replay or an older version
        changes nothing); True if this one was kept."""
        try:
            result = ReviewYear._get_collection().update_one(
                {"_id": year, "$or": [{"version": {"$exists": False}},
                                      {"version": {"$lt": version}}]},
                {"$set": {"opens_at": opens_at, "closes_at": closes_at, "version": version}},
                upsert=True)
        except DuplicateKeyError:
            return False
        return bool(result.modified_count or result.upserted_id)

    def window(self, year: str) -> dict | None:
        """A year's window {opens_at, closes_at, version} (None: survey set none)."""
        doc = ReviewYear._get_collection().find_one({"_id": year})
        if not doc or doc.get("closes_at") is None:
            return None
        return {"opens_at": _aware(doc.get("opens_at")), "closes_at": _aware(doc["closes_at"]),
                "version": doc.get("version")}

    def review_years(self) -> dict[str, dict]:
        """Every year with a review or a window: {year: {closes_at?, shown?}}."""
        years: dict[str, dict] = {y: {} for y in PeerYear._get_collection().distinct("year")}
        for doc in ReviewYear._get_collection().find({}, {"closes_at": 1, "shown": 1}):
            years[doc["_id"]] = {"closes_at": _aware(doc.get("closes_at")),
                                 "shown": doc.get("shown")}
        return years

    def mark_review_year(self, year: str, shown: bool, now: datetime) -> int:
        """Mark every peer bucket of `year` (their scores are to be derived again), then
        remember for which state: a crash between the two marks them once more, which
        publishes nothing twice. Returns the buckets marked."""
        marked = PeerYear._get_collection().update_many({"year": year}, changed(now))
        ReviewYear._get_collection().update_one({"_id": year}, {"$set": {"shown": shown}},
                                                upsert=True)
        return marked.modified_count
