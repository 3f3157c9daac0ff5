"""Helpers for tests against the real RabbitMQ: rabbitmqctl, queue depth, forced closes."""

from __future__ import annotations

import contextlib
import re
import subprocess
import uuid
from urllib.parse import quote

import pika

from shared import topology


def ctl(*args: str, timeout: float = 60) -> str:
    """Run rabbitmqctl and return its output (raises on failure)."""
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True,
                            timeout=timeout, check=True)
    return result.stdout


def add_vhost(prefix: str, host: str = "127.0.0.1") -> tuple[str, str]:
    """Create a vhost of its own for guest; return (vhost, its AMQP URL)."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    ctl("add_vhost", vhost)
    ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost, f"amqp://guest:guest@{host}:5672/{quote(vhost, safe='')}"


def close_connections(vhost: str, name_prefix: str) -> int:
    """Force-close, as an operator would, the connections of `vhost` whose name starts so."""
    out = ctl("--no-table-headers", "list_connections", "pid", "vhost", "client_properties")
    closed = 0
    for line in out.splitlines():
        parts = line.split("\t", 2)
        if len(parts) < 3 or parts[1] != vhost:
            continue
        match = re.search(r'\{"connection_name","([^"]*)"\}', parts[2])
        if match and match.group(1).startswith(name_prefix):
            try:
                ctl("close_connection", parts[0], "closed by test")
                closed += 1
            except subprocess.CalledProcessError:
                pass  # it closed on its own meanwhile
    return closed


@contextlib.contextmanager
def channel(url: str):
    """A channel on a short-lived connection to `url`."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        yield conn.channel()
    finally:
        conn.close()


def delete_topology(url: str) -> None:
    with channel(url) as ch:
        for spec in topology.QUEUES.values():
            ch.queue_delete(spec.name)
            ch.queue_delete(spec.dead_letter_queue)
        ch.exchange_delete(topology.EXCHANGE)
        ch.exchange_delete(topology.DEAD_LETTER_EXCHANGE)


def purge_queues(url: str) -> None:
    """Empty every queue of congso's topology (which must exist)."""
    with channel(url) as ch:
        for spec in topology.QUEUES.values():
            ch.queue_purge(spec.name)


def _queue_state(url: str, queue: str):
    """`queue`'s declare-ok (declared passively: it must exist)."""
    with channel(url) as ch:
        return ch.queue_declare(queue, passive=True).method


def queue_depth(url: str, queue: str) -> int:
    """Messages ready in `queue`."""
    return _queue_state(url, queue).message_count


def get_all(url: str, queue: str, limit: int = 1000) -> list[tuple[pika.BasicProperties, bytes]]:
    """Take (and ack) up to `limit` messages from a queue."""
    out = []
    with channel(url) as ch:
        for _ in range(limit):
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                break
            out.append((props, body))
    return out


def consumer_count(url: str, queue: str) -> int:
    """Consumers attached to `queue`."""
    return _queue_state(url, queue).consumer_count
