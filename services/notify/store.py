"""Every read and write of notify's own database (APScheduler's job store aside).

Writes are safe to repeat: directory records only replace a lower version, a notification
is created under its claim key (`_id`) at most once, alert states move by compare-and-set.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from mongoengine.connection import get_db
from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.notify.deadline_store import DeadlineStore
from services.notify.documents import (
    ALIAS,
    AlertState,
    Lease,
    Notification,
    OfficialContact,
    RatingAlertWindow,
    ScoreFold,
    UnitContact,
)
from services.notify.held_store import HeldRatingStore
from services.notify.review_store import ReviewCycleStore
from shared import audit

_NOT_IN_HAND = [{"sending_until": {"$exists": False}}]


def _ms(moment: datetime) -> datetime:
    """`moment` to the millisecond, as BSON keeps it (so stored and new times compare)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class NotifyStore(DeadlineStore, ReviewCycleStore, HeldRatingStore):
    """Notify's storage (MongoDB, or mongomock in tests and the demo); the deadlines'
    part is in deadline_store.py, the review cycle's in review_store.py, held ratings'
    in held_store.py."""

    # --- directory copies -------------------------------------------------------------

    def upsert_unit(self, code: str, version: int, fields: dict) -> None:
        self._newest(UnitContact, code, version, fields, added="managers")

    def upsert_official(self, code: str, version: int, fields: dict) -> None:
        self._newest(OfficialContact, code, version, fields, added="email")

    @staticmethod
    def _newest(document, code: str, version: int, fields: dict, added: str) -> None:
        # the same version also fills a field copied since (`added`) where a record
        # stored before lacks it: a directory replay completes the copy
        newer = {"$or": [{"version": {"$lt": version}},
                         {"version": version, added: {"$exists": False}}]}
        # DuplicateKeyError: this version or a newer one is stored already
        with contextlib.suppress(DuplicateKeyError):
            document._get_collection().update_one(
                {"_id": code, **newer}, {"$set": {**fields, "version": version}},
                upsert=True)

    def unit(self, code: str) -> dict | None:
        return UnitContact._get_collection().find_one({"_id": code})

    def official(self, code: str | None) -> dict | None:
        return OfficialContact._get_collection().find_one({"_id": code}) if code else None

    def unit_codes(self) -> list[str]:
        """Every unit notify knows, sorted."""
        return sorted(d["_id"] for d in UnitContact._get_collection().find({}, {"_id": 1}))

    # --- notifications ----------------------------------------------------------------

    def claim(self, doc: dict) -> bool:
        """Create a notification under its claim key; False if it exists: never twice."""
        try:
            Notification._get_collection().insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def waiting_for(self, unit: str) -> list[dict]:
        return list(Notification._get_collection().find(
            {"status": "waiting", "to_unit": unit}).sort("created_at", 1))

    def drop_waiting(self, nid: str) -> None:
        Notification._get_collection().delete_one({"_id": nid, "status": "waiting"})

    def notifications(self, where: dict, page: int, per_page: int) -> tuple[int, list[dict]]:
        """A page of the log, newest first, and the number of matches."""
        coll = Notification._get_collection()
        cursor = (coll.find(where).sort("created_at", DESCENDING)
                  .skip((page - 1) * per_page).limit(per_page))
        return coll.count_documents(where), list(cursor)

    def notification(self, nid: str) -> dict | None:
        return Notification._get_collection().find_one({"_id": nid})

    def pending_ids(self, now: datetime, limit: int = 500) -> list[str]:
        """Pending notifications in nobody's hands (left by a restart or a crash)."""
        return [d["_id"] for d in Notification._get_collection().find(
            {"status": "pending", "$or": [*_NOT_IN_HAND, {"sending_until": {"$lt": now}}]},
            {"_id": 1}).limit(limit)]

    def count_pending(self, ids: list[str] | None = None) -> int:
        where = {"status": "pending"} if ids is None else {"_id": {"$in": ids},
                                                           "status": "pending"}
        return Notification._get_collection().count_documents(where)

    def take(self, nid: str, holder: str, now: datetime, lease: timedelta) -> dict | None:
        """Take a pending notification into `holder`'s hands for `lease`; None if it is
        sent already or in other hands."""
        return Notification._get_collection().find_one_and_update(
            {"_id": nid, "status": "pending",
             "$or": [*_NOT_IN_HAND, {"sending_until": {"$lt": now}}]},
            {"$set": {"sending_until": now + lease, "sender": holder}},
            return_document=ReturnDocument.AFTER)

    def release(self, nid: str) -> None:
        """Put a delivery back, pending, for whoever takes it next."""
        Notification._get_collection().update_one({"_id": nid},
                                                  {"$unset": {"sending_until": ""}})

    def record_error(self, nid: str, error: str, *, attempt: bool = True) -> None:
        Notification._get_collection().update_one(
            {"_id": nid}, {"$inc": {"attempts": int(attempt)}, "$push": {"errors": error[:500]}})

    def settle(self, nid: str, status: str, sent_at: datetime | None = None) -> None:
        """The final status of a delivery (a success counts as one more attempt); a
        sign-in link's nonce is dropped: nothing can make its link again."""
        update: dict = {"$set": {"status": status},
                        "$unset": {"sending_until": "", "link_nonce": ""}}
        if sent_at is not None:
            update["$set"]["sent_at"] = sent_at
            update["$inc"] = {"attempts": 1}
        Notification._get_collection().update_one({"_id": nid}, update)

    # --- alerts -----------------------------------------------------------------------

    def judge_score(self, key: str, below: bool | None, value: float | None,
                    at: datetime) -> int | None:
        """Move the alert state of `key` (subject and period) to `below` by compare-and-set,
        unless it is there already or a newer score was judged before (redelivered or
        reordered events; of two computed in the same millisecond the later to arrive
        counts); return the crossing's number when it moved below."""
        coll = AlertState._get_collection()
        at = _ms(at)
        newer = {"$or": [{"at": {"$exists": False}}, {"at": {"$lte": at}}]}
        with contextlib.suppress(DuplicateKeyError):
            coll.update_one({"_id": key}, {"$setOnInsert": {"below": False, "crossings": 0}},
                            upsert=True)
        moved = None
        if below is not None:
            moved = coll.find_one_and_update(
                {"_id": key, "below": not below, **newer},
                {"$set": {"below": below, "at": at, "value": value},
                 "$inc": {"crossings": int(below)}},
                return_document=ReturnDocument.AFTER)
        if moved is None:
            coll.update_one({"_id": key, **newer}, {"$set": {"at": at, "value": value}})
            return None
        return moved["crossings"] if below else None

    def add_to_fold(self, subject: str, entry_id: str, entry: dict) -> dict:
        """Add a crossing to the subject's fold; return the fold."""
        return ScoreFold._get_collection().find_one_and_update(
            {"_id": subject}, {"$set": {f"entries.{entry_id}": entry}}, upsert=True,
            return_document=ReturnDocument.AFTER)

    def fold(self, subject: str) -> dict:
        return (ScoreFold._get_collection().find_one({"_id": subject}) or {}).get(
            "entries") or {}

    def clear_fold(self, subject: str, entry_ids: list[str]) -> None:
        """Drop the entries sent (crossings added meanwhile stay for the next alert)."""
        ScoreFold._get_collection().update_one(
            {"_id": subject}, {"$unset": {f"entries.{e}": "" for e in entry_ids}})

    def folds(self) -> Iterator[tuple[str, dict]]:
        """Every subject with crossings waiting, and them."""
        for doc in ScoreFold._get_collection().find({}):
            if doc.get("entries"):
                yield doc["_id"], doc["entries"]

    def rating_window(self, subject: str) -> dict:
        coll = RatingAlertWindow._get_collection()
        coll.update_one({"_id": subject}, {"$setOnInsert": {"pending": {}, "seen": []}},
                        upsert=True)
        return coll.find_one({"_id": subject})

    def hold_rating(self, subject: str, rating_id: str, summary: dict) -> None:
        RatingAlertWindow._get_collection().update_one(
            {"_id": subject}, {"$set": {f"pending.{rating_id}": summary}})

    def drop_pending_rating(self, subject: str, rating_id: str) -> bool:
        """Take a rating out of the next folded alert (it no longer counts); False when
        it was not waiting in it."""
        return bool(RatingAlertWindow._get_collection().update_one(
            {"_id": subject, f"pending.{rating_id}": {"$exists": True}},
            {"$unset": {f"pending.{rating_id}": ""}}).modified_count)

    def close_rating_window(self, subject: str, sent: list[str], held: list[str],
                            now: datetime) -> None:
        """The ratings `sent` are alerted (those of them `held` no longer wait): the next
        alert of `subject` is an hour after `now`."""
        update: dict = {"$set": {"last_sent_at": now},
                        "$push": {"seen": {"$each": sent, "$slice": -500}}}
        if held:
            update["$unset"] = {f"pending.{i}": "" for i in held}
        RatingAlertWindow._get_collection().update_one({"_id": subject}, update)

    def rating_windows_waiting(self) -> Iterator[tuple[str, datetime | None]]:
        """Every subject with low ratings waiting for their alert, and its last alert."""
        for doc in RatingAlertWindow._get_collection().find({}, {"pending": 1,
                                                                 "last_sent_at": 1}):
            if doc.get("pending"):
                yield doc["_id"], doc.get("last_sent_at")

    # --- audit ------------------------------------------------------------------------

    def record_audit(self, relay, record: dict) -> None:
        """Store an audit record with its event in one write; `relay` brings it to survey."""
        audit.record_via_outbox(get_db(ALIAS), relay, record)

    # --- the scheduler's lease --------------------------------------------------------

    def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `holder` unless another holds it still."""
        coll = Lease._get_collection()
        try:
            coll.update_one(
                {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
                {"$set": {"holder": holder, "expires_at": now + ttl}}, upsert=True)
        except DuplicateKeyError:
            return False  # held by another live scheduler
        doc = coll.find_one({"_id": name})
        return bool(doc) and doc["holder"] == holder

    def release_lease(self, name: str, holder: str) -> None:
        Lease._get_collection().delete_one({"_id": name, "holder": holder})
