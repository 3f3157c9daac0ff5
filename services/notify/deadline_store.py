"""Notify's reads and writes of deadlines and submissions, each change stored with the
deadline's `deadline.status` for scoring's dashboards (an outbox in the deadline's own
document). Part of `NotifyStore`; nothing else touches these collections.

Every change (saved, deleted, a unit's report marked, or the status published again at
start) moves the deadline's `status_version` by compare-and-set, and the same write sets
the pending event of that version, made from the deadline as that write leaves it and the
submissions read after it. So the pending event is always the newest: a change made
before the relay ran replaces the one waiting (they go out as one), and a write that
lost the race reads again instead of storing an older picture over a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.notify.deadline_status import status_event
from services.notify.documents import Deadline, Submission
from shared.outbox import outbox_fields

STATUS_VERSION = "status_version"


class DeadlineStore:
    def deadline(self, deadline_id: str) -> dict | None:
        """The deadline unless unknown or deleted."""
        return Deadline._get_collection().find_one({"_id": deadline_id, "deleted": False})

    def deadlines(self) -> list[dict]:
        """Every deadline not deleted, soonest first."""
        return list(Deadline._get_collection().find({"deleted": False}).sort("due_at", 1))

    def live_deadline_ids(self) -> list[str]:
        return [d["_id"] for d in Deadline._get_collection().find({"deleted": False},
                                                                  {"_id": 1})]

    def deadline_ids_due_since(self, since: datetime) -> list[str]:
        """Every deadline due at `since` or later, deleted ones too."""
        return [d["_id"] for d in Deadline._get_collection().find(
            {"due_at": {"$gte": since}}, {"_id": 1})]

    def save_deadline(self, deadline_id: str, fields: dict, now: datetime) -> tuple[dict, bool]:
        """Create or replace a deadline (undeleting it); return it and whether it is new.
        `scheduled_at`: reminders planned by this save are those after it."""
        def replace(before: dict | None) -> dict:
            return {**fields, "deleted": False, "updated_at": now, "scheduled_at": now,
                    "version": (before or {}).get("version", 0) + 1}

        before, doc = self._change_status(deadline_id, replace)
        return doc, before is None or before.get("deleted", False)

    def delete_deadline(self, deadline_id: str) -> bool:
        def delete(before: dict | None) -> dict | None:
            return None if before is None or before.get("deleted") else {"deleted": True}

        return self._change_status(deadline_id, delete)[1] is not None

    def publish_status(self, deadline_id: str) -> dict | None:
        """Store the deadline's status again as a new version (a unit's report marked,
        or notify starting); None for an unknown deadline."""
        return self._change_status(deadline_id, lambda before: before and {})[1]

    def _change_status(self, deadline_id: str, change: Callable[[dict | None], dict | None]
                       ) -> tuple[dict | None, dict | None]:
        """Apply `change` (the fields to set, given the deadline as stored; None: nothing
        to do) with the status event of the next version, by compare-and-set; return the
        deadline before and after (None when nothing was done)."""
        coll = Deadline._get_collection()
        while True:
            before = coll.find_one({"_id": deadline_id})
            fields = change(before)
            if fields is None:
                return before, None
            current = (before or {}).get(STATUS_VERSION)
            version = (current or 0) + 1
            after = {**(before or {}), "_id": deadline_id, **fields}
            # read after `before`: a submission marked since is in it, or its own write
            # (after ours) moves the version and ours fails and reads again
            event = status_event(after, self.submitted(deadline_id), version)
            try:
                doc = coll.find_one_and_update(
                    {"_id": deadline_id,
                     STATUS_VERSION: current if current else {"$exists": False}},
                    {"$set": {**fields, STATUS_VERSION: version, **outbox_fields(event)}},
                    upsert=True, return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue  # another write came first: read it and try again
            return before, doc

    def mark_reminder_done(self, deadline_id: str, offset: str) -> None:
        Deadline._get_collection().update_one({"_id": deadline_id},
                                              {"$addToSet": {"reminders_done": offset}})

    def submitted(self, deadline_id: str) -> list[str]:
        """The units whose report is in, sorted."""
        return sorted(d["unit"] for d in Submission._get_collection().find(
            {"deadline": deadline_id}, {"unit": 1}))

    def submit(self, deadline_id: str, unit: str, now: datetime) -> dict:
        """Record the unit's report (the first time is kept) and the deadline's status
        with it; return the record. Marked again, the status goes out again (a crash
        between the two writes left it unsent)."""
        coll = Submission._get_collection()
        key = f"{deadline_id}|{unit}"
        coll.update_one({"_id": key}, {"$setOnInsert": {
            "deadline": deadline_id, "unit": unit, "submitted_at": now}}, upsert=True)
        self.publish_status(deadline_id)
        return coll.find_one({"_id": key})
