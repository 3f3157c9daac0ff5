"""The real broker misbehaving: forced closes, slow handlers, an unreachable server."""

from __future__ import annotations

import time
import uuid

import pytest

from devkit import rabbit
from shared import topology
from shared.broker import RabbitPublisher, declare_topology
from shared.consumer import RabbitConsumer
from shared.messages import BrokerUnavailable, OutgoingMessage
from tests.conftest import wait_for
from tests.shared.test_bus_contract import Recorder, rating_event

SPEC = topology.queue_for("scoring")


@pytest.fixture
def vhost_url(fresh_rabbit_url):
    declare_topology(fresh_rabbit_url)
    return fresh_rabbit_url


def _publish(url: str, event) -> None:
    pub = RabbitPublisher(url, name=f"test-pub-{uuid.uuid4().hex[:6]}")
    try:
        pub.publish(OutgoingMessage.from_event(event))
    finally:
        pub.close()


def test_consumer_resumes_after_the_broker_closes_its_connection(vhost_url, rabbit_vhost):
    recorder = Recorder()
    name = f"test-consumer-{uuid.uuid4().hex[:6]}"
    consumer = RabbitConsumer(vhost_url, SPEC, recorder, name=name)
    consumer.start()
    try:
        wait_for(lambda: consumer.ready)
        first = rating_event(1)
        _publish(vhost_url, first)
        wait_for(lambda: recorder.done == [first.id])

        assert wait_for(lambda: rabbit.close_connections(rabbit_vhost, name), timeout=15) == 1
        second = rating_event(2)
        _publish(vhost_url, second)
        wait_for(lambda: recorder.done == [first.id, second.id], timeout=30,
                 message="delivery after reconnect")
        assert consumer.connections == 2
    finally:
        consumer.stop()


def test_handler_longer_than_the_heartbeat_keeps_its_connection_and_its_ack(vhost_url):
    calls = []

    def slow_handler(event):
        calls.append(event.id)
        time.sleep(5)  # the connection's heartbeat is 1 s: five intervals pass

    consumer = RabbitConsumer(vhost_url, SPEC, slow_handler, heartbeat=1,
                              name=f"test-slow-{uuid.uuid4().hex[:6]}")
    consumer.start()
    try:
        wait_for(lambda: consumer.ready)
        event = rating_event()
        _publish(vhost_url, event)
        wait_for(lambda: calls, message="handler start")
        # the ack landed: the queue is empty and nothing is delivered again
        wait_for(lambda: rabbit.queue_depth(vhost_url, SPEC.name) == 0 and len(calls) == 1
                 and consumer.connections == 1, timeout=15)
        time.sleep(2.5)
        assert calls == [event.id]
        assert consumer.connections == 1
        assert consumer.ready
    finally:
        consumer.stop()
    # nothing was left unacked for redelivery
    assert rabbit.queue_depth(vhost_url, SPEC.name) == 0


def test_publisher_reconnects_after_a_forced_close(vhost_url, rabbit_vhost):
    name = f"test-pub-{uuid.uuid4().hex[:6]}"
    pub = RabbitPublisher(vhost_url, name=name)
    try:
        pub.publish(OutgoingMessage.from_event(rating_event(1)))
        assert wait_for(lambda: rabbit.close_connections(rabbit_vhost, name), timeout=15) >= 1
        wait_for(lambda: pub.ready and pub.connections == 2, timeout=20, message="reconnect")
        pub.publish(OutgoingMessage.from_event(rating_event(2)))
    finally:
        pub.close()
    assert rabbit.queue_depth(vhost_url, SPEC.name) == 2


def test_publish_to_an_unreachable_broker_fails_fast_and_says_so():
    pub = RabbitPublisher("amqp://guest:guest@127.0.0.1:1/%2F", name="test-unreachable")
    try:
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            pub.publish(OutgoingMessage.from_event(rating_event()), timeout=1.0)
        assert time.monotonic() - started < 5
        assert not pub.ready
        assert pub.last_error
    finally:
        pub.close()


class _DeadConnection:
    """A connection that died with a settle callback queued on it: the callback never runs."""

    def __init__(self):
        self.queued = []

    def add_callback_threadsafe(self, callback):
        self.queued.append(callback)


class _LiveConnection:
    def add_callback_threadsafe(self, callback):
        callback()  # the connection's thread runs it


class _Channel:
    def __init__(self, is_open=True):
        self.is_open = is_open
        self.acked = []

    def basic_ack(self, tag, multiple=False):
        self.acked.append((tag, multiple))


def test_deliveries_after_a_reconnect_are_settled_though_a_flush_died_with_the_old_connection(
        rabbit_url):
    """A flush queued on a connection that then died never runs; before, no later delivery
    queued another, so nothing was acked again: the prefetch filled and the queue stalled
    (seen in the faults test after a broker cut)."""
    import json

    from shared import events as ev

    consumer = RabbitConsumer(rabbit_url, topology.queue_for("notify"), lambda event: None)
    body = json.dumps(ev.make_event(ev.UNIT_UPSERTED, {
        "code": "U1", "name": "Phường", "version": 1,
        "updated_at": "2026-01-01T00:00:00+00:00"}, source="/t").to_dict()).encode()
    dead, old_channel = _DeadConnection(), _Channel()
    consumer._inflight = 2
    consumer._process(dead, old_channel, 1, "m1", 0, body)
    assert len(dead.queued) == 1 and old_channel.acked == []
    old_channel.is_open = False  # the connection died before running the flush
    new_channel = _Channel()
    consumer._process(_LiveConnection(), new_channel, 1, "m2", 0, body)
    assert new_channel.acked == [(1, True)]
    assert consumer.inflight == 0
