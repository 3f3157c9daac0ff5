"""The outbox relay, with a hand-written fake publisher."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import mongomock
import pytest

from shared import events as ev
from shared.messages import BrokerUnavailable
from shared.outbox import OutboxRelay, ensure_outbox_index, outbox_fields
from tests.conftest import wait_for


class FakePublisher:
    def __init__(self):
        self.sent: list[dict] = []
        self.fail_ids: set[str] = set()
        self.before_confirm = None

    def publish_many(self, messages, timeout=10.0):
        if self.before_confirm:
            self.before_confirm()
        results = []
        for m in messages:
            if m.message_id in self.fail_ids:
                results.append(BrokerUnavailable("down"))
            else:
                self.sent.append(json.loads(m.body))
                results.append(None)
        return results


@pytest.fixture
def coll():
    c = mongomock.MongoClient(tz_aware=True)["db"]["units"]
    ensure_outbox_index(c)
    return c


def unit_event(code: str, version: int) -> ev.Event:
    return ev.make_event(ev.UNIT_UPSERTED, {"code": code, "name": code, "version": version,
                                            "updated_at": datetime.now(UTC)}, source="/t")


def write(coll, code, version):
    event = unit_event(code, version)
    coll.update_one({"_id": code}, {"$set": {"version": version, **outbox_fields(event)}},
                    upsert=True)
    return event


def test_pending_events_are_published_oldest_first_and_cleared(coll):
    events = [write(coll, f"U{i}", 1) for i in range(5)]
    pub = FakePublisher()
    relay = OutboxRelay([lambda: coll], pub)
    assert relay.run_once(full_scan=True) == (5, 0)
    assert [e["id"] for e in pub.sent] == [e.id for e in events]
    assert relay.backlog() == 0
    assert relay.run_once(full_scan=True) == (0, 0)


def test_unconfirmed_events_stay_pending_and_go_out_later(coll):
    a, b = write(coll, "A", 1), write(coll, "B", 1)
    pub = FakePublisher()
    pub.fail_ids = {b.id}
    relay = OutboxRelay([lambda: coll], pub)
    assert relay.run_once(full_scan=True) == (1, 1)
    assert relay.backlog() == 1
    pub.fail_ids = set()
    assert relay.run_once(full_scan=True) == (1, 0)
    assert [e["id"] for e in pub.sent] == [a.id, b.id]


def test_a_newer_write_during_publishing_is_not_lost(coll):
    write(coll, "A", 1)
    pub = FakePublisher()
    newer = {}
    # while version 1 is on its way, an admin saves version 2 of the same unit
    pub.before_confirm = lambda: newer.setdefault("event", write(coll, "A", 2))
    relay = OutboxRelay([lambda: coll], pub)
    relay.run_once(full_scan=True)
    pub.before_confirm = None
    assert relay.backlog() == 1  # version 2 still pending
    relay.run_once(full_scan=True)
    assert [e["data"]["version"] for e in pub.sent] == [1, 2]
    assert relay.backlog() == 0


def test_relay_thread_publishes_when_notified(coll):
    pub = FakePublisher()
    relay = OutboxRelay([lambda: coll], pub, interval=30)
    relay.start()
    try:
        write(coll, "A", 1)
        relay.notify("units", "A")
        wait_for(lambda: len(pub.sent) == 1, timeout=5)
    finally:
        relay.stop()


def test_relay_thread_finds_unhinted_events_at_its_periodic_scan(coll):
    pub = FakePublisher()
    relay = OutboxRelay([lambda: coll], pub, interval=0.05, scan_interval=0.3)
    relay.start()
    try:
        write(coll, "A", 1)  # written by another process: no hint
        wait_for(lambda: len(pub.sent) == 1, timeout=5)
    finally:
        relay.stop()


def test_hinted_documents_are_published_without_a_scan(coll):
    write(coll, "A", 1)
    b = write(coll, "B", 1)
    pub = FakePublisher()
    relay = OutboxRelay([lambda: coll], pub)
    relay.notify("units", "B")
    assert relay.run_once() == (1, 0)
    assert [e["id"] for e in pub.sent] == [b.id]
    assert relay.run_once() == (0, 0)  # A waits for the periodic scan
    assert relay.run_once(full_scan=True) == (1, 0)
