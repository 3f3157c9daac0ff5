"""Scoring's consume → store → ack path, events per second.

Reference: scoring's per-event handler called in a plain loop on already-parsed events,
that is its store writes one event at a time (a guarded write per bucket). Measured
against it, in the same run: the batch handler in a plain loop on batches of SCORING_BATCH (each
bucket read and written once per batch), and the same events published to scoring's
quorum queue and taken by the real RabbitConsumer as scoring runs it (parse and validate
each envelope, batches of up to SCORING_BATCH after at most 10 ms, the batch handler, acks of
whole runs). Each pass starts on an empty store, with the other passes' data dropped, so
all run on the same heap (a larger heap makes every garbage collection slower).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench.common import (
    Consumer,
    drop_store,
    fresh_topology,
    publish_all,
    rating_events,
    store_url,
)
from devkit import rabbit
from shared import events as ev
from shared.config import SCORING_BATCH

BATCH = SCORING_BATCH  # as scoring runs


@dataclass
class ScoringFigures:
    plain_loop: float  # per event, the reference
    batched_loop: float  # batches of BATCH, plain loop
    through_consumer: float  # RabbitMQ, the consumer in batches
    ratio: float  # through_consumer / plain_loop (goal: at least 5)


class _NoRefresh:
    """Scores are not derived here: only the consume → store → ack path is measured."""

    def hint(self, *ids):
        pass


@contextmanager
def scoring_handler(tz_name: str = "Asia/Ho_Chi_Minh", *, batch: bool = False
                    ) -> Iterator[Callable]:
    """Scoring's event handler (`batch`: its batch handler) on an empty store of its own,
    dropped afterwards.

    The one place the bench uses scoring's internal API (its handlers, store and
    documents): the plain-loop baseline needs the handler without the service around it.
    If that API changes, this function is what follows it.
    """
    from zoneinfo import ZoneInfo

    import mongoengine

    from services.scoring import documents
    from services.scoring.handlers import make_batch_handler, make_dispatcher
    from services.scoring.store import MongoScoringStore
    from shared import db

    url = store_url("scoring")
    db.connect(url, alias=documents.ALIAS, default_db="bench")
    documents.ensure_indexes()
    gc.collect()
    try:
        make = make_batch_handler if batch else make_dispatcher
        yield make(store=MongoScoringStore(), tz=ZoneInfo(tz_name), refresher=_NoRefresh())
    finally:
        drop_store(url)
        mongoengine.disconnect(documents.ALIAS)


def run(url: str, *, events: int) -> ScoringFigures:
    """`events` ratings (50 officials, 5 units): per event and in batches in a plain loop,
    then through the consumer in batches."""
    fresh_topology(url)
    produced = rating_events(events, units=5, officials=50)
    parsed = [ev.load_event(e.to_bytes()) for e in produced]

    with scoring_handler() as handle:
        started = time.perf_counter()
        for e in parsed:
            handle(e)
        plain = events / (time.perf_counter() - started)

    with scoring_handler(batch=True) as apply:
        started = time.perf_counter()
        for i in range(0, len(parsed), BATCH):
            apply(parsed[i:i + BATCH])
        batched = events / (time.perf_counter() - started)

    with scoring_handler(batch=True) as apply:
        publish_all(url, produced)
        consumer = Consumer(url, events, batch=apply, batch_max=BATCH)
        try:
            started = time.perf_counter()
            consumer.start()
            consumer.wait(600)
            consumed = events / (time.perf_counter() - started)
        finally:
            consumer.stop()
    rabbit.purge_queues(url)
    return ScoringFigures(plain_loop=plain, batched_loop=batched, through_consumer=consumed,
                          ratio=consumed / plain)
