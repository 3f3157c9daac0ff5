"""One contract, two buses: the real RabbitMQ and the in-process `memory://` bus."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from devkit import rabbit
from shared import consumer as rabbit_consumer
from shared import events as ev
from shared import memory_bus, topology
from shared.bus import RabbitBus
from shared.memory_bus import MemoryBus
from shared.messages import PACK_TYPE, OutgoingMessage, Unroutable, pack
from tests.conftest import wait_for

SPEC = topology.queue_for("scoring")


class BusUnderTest:
    """The bus plus what a test needs to look inside it."""

    def __init__(self, bus, url: str | None = None):
        self.bus = bus
        self.url = url
        self.started: list = []

    def publisher(self):
        pub = self.bus.publisher()
        pub.start()
        assert pub.wait_ready(10)
        self.started.append(pub)
        return pub

    def consume(self, handler, **options):
        consumer = self.bus.consumer(SPEC, handler, **options)
        consumer.start()
        wait_for(lambda: consumer.ready, message="consumer ready")
        self.started.append(consumer)
        return consumer

    def dead_letters(self) -> list[bytes]:
        if isinstance(self.bus, MemoryBus):
            return [m.body for m in self.bus.dead_letters(SPEC.name)]
        return [body for _, body in rabbit.get_all(self.url, SPEC.dead_letter_queue)]

    def close(self):
        for item in reversed(self.started):
            (getattr(item, "stop", None) or item.close)()


@pytest.fixture(params=["memory", "rabbitmq"])
def bus(request, monkeypatch):
    # Redelivery waits grow to seconds in production; tests need not wait that long.
    monkeypatch.setattr(rabbit_consumer, "retry_delay", lambda count: 0.01)
    monkeypatch.setattr(memory_bus, "retry_delay", lambda count: 0.01)
    if request.param == "memory":
        under_test = BusUnderTest(MemoryBus())
    else:
        url = request.getfixturevalue("fresh_rabbit_url")
        real = RabbitBus(url, name=f"test-{uuid.uuid4().hex[:8]}")
        real.declare()
        under_test = BusUnderTest(real, url)
    yield under_test
    under_test.close()


def rating_event(n: int = 1) -> ev.Event:
    return ev.make_event(ev.RATING_SUBMITTED, {
        "id": f"r{n}", "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": "U1",
        "official": "CB1", "overall": 4, "submitted_at": datetime.now(UTC),
    }, source="/test")


class Recorder:
    def __init__(self, fail_times: int = 0, fail_always: bool = False):
        self.calls: list[str] = []
        self.done: list[str] = []
        self.fail_times = fail_times
        self.fail_always = fail_always
        self.lock = threading.Lock()

    def __call__(self, event: ev.Event) -> None:
        with self.lock:
            self.calls.append(event.id)
            if self.fail_always or self.calls.count(event.id) <= self.fail_times:
                raise RuntimeError("handler failed on purpose")
            self.done.append(event.id)


def test_published_event_reaches_consumer_intact(bus):
    recorder = Recorder()
    bus.consume(recorder)
    event = rating_event()
    bus.publisher().publish(OutgoingMessage.from_event(event))
    wait_for(lambda: recorder.done == [event.id], message="delivery")


def test_unroutable_publish_raises(bus):
    pub = bus.publisher()
    with pytest.raises(Unroutable):
        pub.publish(OutgoingMessage("nobody.listens", b"{}", "m-1", "nobody.listens"))


def test_many_messages_are_confirmed_in_one_pipelined_batch(bus):
    recorder = Recorder()
    bus.consume(recorder)
    events = [rating_event(i) for i in range(300)]
    results = bus.publisher().publish_many([OutgoingMessage.from_event(e) for e in events])
    assert results == [None] * 300
    wait_for(lambda: len(recorder.done) == 300, message="300 deliveries")
    assert sorted(recorder.done) == sorted(e.id for e in events)


def test_handler_error_redelivers_then_succeeds(bus):
    recorder = Recorder(fail_times=2)
    bus.consume(recorder)
    event = rating_event()
    bus.publisher().publish(OutgoingMessage.from_event(event))
    wait_for(lambda: recorder.done == [event.id], message="success after retries")
    assert recorder.calls == [event.id] * 3
    assert bus.dead_letters() == []


def test_poison_message_is_dead_lettered_and_the_next_is_processed(bus):
    recorder = Recorder()
    bus.consume(recorder)
    pub = bus.publisher()
    pub.publish(OutgoingMessage(ev.RATING_SUBMITTED, b"this is not json", "poison-1", "x"))
    good = rating_event(2)
    pub.publish(OutgoingMessage.from_event(good))
    wait_for(lambda: recorder.done == [good.id], message="the good message")
    assert wait_for(lambda: bus.dead_letters(), message="dead letter") == [b"this is not json"]
    assert recorder.calls == [good.id]  # the poison message never reached the handler


def test_schema_invalid_event_is_dead_lettered(bus):
    recorder = Recorder()
    bus.consume(recorder)
    body = rating_event().to_dict()
    body["data"]["overall"] = 9
    import json

    raw = json.dumps(body).encode()
    bus.publisher().publish(OutgoingMessage(ev.RATING_SUBMITTED, raw, body["id"], "x"))
    assert wait_for(lambda: bus.dead_letters(), message="dead letter") == [raw]
    assert recorder.calls == []


def test_message_failing_every_time_is_dead_lettered_after_the_delivery_limit(bus):
    recorder = Recorder(fail_always=True)
    bus.consume(recorder)
    event = rating_event()
    bus.publisher().publish(OutgoingMessage.from_event(event))
    dead = wait_for(lambda: bus.dead_letters(), timeout=20, message="dead letter")
    assert [ev.load_event(b).id for b in dead] == [event.id]
    # the first delivery plus DELIVERY_LIMIT redeliveries, like a quorum queue
    assert recorder.calls == [event.id] * (topology.DELIVERY_LIMIT + 1)


def test_failure_while_a_dependency_is_down_holds_the_message_instead_of_using_redeliveries(bus):
    healthy = threading.Event()
    attempts = []

    def handler(event):
        attempts.append(event.id)
        if not healthy.is_set():
            raise RuntimeError("database down")

    bus.consume(handler, healthy=healthy.is_set)
    event = rating_event()
    bus.publisher().publish(OutgoingMessage.from_event(event))
    wait_for(lambda: attempts, message="first attempt")
    healthy.set()
    wait_for(lambda: len(attempts) == 2, message="retry after recovery")
    assert bus.dead_letters() == []


def test_one_publisher_serves_many_request_threads_at_once(bus):
    recorder = Recorder()
    bus.consume(recorder)
    pub = bus.publisher()
    events = [[rating_event(t * 1000 + i) for i in range(100)] for t in range(8)]
    errors = []

    def request_thread(batch):
        for e in batch:
            try:
                pub.publish(OutgoingMessage.from_event(e))
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=request_thread, args=(b,)) for b in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    wait_for(lambda: len(recorder.done) == 800, message="800 deliveries")
    assert sorted(recorder.done) == sorted(e.id for b in events for e in b)


class BatchRecorder:
    """A batch handler: records each batch's event ids; fails a batch holding `bad`."""

    def __init__(self, bad: str | None = None):
        self.batches: list[list[str]] = []
        self.bad = bad
        self.lock = threading.Lock()

    def __call__(self, events: list[ev.Event]) -> None:
        with self.lock:
            self.batches.append([e.id for e in events])
        if self.bad in {e.id for e in events}:
            raise RuntimeError("a batch with the bad event fails")


