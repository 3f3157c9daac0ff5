"""Creating and delivering notifications: claimed once by key, sent with retries.

A notification is created with its claim key as `_id`, so the same reminder or alert for
the same unit and channel exists at most once, whatever redelivers or reruns. Delivery
runs on a pool of worker threads, one notification per task, so a slow or dead channel
never holds up another, nor the consumer. Each attempt is recorded; after the last one
the notification is `failed`, visible in the log API and in a metric.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from services.notify.channels import EmailChannel, NotConfigured, SendFailed, WebhookChannel
from services.notify.documents import Notification, UnitContact
from services.notify.render import render
from shared import metrics
from shared.events import json_safe

logger = logging.getLogger(__name__)

# A delivery in hand is not picked up by another worker or process for this long.
SENDING_LEASE = timedelta(minutes=5)


class Sender:
    def __init__(self, email: EmailChannel, webhook: WebhookChannel, *, workers: int = 8,
                 max_attempts: int = 5, initial_delay: float = 1.0, max_delay: float = 60.0,
                 scan_interval: float = 10.0):
        self.email = email
        self.webhook = webhook
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._scan_interval = scan_interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._me = uuid.uuid4().hex

    # --- creating ---------------------------------------------------------------------

    def notify_unit(self, key: str, kind: str, unit: str, context: dict, data: dict, *,
                    deadline: str | None = None, about_unit: str | None = None,
                    wait_for_directory: bool = False) -> list[str]:
        """Create (once per key and channel) a notification to each channel of `unit`.

        With `wait_for_directory`, a unit notify has not heard of yet (its directory event
        is still on the way) gets one `waiting` notification, turned into the real ones by
        `resolve_waiting` when the unit arrives, instead of being skipped."""
        contact = UnitContact._get_collection().find_one({"_id": unit})
        if contact is None and wait_for_directory:
            return self._wait(key, kind, unit, context, data, deadline, about_unit)
        contact = contact or {}
        context = {"unit": about_unit or unit, "unit_name": contact.get("name", unit),
                   "recipient_name": contact.get("name", unit), **context}
        subject, text, html = render(kind, context)
        data = json_safe(data)  # the webhook's JSON body carries it
        channels = []
        if contact.get("emails"):
            channels.append(("email", "; ".join(contact["emails"])))
        if contact.get("webhook_url"):
            channels.append(("webhook", contact["webhook_url"]))
        if not channels:
            channels.append(("none", None))
        created = []
        for channel, recipient in channels:
            nid = f"{key}|{channel}"
            doc = {"_id": nid, "kind": kind, "unit": about_unit or unit, "deadline": deadline,
                   "channel": channel, "recipient": recipient,
                   "status": "pending" if channel != "none" else "skipped",
                   "attempts": 0, "errors": [] if channel != "none" else
                   [f"unit {unit} has neither emails nor a webhook"],
                   "subject": subject, "text": text, "html": html, "data": data,
                   "created_at": datetime.now(UTC), "to_unit": unit}
            try:
                Notification._get_collection().insert_one(doc)
            except DuplicateKeyError:
                continue  # claimed before: never twice
            created.append(nid)
            if channel == "none":
                logger.warning("%s for %s not sent: the unit has no email or webhook", kind, unit)
                metrics.NOTIFICATIONS.labels(kind, channel, "skipped").inc()
            else:
                self.submit(nid)
        return created

    def _wait(self, key, kind, unit, context, data, deadline, about_unit) -> list[str]:
        nid = f"{key}|directory"
        with contextlib.suppress(DuplicateKeyError):
            Notification._get_collection().insert_one({
                "_id": nid, "kind": kind, "unit": about_unit or unit, "to_unit": unit,
                "deadline": deadline, "channel": "directory", "recipient": None,
                "status": "waiting", "attempts": 0, "created_at": datetime.now(UTC),
                "errors": [f"unit {unit} is not known yet: waiting for its directory record"],
                "subject": "", "key": key, "context": context, "data": json_safe(data),
                "about_unit": about_unit})
            logger.info("%s for %s waits for the unit's directory record", kind, unit)
            return [nid]
        return []

    def resolve_waiting(self, unit: str) -> list[str]:
        """The unit is known now: send what waited for it (each once, by its claim keys)."""
        coll = Notification._get_collection()
        created = []
        for doc in coll.find({"status": "waiting", "to_unit": unit}).sort("created_at", 1):
            created += self.notify_unit(doc["key"], doc["kind"], unit, doc["context"],
                                        doc["data"], deadline=doc.get("deadline"),
                                        about_unit=doc.get("about_unit"))
            coll.delete_one({"_id": doc["_id"], "status": "waiting"})
        return created

    # --- delivering -------------------------------------------------------------------

    def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="notify-send")
        self._stopping.clear()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._scan_loop, daemon=True,
                                            name="notify-resend")
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def submit(self, nid: str) -> None:
        if self._pool is not None and not self._stopping.is_set():
            # RuntimeError: shutting down; the scan after the restart sends it
            with contextlib.suppress(RuntimeError):
                self._pool.submit(self.deliver, nid).add_done_callback(_log_failure)

    def _scan_loop(self) -> None:
        """Pick up what a restart or a crash left pending (and is not in anyone's hands)."""
        while not self._stopping.wait(self._scan_interval):
            try:
                now = datetime.now(UTC)
                for doc in Notification._get_collection().find(
                        {"status": "pending", "$or": [{"sending_until": {"$exists": False}},
                                                      {"sending_until": {"$lt": now}}]},
                        {"_id": 1}).limit(500):
                    self.submit(doc["_id"])
            except Exception:
                logger.exception("scan of pending notifications failed")

    def deliver(self, nid: str) -> str | None:
        """Send one notification with retries; return its final status."""
        coll = Notification._get_collection()
        now = datetime.now(UTC)
        doc = coll.find_one_and_update(
            {"_id": nid, "status": "pending",
             "$or": [{"sending_until": {"$exists": False}}, {"sending_until": {"$lt": now}}]},
            {"$set": {"sending_until": now + SENDING_LEASE, "sender": self._me}},
            return_document=True)
        if doc is None:
            return None  # sent already, or in another worker's hands
        left = max(1, self.max_attempts - doc.get("attempts", 0))
        retrying = Retrying(
            stop=stop_after_attempt(left),
            wait=wait_random_exponential(multiplier=self.initial_delay, max=self.max_delay),
            retry=retry_if_exception_type(SendFailed),
            sleep=self._sleep,
        )
        status = "failed"
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        self._send(doc)
                    except SendFailed as exc:
                        coll.update_one({"_id": nid}, {"$inc": {"attempts": 1},
                                                        "$push": {"errors": str(exc)[:500]}})
                        logger.warning("%s: attempt failed: %s", nid, exc)
                        raise
            status = "sent"
        except NotConfigured as exc:
            status = "skipped"
            coll.update_one({"_id": nid}, {"$push": {"errors": str(exc)}})
            logger.info("%s skipped: %s", nid, exc)
        except RetryError:
            status = "failed"
        except Exception as exc:  # a bug in a template or a channel: record, do not loop
            logger.exception("%s: unexpected error", nid)
            coll.update_one({"_id": nid}, {"$inc": {"attempts": 1},
                                            "$push": {"errors": f"unexpected: {exc}"}})
            status = "failed"
        update = {"status": status}
        if status == "sent":
            update["sent_at"] = datetime.now(UTC)
            coll.update_one({"_id": nid}, {"$set": update, "$inc": {"attempts": 1},
                                            "$unset": {"sending_until": ""}})
        else:
            coll.update_one({"_id": nid}, {"$set": update, "$unset": {"sending_until": ""}})
        metrics.NOTIFICATIONS.labels(doc["kind"], doc["channel"], status).inc()
        return status

    def _sleep(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise SendFailed("stopping")

    def _send(self, doc: dict) -> None:
        if doc["channel"] == "email":
            recipients = [r.strip() for r in (doc.get("recipient") or "").split(";") if r.strip()]
            self.email.send(recipients, doc["subject"], doc["text"], doc["html"])
        elif doc["channel"] == "webhook":
            self.webhook.send(doc["recipient"], {
                "id": doc["_id"], "kind": doc["kind"], "unit": doc["unit"],
                "subject": doc["subject"], "text": doc["text"], "data": doc.get("data") or {}})
        else:
            raise NotConfigured(f"no channel {doc['channel']!r}")


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("delivery crashed", exc_info=future.exception())


def wait_until_settled(nids: list[str], timeout: float = 10.0) -> None:
    """Tests and the benchmark: wait until none of `nids` is pending."""
    deadline = time.monotonic() + timeout
    coll = Notification._get_collection()
    while time.monotonic() < deadline:
        if not coll.count_documents({"_id": {"$in": nids}, "status": "pending"}):
            return
        time.sleep(0.05)
