"""The in-process bus behind `AMQP_URL=memory://`.

Same interface and semantics as the RabbitMQ classes: a topic exchange with the queues of
`topology`, confirms that fail for an unroutable message, manual settlement with
redelivery after a handler error up to the delivery limit, and a dead-letter queue per
queue. Messages live only as long as the process.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from shared import metrics, topology
from shared.loop import BackgroundLoop
from shared.messages import (
    ACK,
    DEAD_LETTER,
    BatchHandler,
    Handler,
    OutgoingMessage,
    PublishError,
    SinglePublish,
    Unroutable,
    handle_deliveries,
    retry_delay,
)

logger = logging.getLogger(__name__)


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: '*' is one word, '#' zero or more."""
    p, k = pattern.split("."), key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(p):
            return j == len(k)
        if p[i] == "#":
            return any(match(i + 1, jj) for jj in range(j, len(k) + 1))
        return j < len(k) and (p[i] == "*" or p[i] == k[j]) and match(i + 1, j + 1)

    return match(0, 0)


@dataclass
class _Delivery:
    message: OutgoingMessage
    delivery_count: int = 0


class _Queue:
    def __init__(self, name: str):
        self.name = name
        self.items: deque[_Delivery] = deque()
        self.unacked = 0
        self.cond = threading.Condition()

    def put(self, delivery: _Delivery) -> None:
        with self.cond:
            self.items.append(delivery)
            self.cond.notify()

    def get(self, timeout: float) -> _Delivery | None:
        with self.cond:
            if not self.items:
                self.cond.wait(timeout)
            if not self.items:
                return None
            self.unacked += 1
            return self.items.popleft()

    def get_more(self, most: int, wait: float) -> list[_Delivery]:
        """More deliveries carrying up to `most` events (a pack carries many, at most
        `most` counted: as RabbitConsumer gathers a batch), waiting at most `wait` seconds
        for them."""

        def events() -> int:
            return sum(min(most, d.message.events) for d in self.items)

        with self.cond:
            if events() < most and wait:
                self.cond.wait_for(lambda: events() >= most, timeout=wait)
            taken, count = [], 0
            while self.items and count < most:
                taken.append(self.items.popleft())
                count += min(most, taken[-1].message.events)
            self.unacked += len(taken)
            return taken

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def settled(self) -> None:
        with self.cond:
            self.unacked -= 1
            self.cond.notify_all()


class MemoryBus:
    """Exchange, queues and dead-letter queues of `topology`, in this process."""

    def __init__(self, queues: dict[str, topology.QueueSpec] | None = None):
        self._lock = threading.Lock()
        self.specs = dict(topology.QUEUES if queues is None else queues)
        self.queues: dict[str, _Queue] = {}
        self.bindings: list[tuple[str, str]] = []
        for spec in self.specs.values():
            self.queues[spec.name] = _Queue(spec.name)
            self.queues[spec.dead_letter_queue] = _Queue(spec.dead_letter_queue)
            self.bindings.extend((key, spec.name) for key in spec.bindings)

    def publisher(self) -> MemoryPublisher:
        return MemoryPublisher(self)

    def consumer(self, spec: topology.QueueSpec, handler: Handler, *, healthy=None,
                 batch_handler: BatchHandler | None = None, batch_max: int = 200,
                 batch_wait: float = 0.01, **_options) -> MemoryConsumer:
        return MemoryConsumer(self, spec, handler, healthy=healthy,
                              batch_handler=batch_handler, batch_max=batch_max,
                              batch_wait=batch_wait)

    def route(self, message: OutgoingMessage) -> None:
        targets = {q for pattern, q in self.bindings if topic_matches(pattern, message.routing_key)}
        if not targets:
            raise Unroutable(f"no queue bound for {message.routing_key!r}")
        for name in sorted(targets):
            self.queues[name].put(_Delivery(message))

    def depth(self, queue: str) -> int:
        """Messages waiting or delivered but not yet settled."""
        q = self.queues[queue]
        with q.cond:
            return len(q.items) + q.unacked

    def drain_wait(self, timeout: float = 5.0, queues: list[str] | None = None) -> bool:
        """Wait until the queues (default: all but dead-letter ones) are empty and settled."""
        import time

        deadline = time.monotonic() + timeout
        names = queues or [s.name for s in self.specs.values()]
        while time.monotonic() < deadline:
            if all(self.depth(n) == 0 for n in names):
                return True
            time.sleep(0.01)
        return False

    def waiting(self, queue: str) -> list[OutgoingMessage]:
        """A snapshot of the messages waiting in a queue, taken under its lock."""
        q = self.queues[queue]
        with q.cond:
            return [d.message for d in q.items]

    def dead_letters(self, queue: str) -> list[OutgoingMessage]:
        return self.waiting(self.specs_by_name()[queue].dead_letter_queue)

    def specs_by_name(self) -> dict[str, topology.QueueSpec]:
        return {s.name: s for s in self.specs.values()}