def test_batches_gather_what_is_waiting_and_ack_every_message(bus):
    batches, single = BatchRecorder(), Recorder()
    events = [rating_event(n) for n in range(300)]
    pub = bus.publisher()
    pub.publish_many([OutgoingMessage.from_event(e) for e in events])  # waiting before
    consumer = bus.consume(single, batch_handler=batches, batch_max=100, batch_wait=0.05)
    wait_for(lambda: sum(map(len, batches.batches)) == 300, message="every event in a batch")
    assert sorted(i for b in batches.batches for i in b) == sorted(e.id for e in events)
    assert max(map(len, batches.batches)) == 100 and len(batches.batches) <= 6
    assert single.calls == []  # no batch failed: nothing handled alone
    wait_for(lambda: consumer.inflight == 0, message="every message acknowledged")
    assert bus.dead_letters() == []


def test_one_bad_message_is_isolated_and_the_rest_of_its_batch_applied(bus):
    bad = rating_event(7)
    batches = BatchRecorder(bad=bad.id)
    single = Recorder()

    def one(event: ev.Event) -> None:  # alone, the bad event fails every time
        if event.id == bad.id:
            single.calls.append(event.id)
            raise RuntimeError("bad on its own too")
        single(event)

    events = [rating_event(n) for n in range(20)]
    events[7] = bad
    bus.publisher().publish_many([OutgoingMessage.from_event(e) for e in events])
    bus.consume(one, batch_handler=batches, batch_max=50, batch_wait=0.05)
    dead = wait_for(lambda: bus.dead_letters(), timeout=20, message="the bad one dead-lettered")
    assert [ev.load_event(b).id for b in dead] == [bad.id]
    wait_for(lambda: set(single.done) | {i for b in batches.batches for i in b
                                         if bad.id not in b} >= {e.id for e in events} - {bad.id},
             message="every other event applied")


