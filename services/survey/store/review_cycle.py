"""The review cycle's records: the invitations and reminders sent (one per year,
official, kind and offset, each with its `auth.link_requested` event in the same write),
the managers' extra reminders (one a day per unit), and who is active in which unit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from services.survey.documents import Official, ReviewNotice, UnitReminder
from services.survey.store import Notify, notify_of
from shared.events import Event
from shared.outbox import outbox_fields


def sent_notices(keys: list[str]) -> set[str]:
    """Those of the notice keys already claimed."""
    return {d["_id"] for d in ReviewNotice._get_collection().find(
        {"_id": {"$in": list(keys)}}, {"_id": 1})}


def add_notice(key: str, *, year: str, official: str, kind: str, offset: str | None,
               sent_at: datetime, event: Event | None, notify: Notify | None = None) -> bool:
    """Claim one invitation or reminder, with the event that sends it (none: one sent
    before, as the demo's history has); False if it was claimed already (a redelivery,
    or another process at the same moment)."""
    try:
        ReviewNotice._get_collection().insert_one(
            {"_id": key, "year": year, "official": official, "kind": kind, "offset": offset,
             "sent_at": sent_at, **(outbox_fields(event) if event is not None else {})})
    except DuplicateKeyError:
        return False
    if event is not None:
        notify_of(notify, ReviewNotice, key)
    return True


def claim_unit_reminder(year: str, unit: str, now: datetime,
                        every: timedelta) -> datetime | None:
    """Take the unit's extra reminder of the day: None when taken, else when the last one
    was sent (then nothing is changed)."""
    coll = UnitReminder._get_collection()
    key = f"{year}|{unit}"
    try:
        coll.insert_one({"_id": key, "sent_at": now})
        return None
    except DuplicateKeyError:
        pass
    if coll.update_one({"_id": key, "sent_at": {"$lte": now - every}},
                       {"$set": {"sent_at": now}}).matched_count:
        return None
    last = coll.find_one({"_id": key})
    return last["sent_at"] if last else now


def unit_reminders(year: str) -> dict[str, datetime]:
    """When each unit was last sent an extra reminder for `year`."""
    return {d["_id"].split("|", 1)[1]: d["sent_at"] for d in
            UnitReminder._get_collection().find({"_id": {"$regex": f"^{year}\\|"}})}


def active_by_unit(units: list[str] | None = None) -> Iterator[tuple[str, list[dict]]]:
    """(unit, its active officials by code) for every unit with any (or those of
    `units`): code, full name, email."""
    where: dict = {"active": {"$ne": False}}
    if units is not None:
        where["unit"] = {"$in": list(units)}
    members: dict[str, list[dict]] = {}
    for doc in Official._get_collection().find(
            where, {"unit": 1, "full_name": 1, "email": 1}).sort("_id", 1):
        members.setdefault(doc["unit"], []).append(
            {"code": doc["_id"], "full_name": doc["full_name"], "email": doc.get("email"),
             "unit": doc["unit"]})
    yield from sorted(members.items())
