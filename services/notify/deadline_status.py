"""`deadline.status` for scoring's dashboards: a deadline as it now stands (its units as
given, `["*"]` kept as is; the units that have submitted; whether it is deleted), under a
version that every change moves (deadline_store.py stores it with the change).

Scoring has no replay of notify's facts, so a scoring rebuilt from nothing learns the
deadlines from `StatusRepublish`: at notify's start, the status of every deadline due
within the last year or later (deleted ones too) is stored again as a new version.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from pymongo.errors import ConnectionFailure

from services.notify.documents import Deadline
from shared import dashboard_events
from shared import events as ev
from shared.events import Event
from shared.loop import STOP, BackgroundLoop, Backoff

logger = logging.getLogger(__name__)

# deadlines due longer ago than this are not published again at start
REPUBLISH_SINCE = timedelta(days=366)


def status_data(deadline: dict, submitted: list[str], version: int) -> dict:
    """The data of the deadline's `deadline.status` at `version`."""
    return {"id": deadline["_id"], "title": deadline["title"], "due_at": deadline["due_at"],
            "units": list(deadline.get("units") or []), "submitted": sorted(submitted),
            "deleted": bool(deadline.get("deleted")), "version": version}


def status_event(deadline: dict, submitted: list[str], version: int) -> Event:
    return ev.make_event(dashboard_events.DEADLINE_STATUS,
                         status_data(deadline, submitted, version),
                         source=ev.SOURCES["notify"], subject=deadline["_id"])


def announce(relay, deadline_id: str) -> None:
    """Tell the relay the deadline has a status to publish (it would find it anyway, at
    its next scan)."""
    relay.notify(Deadline._get_collection().name, deadline_id)


def republish(store, relay, now: datetime | None = None) -> list[str]:
    """Store the status of every deadline due since a year ago again; return their ids.
    A record that cannot be published (broken in the database) is logged and skipped;
    the database away raises (the caller retries)."""
    now = now or datetime.now(UTC)
    done = []
    for deadline_id in store.deadline_ids_due_since(now - REPUBLISH_SINCE):
        try:
            store.publish_status(deadline_id)
        except ConnectionFailure:
            raise
        except Exception:
            logger.exception("deadline %s: its status cannot be published", deadline_id)
            continue
        announce(relay, deadline_id)
        done.append(deadline_id)
    logger.info("deadline.status published again for %d deadlines", len(done))
    return done


class StatusRepublish:
    """Runs `republish` once at start, in the background, retrying while MongoDB is
    away."""

    def __init__(self, store, relay):
        self._loop = BackgroundLoop("notify-deadline-status", self._step,
                                    backoff=Backoff(0.5, 15.0))
        self.store, self.relay = store, relay
        self.done = threading.Event()

    def _step(self):
        republish(self.store, self.relay)
        self.done.set()
        return STOP

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)