def test_at_a_low_rate_a_batch_is_one_message_and_waits_little(bus):
    batches = BatchRecorder()
    bus.consume(Recorder(), batch_handler=batches, batch_max=100, batch_wait=0.02)
    pub = bus.publisher()
    for n in range(3):
        pub.publish(OutgoingMessage.from_event(rating_event(n)))
        wait_for(lambda n=n: len(batches.batches) == n + 1, timeout=5, message="batch")
    assert [len(b) for b in batches.batches] == [1, 1, 1]


def packed(events: list, size: int) -> list[OutgoingMessage]:
    """The events in packs of `size`, as a replay to scoring sends them."""
    key = topology.replay_key("scoring", PACK_TYPE)
    return [pack([e.to_bytes() for e in events[i:i + size]], source="/test", routing_key=key)
            for i in range(0, len(events), size)]


@pytest.mark.parametrize("batch_max", [1, 100])  # one at a time, and in batches
def test_a_pack_is_handled_as_its_events_and_acknowledged_once_all_are(bus, batch_max):
    batches, single = BatchRecorder(), Recorder()
    events = [rating_event(n) for n in range(250)]
    messages = packed(events, 120)
    assert [m.events for m in messages] == [120, 120, 10]
    assert bus.publisher().publish_many(messages) == [None] * 3
    options = {"batch_handler": batches, "batch_max": batch_max} if batch_max > 1 else {}
    consumer = bus.consume(single, **options)
    handled = (lambda: [i for b in batches.batches for i in b]) if batch_max > 1 else \
        (lambda: single.done)
    wait_for(lambda: len(handled()) == 250, message="every event of the packs")
    assert sorted(handled()) == sorted(e.id for e in events)
    if batch_max > 1:  # a pack's events go to the batch handler in batches of batch_max
        assert max(map(len, batches.batches)) == 100 and single.calls == []
    wait_for(lambda: consumer.inflight == 0, message="every pack acknowledged")
    assert bus.dead_letters() == []


@pytest.mark.parametrize("batch_max,broken", [(1, "schema"), (100, "schema"), (100, "text"),
                                              (1, "number")])
def test_a_bad_event_in_a_pack_dead_letters_the_pack_and_the_rest_is_applied(
        bus, batch_max, broken):
    """The pack is kept whole in the dead-letter queue, for whoever looks into it; applying
    it again later changes nothing (handlers are idempotent)."""
    import json

    single = Recorder()
    events = [rating_event(n) for n in range(30)]
    bodies = [e.to_bytes() for e in events]
    if broken == "schema":
        doc = events[4].to_dict()
        doc["data"]["overall"] = 9  # its schema refuses it
        bodies[4] = json.dumps(doc).encode()
    else:  # not an envelope at all (a text holding one, a number)
        bodies[4] = json.dumps(bodies[4].decode() if broken == "text" else 4).encode()
    message = pack(bodies, source="/test", routing_key=topology.replay_key("scoring", PACK_TYPE))
    batches = BatchRecorder()
    options = {"batch_handler": batches, "batch_max": batch_max} if batch_max > 1 else {}
    consumer = bus.consume(single, **options)
    bus.publisher().publish(message)
    dead = wait_for(lambda: bus.dead_letters(), timeout=20, message="the pack dead-lettered")
    assert dead == [message.body]
    applied = set(single.done) | {i for b in batches.batches for i in b}
    assert applied == {e.id for e in events} - {events[4].id}
    wait_for(lambda: consumer.inflight == 0, message="nothing left in hand")


