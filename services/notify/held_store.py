"""Notify's reads and writes of held ratings: the newest state of each low rating (so a
held one alerts only once accepted, and once), and each burst of held ratings until its
one alert has gone. Part of `NotifyStore`; nothing else touches these collections."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.notify.documents import BurstAlert, OfficialContact, RatingState, UnitContact


class HeldRatingStore:
    # --- low ratings ------------------------------------------------------------------

    def rating_state(self, rating_id: str, version: int, status: str) -> dict | None:
        """Keep the newest state of a rating; return the record when this state is the
        newest (a redelivery of it too), None when a newer one is stored already."""
        coll = RatingState._get_collection()
        # DuplicateKeyError: this version or a newer one is stored already
        with contextlib.suppress(DuplicateKeyError):
            coll.update_one({"_id": rating_id, "version": {"$lt": version}},
                            {"$set": {"version": version, "status": status},
                             "$setOnInsert": {"low_alerted": False}}, upsert=True)
        doc = coll.find_one({"_id": rating_id})
        return doc if doc is not None and doc["version"] == version else None

    def mark_low_alerted(self, rating_id: str, alerted: bool = True) -> None:
        """The rating's low-rating alert is done (sent or waiting in the next folded
        one); with `alerted` False, not done after all (taken out before it went)."""
        RatingState._get_collection().update_one({"_id": rating_id},
                                                 {"$set": {"low_alerted": alerted}})

    # --- bursts -----------------------------------------------------------------------

    def note_burst(self, burst: str, rating: dict, *, now: datetime, ready_at: datetime,
                   start: bool) -> bool:
        """Add a held rating to its burst, unless the burst's alert has gone; with
        `start`, a burst not heard of before begins (its alert to go at `ready_at`).
        True when this call began it."""
        coll = BurstAlert._get_collection()
        known = coll.find_one({"_id": burst}, {"alerted_at": 1})
        if (known is None and not start) or (known or {}).get("alerted_at"):
            return False
        update = {
            "$addToSet": {"held": rating["id"],
                          "counters": {"code": rating["counter"], "label": rating["label"]}},
            "$min": {"first_at": rating["at"]}, "$max": {"last_at": rating["at"]},
            "$setOnInsert": {"unit": rating["unit"], "official": rating["official"],
                             "noticed_at": now, "ready_at": ready_at}}
        try:
            result = coll.update_one({"_id": burst}, update, upsert=known is None)
        except DuplicateKeyError:  # begun by another consumer a moment ago
            coll.update_one({"_id": burst, "alerted_at": {"$exists": False}}, update)
            return False
        return result.upserted_id is not None

    def burst(self, burst: str) -> dict | None:
        return BurstAlert._get_collection().find_one({"_id": burst})

    def close_burst(self, burst: str, held_count: int, now: datetime) -> dict | None:
        """The burst's alert has gone (naming `held_count` ratings): never again. None
        when it was closed before."""
        return BurstAlert._get_collection().find_one_and_update(
            {"_id": burst, "alerted_at": {"$exists": False}},
            {"$set": {"alerted_at": now, "held_count": held_count}, "$unset": {"held": ""}},
            return_document=ReturnDocument.AFTER)

    def bursts_waiting(self) -> Iterator[tuple[str, datetime]]:
        """Every burst whose alert has not gone, and when it goes."""
        for doc in BurstAlert._get_collection().find({"alerted_at": {"$exists": False}},
                                                     {"ready_at": 1}):
            yield doc["_id"], doc["ready_at"]

    def managers_of(self, unit: str) -> list[dict]:
        """The active managers of `unit` (directly) whose email notify knows, by code."""
        codes = (UnitContact._get_collection().find_one({"_id": unit}, {"managers": 1})
                 or {}).get("managers") or []
        return list(OfficialContact._get_collection().find(
            {"_id": {"$in": codes}, "active": {"$ne": False},
             "email": {"$nin": [None, ""]}}).sort("_id", 1))
