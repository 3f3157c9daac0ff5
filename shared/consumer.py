"""RabbitMQ consumer: manual acks, explicit prefetch, retry, reconnect with capped backoff.

As pika requires, the connection is owned by one thread: `RabbitConsumer` runs a
`BlockingConnection` in its own thread and hands each delivery to a worker thread, so
heartbeats keep flowing while a slow handler runs; the worker settles the delivery back
on the connection's thread through `add_callback_threadsafe`.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import pika

from shared import metrics, topology
from shared.broker import close_quietly, connection_parameters
from shared.loop import STOP, BackgroundLoop, Backoff
from shared.messages import (
    ACK,
    DEAD_LETTER,
    EVENTS_HEADER,
    PACK_TYPE,
    BatchHandler,
    Handler,
    handle_deliveries,
    retry_delay,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = 15.0


class RabbitConsumer:
    """Consumes one quorum queue with manual acks; reconnects with capped backoff."""

    def __init__(
        self,
        url: str,
        spec: topology.QueueSpec,
        handler: Handler,
        *,
        prefetch: int = 64,
        name: str | None = None,
        heartbeat: int | None = None,
        healthy=None,
        batch_handler: BatchHandler | None = None,
        batch_max: int = 200,
        batch_wait: float = 0.01,
    ):
        self._url = url
        # batches (`batch_handler`): deliveries are handed over together, up to `batch_max`,
        # waiting at most `batch_wait` seconds for more after the first
        self._batch_handler = batch_handler
        self._batch_max = max(1, batch_max)
        self._batch_wait = min(max(0.0, batch_wait), 0.05)
        self._pending: deque = deque()
        self._pending_events = 0  # events pending (a pack: those it carries, a batch at most)
        self._draining = False
        self._healthy = healthy
        self.spec = spec
        self._handler = handler
        # batching needs the next batch delivered while one is applied
        self._prefetch = max(prefetch, 2 * batch_max) if batch_handler else prefetch
        self._name = name or f"congso-consumer-{spec.name}"
        self._heartbeat = heartbeat
        self._loop = BackgroundLoop(self._name, self._session, interval=0,
                                    backoff=Backoff(0.5, MAX_BACKOFF),
                                    quiet=(Exception,))
        self._stopping = self._loop.stopping
        self._worker: ThreadPoolExecutor | None = None
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._more = threading.Condition(self._inflight_lock)
        self._inflight_gauge = metrics.CONSUMER_INFLIGHT.labels(spec.name)
        self._connected_gauge = metrics.CONSUMER_CONNECTED.labels(spec.name)
        self._settled: list = []
        # the connection a flush of `_settled` is queued on: a flush queued on a connection
        # that died never runs, so a delivery of a newer connection queues its own
        self._flush_on = None
        self.connected = threading.Event()
        self.connections = 0  # successful connections so far (reconnects show here)

    @property
    def ready(self) -> bool:
        return self.connected.is_set()

    @property
    def inflight(self) -> int:
        """Deliveries received and not yet settled."""
        return self._inflight

    def start(self) -> None:
        if self._loop.running:
            return
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"{self._name}-worker")
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, finish and settle the one in hand, close the connection."""
        self._loop.stop(timeout)
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)

    @property
    def last_error(self) -> str | None:
        return self._loop.last_error

    def _session(self):
        """One connection: consume until stopped (a lost connection raises: the loop
        reconnects after a capped, jittered backoff)."""
        conn = None
        try:
            conn = pika.BlockingConnection(
                connection_parameters(self._url, self._name, self._heartbeat))
            channel = conn.channel()
            topology.declare(channel)
            channel.basic_qos(prefetch_count=self._prefetch)
            tag = channel.basic_consume(self.spec.name, functools.partial(self._on_message, conn))
            self.connected.set()
            self._connected_gauge.set(1)
            self.connections += 1
            self._loop.backoff.reset()
            self._loop.last_error = None
            logger.info("consumer %s consuming %s", self._name, self.spec.name)
            while not self._stopping.is_set():
                conn.process_data_events(time_limit=0.2)
            self._drain(conn, channel, tag)
            return STOP
        finally:
            self.connected.clear()
            self._connected_gauge.set(0)
            if conn is not None:
                close_quietly(conn)

    def _drain(self, conn, channel, tag, timeout: float = 10.0) -> None:
        channel.basic_cancel(tag)
        deadline = time.monotonic() + timeout
        while self._inflight and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)

    def _on_message(self, conn, channel, method, properties, body) -> None:
        with self._inflight_lock:
            self._inflight += 1
            self._inflight_gauge.set(self._inflight)
        headers = properties.headers or {}
        count = int(headers.get("x-delivery-count", 0) or 0)
        weight = 1
        if properties.type == PACK_TYPE:  # as many as it says it carries (only for batching)
            try:
                weight = min(self._batch_max, max(1, int(headers.get(EVENTS_HEADER))))
            except (TypeError, ValueError):
                weight = self._batch_max
        item = (conn, channel, method.delivery_tag, properties.message_id, count, body,
                properties.type, weight)
        if self._batch_handler is None:
            self._worker.submit(self._process, *item)
            return
        with self._more:
            self._pending.append(item)
            self._pending_events += weight
            start, self._draining = not self._draining, True
            if self._pending_events >= self._batch_max:
                # the worker waits for a full batch (or its time): waking it for every
                # delivery cost a thread switch each
                self._more.notify()
        if start:
            self._worker.submit(self._drain_batches)

    def _process(self, conn, channel, delivery_tag, message_id, delivery_count, body,
                 type_: str | None = None, _weight: int = 1) -> None:
        outcome = handle_deliveries([(body, message_id, type_)], self._handler, None, 1,
                                    queue=self.spec.name, healthy=self._healthy,
                                    stopping=self._stopping)[0]
        if outcome not in (ACK, DEAD_LETTER):
            # Give the failing dependency time to recover before the next delivery.
            self._stopping.wait(retry_delay(delivery_count))
        self._settle(conn, channel, delivery_tag, outcome)

    def _drain_batches(self) -> None:
        """On the worker: hand what is pending over in batches until nothing is left (at
        a low rate a batch is one delivery, after at most `batch_wait`)."""
        while True:
            with self._more:
                if self._pending_events < self._batch_max and self._batch_wait:
                    self._more.wait_for(lambda: self._pending_events >= self._batch_max
                                        or self._stopping.is_set(), timeout=self._batch_wait)
                batch, taken = [], 0
                while self._pending and taken < self._batch_max:
                    batch.append(self._pending.popleft())
                    taken += batch[-1][7]
                self._pending_events -= taken
                if not batch:
                    self._draining = False
                    return
            outcomes = handle_deliveries([(item[5], item[3], item[6]) for item in batch],
                                         self._handler, self._batch_handler, self._batch_max,
                                         queue=self.spec.name, healthy=self._healthy,
                                         stopping=self._stopping)
            if any(o not in (ACK, DEAD_LETTER) for o in outcomes):
                self._stopping.wait(retry_delay(max(item[4] for item in batch)))
            for (conn, channel, tag, *_), outcome in zip(batch, outcomes, strict=True):
                self._settle(conn, channel, tag, outcome)

    def _settle(self, conn, channel, delivery_tag, outcome: str) -> None:
        """Queue a delivery's outcome to be settled on its connection's thread."""
        with self._inflight_lock:
            self._settled.append((channel, delivery_tag, outcome))
            schedule = self._flush_on is not conn
            self._flush_on = conn
        if schedule:
            try:
                conn.add_callback_threadsafe(self._flush_settled)
            except Exception:
                # The connection is gone: the broker redelivers its unsettled messages on
                # its own; what it delivered is no longer ours to settle.
                with self._inflight_lock:
                    gone = [item for item in self._settled if not item[0].is_open]
                    self._settled = [item for item in self._settled if item[0].is_open]
                    self._inflight -= len(gone)
                    if self._flush_on is conn:
                        self._flush_on = None
                    self._inflight_gauge.set(self._inflight)

    def _flush_settled(self) -> None:
        """Settle what the worker finished, on the connection's thread, in delivery order.

        The worker handles deliveries one at a time in order, so when a run of them
        succeeded one `basic_ack(multiple=True)` on the last settles the whole run.
        """
        with self._inflight_lock:
            items, self._settled = self._settled, []
            self._flush_on = None
        pending_ack = None
        try:
            for channel, tag, outcome in items:
                if not channel.is_open:
                    continue
                if pending_ack is not None and pending_ack[0] is not channel:
                    if pending_ack[0].is_open:  # a reconnect happened in between
                        pending_ack[0].basic_ack(pending_ack[1], multiple=True)
                    pending_ack = None
                if outcome == ACK:
                    pending_ack = (channel, tag)
                    continue
                if pending_ack is not None:
                    pending_ack[0].basic_ack(pending_ack[1], multiple=True)
                    pending_ack = None
                if outcome == DEAD_LETTER:
                    channel.basic_reject(tag, requeue=False)
                else:
                    channel.basic_nack(tag, requeue=True)
            if pending_ack is not None and pending_ack[0].is_open:
                pending_ack[0].basic_ack(pending_ack[1], multiple=True)
        finally:
            for _, _, outcome in items:
                metrics.EVENTS_CONSUMED.labels(self.spec.name, outcome).inc()
            with self._inflight_lock:
                self._inflight -= len(items)
                self._inflight_gauge.set(self._inflight)
