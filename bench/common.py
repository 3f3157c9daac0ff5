"""What the scenarios share: service settings, rating events, a fresh topology, publishing
a whole list, consuming a known number of events, and waiting for a queue to fill."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from devkit import rabbit
from devkit.apps import ADMIN_TOKEN
from shared import events as ev
from shared import topology
from shared.broker import RabbitPublisher, declare_topology
from shared.consumer import RabbitConsumer
from shared.messages import OutgoingMessage

BATCH = 1000


def store_url(name: str) -> str:
    """Where a scenario keeps its data: a fresh database named for the run on the server
    of `MONGODB_URL` when it names a real MongoDB, else the embedded store (mongomock,
    whose linear scans bound some figures; the report says which)."""
    from urllib.parse import urlsplit, urlunsplit

    database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    base = os.environ.get("MONGODB_URL", "")
    if base and not base.startswith("mongomock"):
        return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))
    return f"mongomock://localhost/{database}"


def drop_store(url: str) -> None:
    """Drop a scenario's database: forget the embedded one, drop it on a real server."""
    from shared import db

    if url.startswith("mongomock"):
        db.forget_mock_store(url)
        return
    import pymongo

    client = pymongo.MongoClient(url)
    try:
        client.drop_database(db.database_name(url, "bench"))
    finally:
        client.close()


def store_kind() -> str:
    """What the figures were measured on, for the report."""
    base = os.environ.get("MONGODB_URL", "")
    return "MongoDB (MONGODB_URL)" if base and not base.startswith("mongomock") else \
        "mongomock (embedded, linear scans)"


def service_env(url: str, **extra: str) -> dict[str, str]:
    """Environment of a service process run by the bench (quiet logs, no rate limit; the
    dev tools' admin token, which devkit.apps.seed_directory seeds with). The load comes
    from one address, so the burst rule is off (RATING_BURST=0) unless `extra` says."""
    env = {"AMQP_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "WARNING",
           "RATINGS_PER_MINUTE": "100000", "RATING_BURST": "0", **extra}
    if os.environ.get("MONGODB_URL") and "MONGODB_URL" not in env:
        env["MONGODB_URL"] = store_url("service")
    return env


def fresh_topology(url: str) -> None:
    """Start from congso's topology with every queue empty."""
    rabbit.delete_topology(url)
    declare_topology(url)


def rating_events(n: int, *, units: int = 1, officials: int = 1) -> list[ev.Event]:
    """`n` valid rating.submitted events spread over `units` and `officials`."""
    now = datetime.now(UTC)
    return [ev.make_event(ev.RATING_SUBMITTED, {
        "id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1",
        "unit": f"U{i % units}", "official": f"CB{i % officials}", "overall": i % 5 + 1,
        "factors": {"access": 4}, "submitted_at": now}, source="/bench") for i in range(n)]


def publish_all(url: str, events: list[ev.Event], batch: int = BATCH) -> tuple[float, float]:
    """Publish `events` with congso's publisher in pipelined batches; return the
    perf_counter times of the first publish and of the last confirm (once connected)."""
    messages = [OutgoingMessage.from_event(e) for e in events]
    pub = RabbitPublisher(url, name="bench-publisher")
    try:
        if not pub.wait_ready(10):
            raise RuntimeError(f"publisher not connected: {pub.last_error}")
        started = time.perf_counter()
        for i in range(0, len(messages), batch):
            failed = [r for r in pub.publish_many(messages[i:i + batch], timeout=60) if r]
            if failed:
                raise RuntimeError(f"publish failed: {failed[0]}")
        return started, time.perf_counter()
    finally:
        pub.close()


class Consumer:
    """The real RabbitConsumer on scoring's queue, calling `handle` (or, given `batch`, a
    batch handler on batches of up to `batch_max`, as scoring runs) and counting up to
    `n`."""

    def __init__(self, url: str, n: int, handle: Callable[[ev.Event], None] = lambda e: None,
                 *, batch: Callable[[list], None] | None = None, batch_max: int = 200):
        self.n = n
        self.count = 0
        self.done = threading.Event()

        def counted(k: int) -> None:
            self.count += k
            if self.count >= n:
                self.done.set()

        def counting(event: ev.Event) -> None:
            handle(event)
            counted(1)

        def counting_batch(events: list) -> None:
            batch(events)
            counted(len(events))

        options = {"batch_handler": counting_batch, "batch_max": batch_max,
                   "batch_wait": 0.01} if batch is not None else {}
        self.consumer = RabbitConsumer(url, topology.queue_for("scoring"), counting,
                                       prefetch=256, name="bench-consumer", **options)

    def start(self, timeout: float = 10) -> None:
        self.consumer.start()
        deadline = time.monotonic() + timeout
        while not self.consumer.ready:
            if time.monotonic() > deadline:
                raise TimeoutError("consumer not connected")
            time.sleep(0.02)

    def wait(self, timeout: float) -> None:
        if not self.done.wait(timeout):
            raise RuntimeError(f"only {self.count} of {self.n} consumed")

    def stop(self) -> None:
        self.consumer.stop()


def wait_depth(url: str, queue: str, expected: int, timeout: float) -> float | None:
    """Seconds until `queue` holds `expected` messages (None if it never does)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if rabbit.queue_depth(url, queue) >= expected:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The value at quantile `q` of an ascending list, as the bench has always taken it."""
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]
