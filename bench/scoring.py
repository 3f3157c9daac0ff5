"""Scoring's consume → store → ack path, events per second.

Baseline: scoring's own handler called in a plain loop on already-parsed events, that is
its store writes alone (mongomock). Measured against it: the same events published to
scoring's quorum queue and taken by the real RabbitConsumer (parse and validate the
envelope, the same handler, manual ack). The ratio is what the messaging keeps of the
store's speed. Each pass starts on an empty store, with the other pass's data dropped, so
both run on the same heap (a larger heap makes every garbage collection slower).
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


@dataclass
class ScoringFigures:
    plain_loop: float
    through_consumer: float
    ratio: float


class _NoRefresh:
    """Scores are not derived here: only the consume → store → ack path is measured."""

    def hint(self, *ids):
        pass


@contextmanager
def scoring_handler(tz_name: str = "Asia/Ho_Chi_Minh") -> Iterator[Callable[[ev.Event], None]]:
    """Scoring's event handler on an empty embedded store of its own, dropped afterwards.

    The one place the bench uses scoring's internal API (its handlers, store and
    documents): the plain-loop baseline needs the handler without the service around it.
    If that API changes, this function is what follows it.
    """
    from zoneinfo import ZoneInfo

    import mongoengine

    from services.scoring import documents
    from services.scoring.handlers import make_dispatcher
    from services.scoring.store import MongoScoringStore
    from shared import db

    url = store_url("scoring")
    db.connect(url, alias=documents.ALIAS, default_db="bench")
    documents.ensure_indexes()
    gc.collect()
    try:
        yield make_dispatcher(store=MongoScoringStore(), tz=ZoneInfo(tz_name),
                              refresher=_NoRefresh())
    finally:
        drop_store(url)
        mongoengine.disconnect(documents.ALIAS)


def run(url: str, *, events: int) -> ScoringFigures:
    """`events` ratings (50 officials, 5 units): plain loop, then through the consumer."""
    fresh_topology(url)
    produced = rating_events(events, units=5, officials=50)
    parsed = [ev.load_event(e.to_bytes()) for e in produced]

    with scoring_handler() as handle:
        started = time.perf_counter()
        for e in parsed:
            handle(e)
        plain = events / (time.perf_counter() - started)

    with scoring_handler() as handle:
        publish_all(url, produced)
        consumer = Consumer(url, events, handle)
        try:
            started = time.perf_counter()
            consumer.start()
            consumer.wait(600)
            consumed = events / (time.perf_counter() - started)
        finally:
            consumer.stop()
    rabbit.purge_queues(url)
    return ScoringFigures(plain_loop=plain, through_consumer=consumed, ratio=consumed / plain)
