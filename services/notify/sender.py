"""Creating and delivering notifications: claimed once by key, sent with retries.

A notification is created with its claim key as `_id`, so the same reminder or alert for
the same unit and channel exists at most once, whatever redelivers or reruns. Delivery
runs on a pool of worker threads, one notification per task, so a slow or dead channel
never holds up another, nor the consumer. Each attempt is recorded; after the last one
the notification is `failed`, visible in the log API and in a metric. A rescan loop picks
up what a restart or a crash left pending. A sign-in link's email is written at each
attempt, the link made in memory from its nonce (links.py); messages to one person are
left out of the metrics (they would date that person's action).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from services.notify import links
from services.notify.channels import EmailChannel, NotConfigured, SendFailed, WebhookChannel
from services.notify.notices import PERSONAL_KINDS
from services.notify.render import render
from services.notify.store import NotifyStore
from shared import metrics
from shared.events import json_safe
from shared.loop import BackgroundLoop

logger = logging.getLogger(__name__)

# A delivery in hand is not picked up by another worker or process for this long.
SENDING_LEASE = timedelta(minutes=5)


class _Stopping(Exception):
    """The sender stops while waiting to try again: the notification stays pending."""


class Sender:
    def __init__(self, store: NotifyStore, email: EmailChannel, webhook: WebhookChannel, *,
                 workers: int = 8, max_attempts: int = 5, initial_delay: float = 1.0,
                 max_delay: float = 60.0, scan_interval: float = 10.0,
                 link_key: bytes | None = None, print_links: bool = False):
        self.store = store
        self.link_key = link_key  # makes a sign-in link's secret from its nonce (links.py)
        # the all-in-one demo without SMTP_URL only: an unsent link goes to the console
        self.print_links = print_links
        self.email = email
        self.webhook = webhook
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._in_hand: set[futures.Future] = set()
        self._lock = threading.Lock()
        self._loop = BackgroundLoop("notify-rescan", self._rescan_step, interval=scan_interval)
        self._me = uuid.uuid4().hex

    # --- creating ---------------------------------------------------------------------

    def notify_unit(self, key: str, kind: str, unit: str, context: dict, data: dict, *,
                    deadline: str | None = None, about_unit: str | None = None,
                    wait_for_directory: bool = False) -> list[str]:
        """Create (once per key and channel) a notification to each channel of `unit`.

        With `wait_for_directory`, a unit notify has not heard of yet (its directory event
        is still on the way) gets one `waiting` notification, turned into the real ones by
        `resolve_waiting` when the unit arrives, instead of being skipped."""
        contact = self.store.unit(unit)
        if contact is None and wait_for_directory:
            return self._wait(key, kind, unit, context, data, deadline, about_unit)
        contact = contact or {}
        context = {"unit": about_unit or unit, "unit_name": contact.get("name", unit),
                   "recipient_name": contact.get("name", unit), **context}
        subject, text, html = render(kind, context)
        base = {"kind": kind, "unit": about_unit or unit, "deadline": deadline,
                "to_unit": unit, "attempts": 0, "subject": subject, "text": text,
                "html": html, "data": json_safe(data)}  # the webhook's JSON body carries it
        created = []
        for channel, recipient in _channels(contact):
            nid = f"{key}|{channel}"
            skipped = channel == "none"
            doc = {**base, "_id": nid, "channel": channel, "recipient": recipient,
                   "status": "skipped" if skipped else "pending",
                   "errors": [f"unit {unit} has neither emails nor a webhook"] if skipped
                   else [], "created_at": datetime.now(UTC)}
            if not self.store.claim(doc):
                continue  # claimed before: never twice
            created.append(nid)
            if skipped:
                logger.warning("%s for %s not sent: the unit has no email or webhook", kind, unit)
                _count(kind, channel, "skipped")
            else:
                self.submit(nid)
        return created

    def create(self, doc: dict) -> bool:
        """Create one notification under its claim key (`_id`) and send it if pending;
        False when it exists already: never twice."""
        if not self.store.claim(doc):
            return False
        if doc["status"] == "pending":
            self.submit(doc["_id"])
        else:
            _count(doc["kind"], doc["channel"], doc["status"])
        return True

    def _wait(self, key, kind, unit, context, data, deadline, about_unit) -> list[str]:
        nid = f"{key}|directory"
        claimed = self.store.claim({
            "_id": nid, "kind": kind, "unit": about_unit or unit, "to_unit": unit,
            "deadline": deadline, "channel": "directory", "recipient": None,
            "status": "waiting", "attempts": 0, "created_at": datetime.now(UTC),
            "errors": [f"unit {unit} is not known yet: waiting for its directory record"],
            "subject": "", "key": key, "context": context, "data": json_safe(data),
            "about_unit": about_unit})
        if claimed:
            logger.info("%s for %s waits for the unit's directory record", kind, unit)
        return [nid] if claimed else []

    def resolve_waiting(self, unit: str) -> list[str]:
        """The unit is known now: send what waited for it (each once, by its claim keys)."""
        created = []
        for doc in self.store.waiting_for(unit):
            try:
                created += self.notify_unit(doc["key"], doc["kind"], unit, doc["context"],
                                            doc["data"], deadline=doc.get("deadline"),
                                            about_unit=doc.get("about_unit"))
            except Exception:  # one bad record must not hold up the others
                logger.exception("waiting notification %s could not be resolved", doc["_id"])
                continue
            self.store.drop_waiting(doc["_id"])
        return created

    # --- delivering -------------------------------------------------------------------

    def start(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="notify-send")
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; let the sends in hand end (one waiting to retry puts its
        notification back, pending) for up to `timeout` seconds."""
        self._loop.stop(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            with self._lock:
                in_hand = list(self._in_hand)
            futures.wait(in_hand, timeout)
            self._pool = None

    def submit(self, nid: str) -> None:
        if self._pool is not None and not self._loop.stopping.is_set():
            # RuntimeError: shutting down; the rescan after the restart sends it
            with contextlib.suppress(RuntimeError):
                future = self._pool.submit(self.deliver, nid)
                with self._lock:
                    self._in_hand.add(future)
                future.add_done_callback(self._done)

    def _done(self, future) -> None:
        with self._lock:
            self._in_hand.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error("delivery crashed", exc_info=future.exception())

    def rescan(self, now: datetime | None = None) -> list[str]:
        """Hand what a restart or a crash left pending (in nobody's hands) to the workers;
        each is delivered on its own, so a bad record fails alone."""
        ids = self.store.pending_ids(now or datetime.now(UTC))
        for nid in ids:
            self.submit(nid)
        return ids

    def _rescan_step(self) -> None:
        self.rescan()

    def deliver(self, nid: str) -> str | None:
        """Send one notification with retries; return its final status."""
        doc = self.store.take(nid, self._me, datetime.now(UTC), SENDING_LEASE)
        if doc is None:
            return None  # sent already, or in another worker's hands
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.max_attempts - doc.get("attempts", 0))),
            wait=wait_random_exponential(multiplier=self.initial_delay, max=self.max_delay),
            retry=retry_if_exception_type(SendFailed), sleep=self._sleep)
        sent_at = None
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        self._send(doc)
                    except SendFailed as exc:
                        self.store.record_error(nid, str(exc))
                        logger.warning("%s: attempt failed: %s", nid, exc)
                        raise
            status, sent_at = "sent", datetime.now(UTC)
        except NotConfigured as exc:
            status = "skipped"
            self._print_link(doc, exc)
            self.store.record_error(nid, str(exc), attempt=False)
            logger.info("%s skipped: %s", nid, exc)
        except RetryError:
            status = "failed"
        except _Stopping:  # not failed: the rescan after the restart sends it
            self.store.release(nid)
            return None
        except Exception as exc:  # a bug, or a broken record: record it, do not loop
            logger.exception("%s: unexpected error", nid)
            self.store.record_error(nid, f"unexpected: {exc!r}")
            status = "failed"
        self.store.settle(nid, status, sent_at)
        _count(doc.get("kind", "?"), doc.get("channel", "?"), status)
        return status

    def _print_link(self, doc: dict, exc: Exception) -> None:
        # the one place a link is shown outside its email: the demo's own console
        if self.print_links and not isinstance(exc, links.Expired):
            line = links.console_line(doc, self.link_key)
            if line is not None:
                print(line, flush=True)

    def _sleep(self, seconds: float) -> None:
        if self._loop.stopping.wait(seconds):
            raise _Stopping()

    def _send(self, doc: dict) -> None:
        if doc["channel"] == "email":
            recipients = [r.strip() for r in (doc.get("recipient") or "").split(";") if r.strip()]
            subject, text, html = links.content(doc, self.link_key, datetime.now(UTC))
            self.email.send(recipients, subject, text, html)
        elif doc["channel"] == "webhook":
            self.webhook.send(doc["recipient"], {
                "id": doc["_id"], "kind": doc["kind"], "unit": doc["unit"],
                "subject": doc["subject"], "text": doc["text"], "data": doc.get("data") or {}})
        else:
            raise NotConfigured(f"no channel {doc['channel']!r}")


def _count(kind: str, channel: str, status: str) -> None:
    if kind not in PERSONAL_KINDS:  # a count of those would date one person's action
        metrics.NOTIFICATIONS.labels(kind, channel, status).inc()


def _channels(contact: dict) -> list[tuple[str, str | None]]:
    """(channel, recipient) of each way the unit is reached; ("none", None) if none."""
    channels = []
    if contact.get("emails"):
        channels.append(("email", "; ".join(contact["emails"])))
    if contact.get("webhook_url"):
        channels.append(("webhook", contact["webhook_url"]))
    return channels or [("none", None)]


def wait_until_settled(nids: list[str] | None = None, timeout: float = 10.0) -> bool:
    """Tests and the benchmark: wait until none of `nids` (or none at all) is pending."""
    deadline = time.monotonic() + timeout
    store = NotifyStore()
    while store.count_pending(nids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
