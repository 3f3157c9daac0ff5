"""Notify's reads and writes of the peer-review cycle: each year's window at its newest
version, and the times of the cycle claimed once each with their event (an outbox).
Part of `NotifyStore`; nothing else touches these collections."""

from __future__ import annotations

import contextlib
from datetime import datetime

from pymongo.errors import DuplicateKeyError

from services.notify.documents import CycleDue, ReviewWindow
from shared.events import Event
from shared.outbox import outbox_fields


class ReviewCycleStore:
    def save_review_window(self, year: str, version: int, fields: dict) -> bool:
        """Keep the window of `year` at the newest version; False when this version or a
        newer one is stored already (a redelivery, or an older one arriving late)."""
        try:
            result = ReviewWindow._get_collection().update_one(
                {"_id": year, "version": {"$lt": version}},
                {"$set": {**fields, "version": version}}, upsert=True)
        except DuplicateKeyError:
            return False
        return bool(result.upserted_id is not None or result.modified_count)

    def review_window(self, year: str) -> dict | None:
        return ReviewWindow._get_collection().find_one({"_id": year})

    def open_review_years(self, now: datetime) -> list[str]:
        """The years whose window has not closed at `now` (the reconcile's work)."""
        return sorted(d["_id"] for d in ReviewWindow._get_collection().find(
            {"closes_at": {"$gt": now}}, {"_id": 1}))

    def claim_cycle_due(self, key: str, fields: dict, event: Event, now: datetime) -> bool:
        """Store a time of the cycle that came, with its event to publish, under `key`;
        False when it was claimed before: never twice."""
        with contextlib.suppress(DuplicateKeyError):
            CycleDue._get_collection().insert_one(
                {"_id": key, **fields, "claimed_at": now, **outbox_fields(event)})
            return True
        return False

    def cycle_claimed(self, key: str) -> bool:
        return CycleDue._get_collection().count_documents({"_id": key}, limit=1) > 0

    def invited(self, year: str) -> bool:
        """Whether the year's invitation has come, for any version of its window."""
        return CycleDue._get_collection().count_documents(
            {"year": year, "kind": "invitation"}, limit=1) > 0
