"""Event handlers of notify: plain functions with explicit dependencies."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from pymongo.errors import DuplicateKeyError

from services.notify.documents import OfficialContact, UnitContact
from shared import events as ev
from shared.events import Event
from shared.messages import make_dispatcher as shared_dispatcher

logger = logging.getLogger(__name__)


def _newest(coll, code: str, version: int, fields: dict) -> None:
    # DuplicateKeyError: this version or a newer one is already stored
    with contextlib.suppress(DuplicateKeyError):
        coll.update_one({"_id": code, "version": {"$lt": version}}, {"$set": fields},
                        upsert=True)


def apply_unit_upserted(event: Event, *, service) -> None:
    """Keep notify's copy of a unit's contacts at the newest version."""
    d = event.loaded_data()
    _newest(UnitContact._get_collection(), d["code"], d["version"], {
        "name": d["name"], "parent": d.get("parent"), "emails": d["emails"],
        "webhook_url": d.get("webhook_url"), "version": d["version"],
        "updated_at": d["updated_at"]})
    service.sender.resolve_waiting(d["code"])


def apply_official_upserted(event: Event, *, service) -> None:
    d = event.loaded_data()
    _newest(OfficialContact._get_collection(), d["code"], d["version"], {
        "full_name": d["full_name"], "unit": d["unit"], "active": d.get("active", True),
        "version": d["version"]})


def alert_low_rating(event: Event, *, service) -> None:
    """A rating of 1 or 2: alert the official's unit (folded to one an hour)."""
    service.on_rating(event.loaded_data())


def alert_score_crossing(event: Event, *, service) -> None:
    """A score falling under its threshold: alert the unit once per crossing."""
    service.on_score(event.loaded_data())


HANDLERS: dict[str, Callable[..., None]] = {
    ev.UNIT_UPSERTED: apply_unit_upserted,
    ev.OFFICIAL_UPSERTED: apply_official_upserted,
    ev.RATING_SUBMITTED: alert_low_rating,
    ev.SCORE_UPDATED: alert_score_crossing,
}


def make_dispatcher(**deps) -> Callable[[Event], None]:
    """Route each event of the queue to its handler."""
    return shared_dispatcher(HANDLERS, **deps)