class MemoryPublisher(SinglePublish):
    """Publisher with the interface of `RabbitPublisher`; a route is its confirm."""

    ready = True
    last_error = None

    def __init__(self, bus: MemoryBus):
        self._bus = bus

    def start(self) -> None:
        pass

    def wait_ready(self, timeout: float) -> bool:
        return True


    def publish_many(
        self, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[PublishError | None]:
        results: list[PublishError | None] = []
        for msg in messages:
            try:
                self._bus.route(msg)
            except PublishError as exc:
                metrics.EVENTS_PUBLISH_FAILED.labels(type(exc).__name__).inc()
                results.append(exc)
            else:
                metrics.EVENTS_PUBLISHED.labels(metrics.event_label(msg.type)).inc()
                results.append(None)
        return results

    def close(self, timeout: float = 5.0) -> None:
        pass


class MemoryConsumer:
    """Consumer with the interface of `RabbitConsumer`: one handler call at a time, or
    batches as RabbitConsumer makes them (`batch_handler`)."""

    def __init__(self, bus: MemoryBus, spec: topology.QueueSpec, handler: Handler,
                 healthy=None, batch_handler: BatchHandler | None = None,
                 batch_max: int = 200, batch_wait: float = 0.01):
        self._bus = bus
        self._batch_handler = batch_handler
        self._batch_max = max(1, batch_max)
        self._batch_wait = min(max(0.0, batch_wait), 0.05)
        self._healthy = healthy
        self.spec = spec
        self._handler = handler
        self._loop = BackgroundLoop(f"memory-{spec.name}", self._take_one, interval=0)
        self._stopping = self._loop.stopping
        self.connected = threading.Event()
        self.last_error = None

    @property
    def ready(self) -> bool:
        return self.connected.is_set()

    @property
    def inflight(self) -> int:
        return self._bus.depth(self.spec.name)

    def start(self) -> None:
        self.connected.set()
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stopping.set()
        self._bus.queues[self.spec.name].wake()  # out of its wait for the next message
        self._loop.stop(timeout)
        self.connected.clear()

    def _take_one(self) -> int:
        queue = self._bus.queues[self.spec.name]
        delivery = queue.get(timeout=0.2)
        if delivery is None:
            return 0
        dead = self._bus.queues[self.spec.dead_letter_queue]
        if self._batch_handler is None:
            self._process(delivery, queue, dead)
            return 0
        first = min(self._batch_max, delivery.message.events)
        batch = [delivery]
        if first < self._batch_max:
            batch += queue.get_more(self._batch_max - first, self._batch_wait)
        outcomes = handle_deliveries(
            [(d.message.body, d.message.message_id, d.message.type) for d in batch],
            self._handler, self._batch_handler, self._batch_max, queue=self.spec.name,
            healthy=self._healthy, stopping=self._stopping)
        for d, outcome in zip(batch, outcomes, strict=True):
            self._settle(d, outcome, queue, dead)
        return 0

    def _process(self, delivery: _Delivery, queue: _Queue, dead: _Queue) -> None:
        msg = delivery.message
        outcome = handle_deliveries([(msg.body, msg.message_id, msg.type)], self._handler,
                                    None, 1, queue=self.spec.name, healthy=self._healthy,
                                    stopping=self._stopping)[0]
        self._settle(delivery, outcome, queue, dead)

    def _settle(self, delivery: _Delivery, outcome: str, queue: _Queue, dead: _Queue) -> None:
        msg = delivery.message
        if outcome == ACK:
            pass
        elif outcome == DEAD_LETTER or delivery.delivery_count + 1 > topology.DELIVERY_LIMIT:
            # Like a quorum queue: dead-lettered once returned more than the limit.
            outcome = DEAD_LETTER
            dead.put(_Delivery(msg, delivery.delivery_count + 1))
        else:
            self._stopping.wait(retry_delay(delivery.delivery_count))
            queue.put(_Delivery(msg, delivery.delivery_count + 1))
        queue.settled()
        metrics.EVENTS_CONSUMED.labels(self.spec.name, outcome).inc()