def test_a_pack_whose_events_keep_failing_is_given_back_then_dead_lettered(bus):
    failing = rating_event(3)
    calls = []

    def handler(event: ev.Event) -> None:
        calls.append(event.id)
        if event.id == failing.id:
            raise RuntimeError("fails every time")

    bus.consume(handler)
    events = [rating_event(n) for n in range(5)]
    events[3] = failing
    message = packed(events, 5)[0]
    bus.publisher().publish(message)
    dead = wait_for(lambda: bus.dead_letters(), timeout=20, message="the pack dead-lettered")
    assert dead == [message.body]
    # every delivery of the pack handled all its events again (idempotent handlers)
    assert calls.count(events[0].id) == calls.count(failing.id) == topology.DELIVERY_LIMIT + 1


def test_a_message_typed_as_a_pack_that_is_not_one_is_dead_lettered(bus):
    recorder = Recorder()
    bus.consume(recorder)
    good = rating_event(1)
    pub = bus.publisher()
    # an event alone, not a pack: it must not be applied (or lost) as if it were one
    pub.publish(OutgoingMessage(topology.replay_key("scoring", PACK_TYPE), good.to_bytes(),
                                "not-a-pack", PACK_TYPE))
    assert wait_for(lambda: bus.dead_letters(), message="dead letter") == [good.to_bytes()]
    assert recorder.calls == []


def test_packs_are_gathered_into_batches_by_the_events_they_carry(bus):
    """Eight packs of 30, batches of 100: four packs (120 events) a time, handed over as
    100 and 20; gathered by messages, all eight would come at once (100, 100, 40)."""
    batches = BatchRecorder()
    events = [rating_event(n) for n in range(240)]
    bus.publisher().publish_many(packed(events, 30))  # waiting before
    consumer = bus.consume(Recorder(), batch_handler=batches, batch_max=100, batch_wait=0.05)
    wait_for(lambda: sum(map(len, batches.batches)) == 240, message="every event")
    assert list(map(len, batches.batches)) == [100, 20, 100, 20]
    wait_for(lambda: consumer.inflight == 0, message="every pack acknowledged")


@pytest.mark.parametrize("count", [None, "many", 10_000])
def test_a_pack_whose_count_is_missing_or_too_large_is_a_batch_of_its_own(
        fresh_rabbit_url, count):
    """The header only gathers batches: a pack without a count (or a wrong one) is taken
    as a whole batch, and every event in it is still applied."""
    import pika

    batches = BatchRecorder()
    bus = BusUnderTest(RabbitBus(fresh_rabbit_url, name=f"test-{uuid.uuid4().hex[:8]}"),
                       fresh_rabbit_url)
    bus.bus.declare()
    try:
        consumer = bus.consume(Recorder(), batch_handler=batches, batch_max=100,
                               batch_wait=0.05)
        with rabbit.channel(fresh_rabbit_url) as channel:
            for m in packed([rating_event(n) for n in range(60)], 30):
                channel.basic_publish(topology.EXCHANGE, m.routing_key, m.body,
                                      pika.BasicProperties(type=PACK_TYPE, headers=None
                                                           if count is None else
                                                           {"x-congso-events": count}))
        wait_for(lambda: sum(map(len, batches.batches)) == 60, message="every event")
        assert list(map(len, batches.batches)) == [30, 30]
        wait_for(lambda: consumer.inflight == 0, message="both packs acknowledged")
    finally:
        bus.close()
