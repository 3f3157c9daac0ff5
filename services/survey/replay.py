"""Replay survey's records as events to one consumer, to fill its database from scratch.

Published with routing keys `replay.<consumer>.<type>`, bound only to that consumer's
queue: a scoring rebuild never makes notify alert again about old ratings. Events keep
the ids of the originals; consumers are idempotent, so a replay over a database that
already has some of them only fills what is missing. Each unit's review response goes to
the consumers that take it (scoring), counted again first, so it is current.

Events are packed, `events_per_message` to a message (`shared.messages.pack`, 50 by
default, 100 at most): RabbitMQ and both clients work per message, and one event a
message made the transport cost more than the events (100,000 ratings replayed to
scoring and applied in batches: 9.7 s one event a message, 5.0 s in packs; see
docs/BENCHMARKS.md). 1 sends each event alone.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator

from services.survey import domain, identity, keys, response_counts
from services.survey.store import directory, ratings, replays, reviews
from shared import dashboard_events, topology
from shared import events as ev
from shared.config import REPLAY_PACK
from shared.messages import PACK_TYPE, OutgoingMessage, pack

logger = logging.getLogger(__name__)
TARGETS = tuple(topology.QUEUES)
BATCH = 2000  # events published together, then confirmed together
IN_FLIGHT = 4  # batches published and not yet confirmed, at most


def _events(ctx, target: str) -> Iterator[ev.Event]:
    """Every record, directory and access first, as events (a generator: nothing is held
    in memory)."""
    for kind, event_type in (("unit", ev.UNIT_UPSERTED), ("official", ev.OFFICIAL_UPSERTED)):
        for record in directory.each(kind):
            yield domain.directory_event(event_type, record["code"], record)
    yield from identity.access_events()
    for doc in ratings.each_rating():
        # as it stands: its first event while its state is the one it was stored with,
        # else its latest change (the same event id as when it changed)
        # not validated again here: the consumer does (see `ev.make_event`)
        if (doc.get("status_version") or 0) > 1:
            yield domain.status_event(doc, validate=False)
        else:
            yield domain.rating_event(domain.rating_of(doc), validate=False)
    for review_id, doc in reviews.each_review():
        yield domain.review_event(review_id, doc)
    for window in reviews.windows():
        if window.get("version"):  # set before windows had versions: never announced
            yield domain.window_event(window["_id"], window)
    if dashboard_events.REVIEW_RESPONSE in topology.queue_for(target).bindings:
        yield from response_counts.replay_events(ctx.key(keys.REVIEWER_PSEUDONYM),
                                                 notify=ctx.relay.notify)


def start_replay(ctx, target: str, events_per_message: int = REPLAY_PACK) -> dict:
    """Record a replay job and run it in the background; return the job."""
    job = replays.start_job(target, events_per_message)
    threading.Thread(target=_run, args=(job["_id"], target, ctx, events_per_message),
                     daemon=True, name=f"replay-{target}").start()
    return job


def _run(job_id: str, target: str, ctx, events_per_message: int = REPLAY_PACK) -> None:
    """Publish every record in batches: up to `IN_FLIGHT` batches wait for their confirms
    (each on a thread of its own) while the next is read and encoded, so the replay takes
    about the longer of the two, not their sum, and a broker's confirm latency (a quorum
    queue's write to disk) is not paid batch after batch (four: the replay of 100,000
    ratings took 10 s, not 14). Batches in flight may reach the queue in either order,
    as redeliveries may: consumers apply events in any order (versions and revisions
    decide), so nothing depends on it."""
    publisher = ctx.publisher
    published = 0
    in_flight: deque[_Publishing] = deque()
    try:
        for batch in _batches(_events(ctx, target), target, events_per_message):
            if len(in_flight) >= IN_FLIGHT:
                published += in_flight.popleft().result()
                replays.progress(job_id, published)
            in_flight.append(_Publishing(publisher, batch, job_id))
        while in_flight:
            published += in_flight.popleft().result()
        replays.finish(job_id, published)
        logger.info("replay %s to %s: %d events", job_id, target, published)
    except Exception as exc:
        logger.exception("replay %s failed", job_id)
        for batch in in_flight:  # their confirms count
            try:
                published += batch.result()
            except Exception:
                logger.warning("replay %s: a batch was not confirmed", job_id)
        replays.finish(job_id, published, error=str(exc))


class _Publishing:
    """One batch being published and confirmed, on a daemon thread (as the replay's own
    thread is: a stopping survey does not wait for a broker that is down)."""

    def __init__(self, publisher, batch: list[OutgoingMessage], job_id: str):
        self._count: int | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(publisher, batch, job_id),
                                        daemon=True, name=f"replay-{job_id}-publish")
        self._thread.start()

    def _run(self, publisher, batch, job_id) -> None:
        try:
            self._count = _publish(publisher, batch, job_id)
        except BaseException as exc:  # handed to the replay's thread by result()
            self._error = exc

    def result(self) -> int:
        """The batch's count once every message is confirmed; its error if not."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._count


def _batches(events: Iterator[ev.Event], target: str, per_message: int = REPLAY_PACK
             ) -> Iterator[list[OutgoingMessage]]:
    """The replay's messages, `per_message` events each, in batches of about `BATCH`
    events."""
    batch: list[OutgoingMessage] = []
    bodies: list[bytes] = []
    in_batch = 0
    pack_key = topology.replay_key(target, PACK_TYPE)
    for event in events:
        if per_message == 1:
            batch.append(OutgoingMessage(topology.replay_key(target, event.type),
                                         event.to_bytes(), event.id, event.type))
        else:
            bodies.append(event.to_bytes())
            if len(bodies) < per_message:
                continue
            batch.append(pack(bodies, source=ev.SOURCES["survey"], routing_key=pack_key))
            bodies = []
        in_batch += batch[-1].events
        if in_batch >= BATCH:
            yield batch
            batch, in_batch = [], 0
    if bodies:
        batch.append(pack(bodies, source=ev.SOURCES["survey"], routing_key=pack_key))
    if batch:
        yield batch


def _publish(publisher, batch: list[OutgoingMessage], job_id: str, attempts: int = 20) -> int:
    """Publish a batch, retrying what the broker did not confirm; its count of events."""
    todo = batch
    for attempt in range(attempts):
        results = publisher.publish_many(todo, timeout=60)
        todo = [m for m, err in zip(todo, results, strict=True) if err is not None]
        if not todo:
            return sum(m.events for m in batch)
        replays.failed_attempt(job_id)
        threading.Event().wait(min(10.0, 0.5 * 2 ** attempt))
    raise RuntimeError(f"{len(todo)} messages still not confirmed after {attempts} attempts")
