"""Transactional outbox without multi-document transactions.

A write that must produce an event stores the event's envelope inside the same document,
in the same single-document write (`outbox_fields(event)` gives the fields to `$set`). The
relay publishes pending envelopes with pipelined confirms and clears a document's pending
event only once the broker confirmed it, and only if it is still the same event (a newer
write may have replaced it meanwhile). A broker outage or a crash therefore delays events
but never loses one; a crash between confirm and clear re-publishes it, which consumers
absorb because they are idempotent by event id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.collection import Collection

from shared import metrics
from shared.events import Event
from shared.loop import BackgroundLoop, Backoff
from shared.messages import OutgoingMessage

logger = logging.getLogger(__name__)

PENDING_AT = "outbox_at"
PENDING_EVENT = "outbox_event"


def outbox_fields(event: Event) -> dict:
    """The fields that store `event` as pending in the document being written."""
    return {PENDING_AT: datetime.now(UTC), PENDING_EVENT: event.to_dict()}


def ensure_outbox_index(collection: Collection) -> None:
    """Index the pending documents (sparse: published ones drop out of it)."""
    collection.create_index([(PENDING_AT, ASCENDING)], sparse=True, name="outbox_pending")


class OutboxRelay:
    """Publishes the pending events of some collections.

    Writers in this process hand the relay the key of what they just stored (`notify`),
    so the steady path fetches pending documents by `_id` only; a full scan of the
    pending index runs at start and every `scan_interval` seconds, which picks up what
    other processes wrote, or what a crash left behind.
    """

    def __init__(
        self,
        collections: list[Callable[[], Collection]],
        publisher,
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        scan_interval: float = 15.0,
        name: str = "outbox-relay",
        paused: Callable[[], bool] | None = None,
    ):
        self._collections = collections
        self._publisher = publisher
        self._batch_size = batch_size
        self._interval = interval
        self._scan_interval = scan_interval
        self._name = name
        # While `paused()` says so, nothing is published (scoring's publishing hold): the
        # pending events stay in their documents, a newer write replacing an older one.
        self._paused = paused or (lambda: False)
        self._loop = BackgroundLoop(name, self._step, interval=interval,
                                    backoff=Backoff(0.2, 10.0), final=self._final_flush,
                                    quiet=(PublishFailed,))
        self._hints: dict[str, dict] = {}
        self._hints_lock = threading.Lock()
        # One pass at a time in this process (the relay thread, a flush at shutdown):
        # two passes reading the same pending documents would publish them twice.
        self._pass_lock = threading.Lock()
        self._last_backlog_check = 0.0
        self._last_scan = float("-inf")
        self.last_failure = ""

    def notify(self, collection: str | None = None, doc_id=None) -> None:
        """Tell the relay that a pending event was just stored (in `collection`, `doc_id`)."""
        if collection is not None and doc_id is not None:
            with self._hints_lock:
                self._hints.setdefault(collection, {})[doc_id] = None
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after a last attempt to flush what is pending."""
        self._loop.stop(timeout)

    def backlog(self) -> int:
        """Events stored but not yet confirmed."""
        total = 0
        by_label: dict[str, int] = {}
        for get in self._collections:
            coll = get()
            n = coll.count_documents({PENDING_AT: {"$exists": True}})
            label = metrics.collection_label(coll.name)
            by_label[label] = by_label.get(label, 0) + n
            total += n
        for label, n in by_label.items():
            metrics.OUTBOX_BACKLOG.labels(label).set(n)
        return total

    def flush(self, timeout: float = 10.0) -> int:
        """Publish until nothing is pending or `timeout` passes; return what was published."""
        deadline = time.monotonic() + timeout
        published = 0
        while time.monotonic() < deadline:
            sent, failed = self.run_once(full_scan=True)
            published += sent
            if failed:
                time.sleep(0.2)
            elif sent == 0:
                break
        return published

    def run_once(self, full_scan: bool = False) -> tuple[int, int]:
        """Publish one batch from each collection; return (published, failed)."""
        if self._paused():
            return 0, 0
        with self._pass_lock:
            return self._run_once(full_scan)

    def _run_once(self, full_scan: bool) -> tuple[int, int]:
        published = failed = 0
        for get in self._collections:
            coll = get()
            if full_scan:
                query = {PENDING_AT: {"$exists": True}}
            else:
                ids = self._take_hints(coll.name)
                if not ids:
                    continue
                query = {"_id": {"$in": ids}, PENDING_AT: {"$exists": True}}
            docs = list(
                coll.find(query, {PENDING_EVENT: 1, PENDING_AT: 1})
                .sort(PENDING_AT, ASCENDING)
                .limit(self._batch_size)
            )
            docs = [d for d in docs if d.get(PENDING_EVENT)]
            if not docs:
                continue
            results = self._publisher.publish_many([_message(d[PENDING_EVENT]) for d in docs])
            confirmed = [d for d, err in zip(docs, results, strict=True) if err is None]
            if confirmed:
                # Cleared only if the pending event is still the one confirmed: event ids are
                # unique, so a newer write to the same document keeps its own event pending.
                coll.update_many(
                    {"_id": {"$in": [d["_id"] for d in confirmed]},
                     f"{PENDING_EVENT}.id": {"$in": [d[PENDING_EVENT]["id"] for d in confirmed]}},
                    {"$unset": {PENDING_AT: "", PENDING_EVENT: ""}},
                )
            published += len(confirmed)
            errors = [(d, e) for d, e in zip(docs, results, strict=True) if e is not None]
            failed += len(errors)
            if errors:
                for d, _ in errors:
                    self.notify(coll.name, d["_id"])
                self.last_failure = (f"{coll.name}: {len(errors)} of {len(docs)} events not "
                                     f"confirmed ({errors[0][1]})")
        return published, failed

    def _take_hints(self, collection: str) -> list:
        with self._hints_lock:
            pending = self._hints.get(collection)
            if not pending:
                return []
            ids = []
            for key in list(pending):
                ids.append(key)
                del pending[key]
                if len(ids) >= self._batch_size:
                    break
            return ids

    def _has_hints(self) -> bool:
        with self._hints_lock:
            return any(self._hints.values())

    def _step(self) -> float | None:
        if self._paused():
            return None  # look again after the interval (hints are kept for then)
        full = time.monotonic() - self._last_scan >= self._scan_interval
        published, failed = self.run_once(full_scan=full)
        self._maybe_measure_backlog()
        if failed:
            raise PublishFailed(self.last_failure)
        if full:
            self._last_scan = time.monotonic()
            if published:
                self._last_scan = float("-inf")  # a full batch: keep scanning until drained
                return 0
        return 0 if self._has_hints() else None

    def _final_flush(self) -> None:
        try:
            self.run_once(full_scan=True)
        except Exception as exc:
            logger.warning("outbox %s: last flush failed (%s); published at next start",
                           self._name, exc)

    def _maybe_measure_backlog(self) -> None:
        now = time.monotonic()
        if now - self._last_backlog_check >= 30.0:
            self._last_backlog_check = now
            self.backlog()


class PublishFailed(Exception):
    """Some events were not confirmed this pass; the loop backs off and retries them."""


def _message(envelope: dict) -> OutgoingMessage:
    import json

    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    return OutgoingMessage(envelope["type"], body, envelope["id"], envelope["type"])
