"""Broker throughput, events per second, on the real RabbitMQ (scoring's quorum queue).

Baseline: raw pika, a BlockingChannel in confirm mode, one round trip per message.
Measured against it: congso's RabbitPublisher (pipelined confirms, batches of 1000), and
the whole path publisher → RabbitMQ → RabbitConsumer (load, validate, manual ack).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pika

from bench.common import Consumer, fresh_topology, publish_all, rating_events
from devkit import rabbit
from shared import topology
from shared.messages import OutgoingMessage


@dataclass
class BrokerFigures:
    raw_pika_confirm_each: float
    publisher_pipelined: float
    end_to_end: float


def raw_pika(url: str, n: int) -> float:
    """Raw pika, BlockingChannel in confirm mode: one round trip per message."""
    messages = [OutgoingMessage.from_event(e) for e in rating_events(n)]
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        started = time.perf_counter()
        for m in messages:
            ch.basic_publish(topology.EXCHANGE, m.routing_key, m.body, props, mandatory=True)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    rabbit.purge_queues(url)
    return n / elapsed


def publisher(url: str, n: int) -> float:
    """congso's RabbitPublisher: pipelined confirms, batches of 1000."""
    started, confirmed = publish_all(url, rating_events(n))
    rabbit.purge_queues(url)
    return n / (confirmed - started)


def end_to_end(url: str, n: int) -> float:
    """Publisher → RabbitMQ → consumer (load, validate, ack), events per second."""
    events = rating_events(n)
    consumer = Consumer(url, n)
    try:
        consumer.start()
        started, _ = publish_all(url, events)
        consumer.wait(300)
        elapsed = time.perf_counter() - started
    finally:
        consumer.stop()
    rabbit.purge_queues(url)
    return n / elapsed


def run(url: str, *, events: int, raw_events: int = 3000) -> BrokerFigures:
    """The three paths, one after the other, each on empty queues."""
    fresh_topology(url)
    return BrokerFigures(raw_pika_confirm_each=raw_pika(url, raw_events),
                         publisher_pipelined=publisher(url, events),
                         end_to_end=end_to_end(url, events))
