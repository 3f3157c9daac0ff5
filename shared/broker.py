"""RabbitMQ connections and the publisher (pipelined confirms); the consumer is in
`shared.consumer`.

Threading model, as pika requires: every connection is owned by exactly one thread.
`RabbitPublisher` runs a `SelectConnection` in its own I/O thread. Request threads hand it
batches through `add_callback_threadsafe` and wait on an event; confirms are pipelined
(many messages in flight, acks may cover several with `multiple`), so the throughput is
not bounded by one round trip per message.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Sequence

import pika
import pika.exceptions
from pika.adapters.select_connection import SelectConnection

from shared import metrics, topology
from shared.loop import STOP, BackgroundLoop, Backoff
from shared.messages import (
    EVENTS_HEADER,
    PACK_TYPE,
    BrokerUnavailable,
    Nacked,
    OutgoingMessage,
    PublishError,
    PublishTimeout,
    SinglePublish,
    Unroutable,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF = 15.0
_NEVER = threading.Event()  # the stop flag of a publisher never started


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
        close_quietly(conn)


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
            metrics.EVENTS_PUBLISHED.labels(metrics.event_label(self.messages[index].type)).inc()
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
        self._loop: BackgroundLoop | None = None
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
            if self._loop is not None and self._pid == os.getpid() and self._loop.running:
                return
            self._pid = os.getpid()
            self._ready.clear()
            self._pending = {}
            # a new loop in a forked child: the parent's thread does not exist here
            self._loop = BackgroundLoop(self._name, self._session, interval=0,
                                        backoff=Backoff(0.5, MAX_BACKOFF),
                                        quiet=(BrokerUnavailable,))
            self._loop.start()

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

    @property
    def _stopping(self) -> threading.Event:
        return self._loop.stopping if self._loop is not None else _NEVER

    def close(self, timeout: float = 5.0) -> None:
        if self._loop is None:
            return
        self._loop.stopping.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.ioloop.add_callback_threadsafe(self._close_connection)
        self._loop.stop(timeout)

    stop = close

    # --- everything below runs on the I/O thread -------------------------------------

    def _session(self):
        """One connection, served by its I/O loop until it closes; a lost connection
        raises, and the loop reconnects after a capped, jittered backoff."""
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
            self._channel = None
            self._fail_pending(BrokerUnavailable(self.last_error or "connection lost"))
        if self._stopping.is_set():
            return STOP
        raise BrokerUnavailable(self.last_error or "connection lost")

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
        if self._loop is not None:
            self._loop.backoff.reset()
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
                headers={EVENTS_HEADER: msg.events} if msg.type == PACK_TYPE else None,
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


def close_quietly(conn) -> None:
    try:
        if conn.is_open:
            conn.close()
    except Exception:
        pass
