"""RabbitMQ publisher (pipelined confirms) and consumer (manual acks, retry, reconnect).

Threading model, as pika requires: every connection is owned by exactly one thread.
- `RabbitPublisher` runs a `SelectConnection` in its own I/O thread. Request threads hand it
  batches through `add_callback_threadsafe` and wait on an event; confirms are pipelined
  (many messages in flight, acks may cover several with `multiple`), so the throughput is
  not bounded by one round trip per message.
- `RabbitConsumer` runs a `BlockingConnection` in its own thread and hands each delivery to
  a worker thread, so heartbeats keep flowing while a slow handler runs; the worker settles
  the delivery back on the connection's thread through `add_callback_threadsafe`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pika
import pika.exceptions
from pika.adapters.select_connection import SelectConnection

from shared import metrics, topology
from shared.messages import (
    ACK,
    DEAD_LETTER,
    BrokerUnavailable,
    Handler,
    Nacked,
    OutgoingMessage,
    PublishError,
    PublishTimeout,
    SinglePublish,
    Unroutable,
    handle_until_settled,
    retry_delay,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = 15.0


def connection_parameters(url: str, name: str, heartbeat: int | None = None) -> pika.URLParameters:
    """Parse an AMQP URL and name the connection so operators can find it."""
    params = pika.URLParameters(url)
    params.client_properties = {"connection_name": name, "product": "congso"}
    params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    params.socket_timeout = 5
    if heartbeat is not None:
        params.heartbeat = heartbeat
    return params


def declare_topology(url: str, name: str = "congso-topology") -> None:
    """Declare the exchanges and queues once over a short-lived connection."""
    conn = pika.BlockingConnection(connection_parameters(url, name))
    try:
        topology.declare(conn.channel())
    finally:
        _close_quietly(conn)


class _Batch:
    """Results of one `publish_many` call, filled in by the I/O thread."""

    def __init__(self, messages: Sequence[OutgoingMessage]):
        self.messages = messages
        self.results: list[PublishError | bool | None] = [False] * len(messages)
        self.remaining = len(messages)
        self.done = threading.Event()
        if not messages:
            self.done.set()

    def settle(self, index: int, error: PublishError | None) -> None:
        if self.results[index] is not False:
            return
        self.results[index] = error
        if error is None:
            metrics.EVENTS_PUBLISHED.labels(self.messages[index].type).inc()
        else:
            metrics.EVENTS_PUBLISH_FAILED.labels(type(error).__name__).inc()
        self.remaining -= 1
        if self.remaining == 0:
            self.done.set()


class RabbitPublisher(SinglePublish):
    """Publishes with confirms, `mandatory=True` and persistent delivery; thread-safe."""

    def __init__(self, url: str, *, name: str = "congso-publisher"):
        self._url = url
        self._name = name
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._conn: SelectConnection | None = None
        self._channel = None
        self._next_tag = 0
        self._pending: dict[int, tuple[_Batch, int]] = {}
        self._returned: set[str] = set()
        self.last_error: str | None = None
        self.connections = 0  # successful connections so far (reconnects show here)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self) -> None:
        """Start the I/O thread (again, in a forked child)."""
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopping.clear()
            self._ready.clear()
            self._pending = {}
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        self.start()
        return self._ready.wait(timeout)


    def publish_many(
        self, messages: Sequence[OutgoingMessage], timeout: float = 10.0
    ) -> list[PublishError | None]:
        """Publish messages pipelined; return, per message, None if confirmed or its error."""
        self.start()
        batch = _Batch(list(messages))
        if not messages:
            return []
        deadline = time.monotonic() + timeout
        if not self._ready.wait(timeout):
            return [BrokerUnavailable(self.last_error or "not connected")] * len(messages)
        conn = self._conn
        try:
            conn.ioloop.add_callback_threadsafe(functools.partial(self._send, batch))
        except Exception as exc:  # connection torn down between the check and the call
            return [BrokerUnavailable(str(exc))] * len(messages)
        batch.done.wait(max(0.0, deadline - time.monotonic()))
        return [PublishTimeout("no confirm in time") if r is False else r for r in batch.results]

    def close(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.ioloop.add_callback_threadsafe(self._close_connection)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # --- everything below runs on the I/O thread -------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                declare_topology(self._url, f"{self._name}-topology")
                self._conn = SelectConnection(
                    connection_parameters(self._url, self._name),
                    on_open_callback=self._on_connection_open,
                    on_open_error_callback=self._on_open_error,
                    on_close_callback=self._on_connection_closed,
                )
                self._conn.ioloop.start()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            finally:
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        self._conn.ioloop.close()  # its wake-up socket pair
            self._ready.clear()
            self._fail_pending(BrokerUnavailable(self.last_error or "connection lost"))
            if self._stopping.is_set():
                break
            if self._channel is not None:
                backoff = 0.5  # it was up: reconnect soon
            self._channel = None
            logger.warning("publisher %s: broker unreachable (%s); retrying in %.1fs",
                           self._name, self.last_error, backoff)
            self._stopping.wait(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def _on_connection_open(self, conn) -> None:
        conn.channel(on_open_callback=self._on_channel_open)

    def _on_open_error(self, conn, exc) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        conn.ioloop.stop()

    def _on_connection_closed(self, conn, reason) -> None:
        self.last_error = f"connection closed: {reason}"
        self._ready.clear()
        conn.ioloop.stop()

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        self._next_tag = 0
        self._returned = set()
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame) -> None:
        self.last_error = None
        self.connections += 1
        logger.info("publisher %s connected", self._name)
        self._ready.set()

    def _on_channel_closed(self, channel, reason) -> None:
        self.last_error = f"channel closed: {reason}"
        self._ready.clear()
        self._fail_pending(BrokerUnavailable(self.last_error))
        if self._conn is not None and self._conn.is_open:
            self._conn.close()

    def _send(self, batch: _Batch) -> None:
        channel = self._channel
        if channel is None or not channel.is_open:
            for i in range(len(batch.messages)):
                batch.settle(i, BrokerUnavailable("channel not open"))
            return
        for index, msg in enumerate(batch.messages):
            props = pika.BasicProperties(
                content_type="application/cloudevents+json",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=msg.message_id,
                type=msg.type,
                timestamp=int(time.time()),
                app_id="congso",
            )
            try:
                channel.basic_publish(topology.EXCHANGE, msg.routing_key, msg.body,
                                      properties=props, mandatory=True)
            except Exception as exc:
                batch.settle(index, BrokerUnavailable(str(exc)))
                continue
            self._next_tag += 1
            self._pending[self._next_tag] = (batch, index)

    def _on_return(self, _channel, _method, properties, _body) -> None:
        # A return always comes before the confirm of the same message.
        if properties.message_id:
            self._returned.add(properties.message_id)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tag = method.delivery_tag
        nack = isinstance(method, pika.spec.Basic.Nack)
        if method.multiple:
            tags = [t for t in self._pending if t <= tag]
        else:
            tags = [tag] if tag in self._pending else []
        for t in tags:
            batch, index = self._pending.pop(t)
            msg_id = batch.messages[index].message_id
            if nack:
                batch.settle(index, Nacked("broker nacked the message"))
            elif msg_id in self._returned:
                self._returned.discard(msg_id)
                key = batch.messages[index].routing_key
                batch.settle(index, Unroutable(f"no queue bound for {key!r}"))
            else:
                batch.settle(index, None)

    def _fail_pending(self, error: PublishError) -> None:
        pending, self._pending = self._pending, {}
        for batch, index in pending.values():
            batch.settle(index, error)

    def _close_connection(self) -> None:
        if self._conn is not None and self._conn.is_open:
            self._conn.close()
        elif self._conn is not None:
            self._conn.ioloop.stop()


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
    ):
        self._url = url
        self._healthy = healthy
        self.spec = spec
        self._handler = handler
        self._prefetch = prefetch
        self._name = name or f"congso-consumer-{spec.name}"
        self._heartbeat = heartbeat
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self._settled: list = []
        self._flush_scheduled = False
        self.connected = threading.Event()
        self.last_error: str | None = None
        self.connections = 0  # successful connections so far (reconnects show here)

    @property
    def ready(self) -> bool:
        return self.connected.is_set()

    @property
    def inflight(self) -> int:
        """Deliveries received and not yet settled."""
        return self._inflight

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"{self._name}-worker")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, finish and settle the one in hand, close the connection."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            conn = None
            try:
                conn = pika.BlockingConnection(
                    connection_parameters(self._url, self._name, self._heartbeat)
                )
                channel = conn.channel()
                topology.declare(channel)
                channel.basic_qos(prefetch_count=self._prefetch)
                tag = channel.basic_consume(
                    self.spec.name, functools.partial(self._on_message, conn)
                )
                self.connected.set()
                metrics.CONSUMER_CONNECTED.labels(self.spec.name).set(1)
                self.connections += 1
                self.last_error = None
                backoff = 0.5
                logger.info("consumer %s consuming %s", self._name, self.spec.name)
                while not self._stopping.is_set():
                    conn.process_data_events(time_limit=0.2)
                self._drain(conn, channel, tag)
            except Exception as exc:  # pika raises many types for a lost connection
                self.last_error = f"{type(exc).__name__}: {exc}"
            finally:
                self.connected.clear()
                metrics.CONSUMER_CONNECTED.labels(self.spec.name).set(0)
                if conn is not None:
                    _close_quietly(conn)
            if self._stopping.is_set():
                break
            logger.warning("consumer %s: %s; reconnecting in %.1fs",
                           self._name, self.last_error, backoff)
            self._stopping.wait(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    def _drain(self, conn, channel, tag, timeout: float = 10.0) -> None:
        channel.basic_cancel(tag)
        deadline = time.monotonic() + timeout
        while self._inflight and time.monotonic() < deadline:
            conn.process_data_events(time_limit=0.1)

    def _on_message(self, conn, channel, method, properties, body) -> None:
        with self._inflight_lock:
            self._inflight += 1
            metrics.CONSUMER_INFLIGHT.labels(self.spec.name).set(self._inflight)
        headers = properties.headers or {}
        count = int(headers.get("x-delivery-count", 0) or 0)
        self._worker.submit(self._process, conn, channel, method.delivery_tag,
                            properties.message_id, count, body)

    def _process(self, conn, channel, delivery_tag, message_id, delivery_count, body) -> None:
        outcome = handle_until_settled(body, self._handler, queue=self.spec.name,
                                       message_id=message_id, healthy=self._healthy,
                                       stopping=self._stopping)
        if outcome not in (ACK, DEAD_LETTER):
            # Give the failing dependency time to recover before the next delivery.
            self._stopping.wait(retry_delay(delivery_count))
        with self._inflight_lock:
            self._settled.append((channel, delivery_tag, outcome))
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if schedule:
            try:
                conn.add_callback_threadsafe(self._flush_settled)
            except Exception:
                # The connection is gone; the broker redelivers the messages on its own.
                with self._inflight_lock:
                    self._inflight -= len(self._settled)
                    self._settled, self._flush_scheduled = [], False
                    metrics.CONSUMER_INFLIGHT.labels(self.spec.name).set(self._inflight)

    def _flush_settled(self) -> None:
        """Settle what the worker finished, on the connection's thread, in delivery order.

        The worker handles deliveries one at a time in order, so when a run of them
        succeeded one `basic_ack(multiple=True)` on the last settles the whole run.
        """
        with self._inflight_lock:
            items, self._settled = self._settled, []
            self._flush_scheduled = False
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
                metrics.CONSUMER_INFLIGHT.labels(self.spec.name).set(self._inflight)


def _close_quietly(conn) -> None:
    try:
        if conn.is_open:
            conn.close()
    except Exception:
        pass
