"""What both buses (RabbitMQ and in-process) share: messages, outcomes, errors, retry delay,
and packs (a replay's many events in one message)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from shared import logs
from shared.events import SPECVERSION, Event, PoisonMessage, load_event

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]


class PublishError(Exception):
    """A message was not confirmed by the broker; it may or may not have arrived."""


class Unroutable(PublishError):
    """The broker returned the message: no queue is bound for its routing key."""


class Nacked(PublishError):
    """The broker refused the message (negative confirm)."""


class BrokerUnavailable(PublishError):
    """No connection to the broker, or it was lost before the confirm came."""


class PublishTimeout(PublishError):
    """The confirm did not come in time."""


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    type: str
    events: int = 1  # the events it carries (a pack: many)

    @classmethod
    def from_event(cls, event: Event) -> OutgoingMessage:
        return cls(event.routing_key, event.to_bytes(), event.id, event.type)


class SinglePublish:
    """`publish` (one message, raises) on top of a class's `publish_many`."""

    def publish(self, message: OutgoingMessage, timeout: float = 10.0) -> None:
        """Publish one message and wait for its confirm; raise PublishError otherwise."""
        error = self.publish_many([message], timeout)[0]
        if error is not None:
            raise error


ACK, REQUEUE, DEAD_LETTER = "ack", "requeue", "dead-letter"


def handle_delivery(body: bytes | dict, handler: Handler, *, queue: str,
                    message_id: str | None) -> str:
    """Load and handle one delivery; return what to do with it (ACK, REQUEUE, DEAD_LETTER).

    A message that does not load, or that the handler declares poison, can never succeed:
    it is dead-lettered at once instead of being redelivered up to the delivery limit.
    """
    try:
        event = load_event(body)
    except PoisonMessage as exc:
        logger.error("dead-lettering poison message %s on %s: %s", message_id, queue, exc)
        return DEAD_LETTER
    logs.event_id.set(event.id)
    logs.request_id.set(event.correlationid)
    try:
        handler(event)
    except PoisonMessage as exc:
        logger.error("dead-lettering event %s (%s) on %s: %s", event.id, event.type, queue, exc)
        return DEAD_LETTER
    except Exception:
        logger.exception("handler failed on event %s (%s) on %s; will redeliver",
                         event.id, event.type, queue)
        return REQUEUE
    return ACK


def retry_delay(delivery_count: int, cap: float = 5.0) -> float:
    """Seconds to wait before giving a failed message back for its next delivery."""
    return min(cap, 0.1 * (2 ** max(0, delivery_count)))


def handle_until_settled(
    body: bytes | dict,
    handler: Handler,
    *,
    queue: str,
    message_id: str | None,
    healthy: Callable[[], bool] | None,
    stopping,
    poll: float = 1.0,
) -> str:
    """Handle a delivery; while a dependency is down, hold the message and try again.

    Redeliveries count towards the queue's delivery limit, after which RabbitMQ
    dead-letters the message; a database outage must not use them up. So a failure while
    `healthy()` says no waits for recovery and retries here, and only a failure with
    healthy dependencies goes back to the broker for redelivery.
    """
    while True:
        outcome = handle_delivery(body, handler, queue=queue, message_id=message_id)
        if outcome != REQUEUE or healthy is None or healthy():
            return outcome
        logger.warning("%s: a dependency is down; holding message %s until it is back",
                       queue, message_id)
        while not stopping.is_set() and not healthy():
            stopping.wait(poll)
        if stopping.is_set():
            return REQUEUE


BatchHandler = Callable[[list], None]


def handle_batch(deliveries: list[tuple[bytes | dict, str | None]], handler: Handler,
                 batch_handler: BatchHandler, *, queue: str,
                 healthy: Callable[[], bool] | None, stopping) -> list[str]:
    """Handle deliveries as one batch; return each one's outcome, in order.

    What does not load is dead-lettered alone. The rest go to `batch_handler` at once,
    which must be idempotent (applying any part of the batch twice changes nothing): if it
    fails, each event is handled again on its own by `handler`, so one bad message is
    isolated (dead-lettered or retried as ever) and the rest of its batch is applied.
    """
    outcomes: list[str | None] = [None] * len(deliveries)
    events, loaded = [], []
    for i, (body, message_id) in enumerate(deliveries):
        try:
            events.append(load_event(body))
            loaded.append(i)
        except PoisonMessage as exc:
            logger.error("dead-lettering poison message %s on %s: %s", message_id, queue, exc)
            outcomes[i] = DEAD_LETTER
    if events:
        try:
            batch_handler(events)
            for i in loaded:
                outcomes[i] = ACK
        except Exception:
            logger.warning("%s: a batch of %d failed; handling its events one by one",
                           queue, len(events), exc_info=True)
            for i in loaded:
                body, message_id = deliveries[i]
                outcomes[i] = handle_until_settled(body, handler, queue=queue,
                                                   message_id=message_id, healthy=healthy,
                                                   stopping=stopping)
    return outcomes  # type: ignore[return-value]


def make_dispatcher(handlers: dict[str, Callable[..., None]], *,
                    before: Handler | None = None, **deps) -> Handler:
    """One handler for a queue: each event to the handler of its type, with `deps` (and
    first to `before`, e.g. the access copy every service keeps); types a service does
    not handle are acknowledged and ignored."""

    def dispatch(event) -> None:
        if before is not None:
            before(event)
        handler = handlers.get(event.type)
        if handler is not None:
            handler(event, **deps)

    return dispatch


# --- packs: many events in one message ------------------------------------------------
# A replay sends a consumer its events packed, many to a message: RabbitMQ's work, and
# each side's client work, is per message (a quorum queue costs RabbitMQ about 45 µs a
# message on two cores), so one event a message made a replay spend more on its
# transport than on its events. A pack is itself a CloudEvents 1.0 envelope, its data
# the events' own envelopes in CloudEvents' batch format; consumers take it apart and
# handle its events as they handle deliveries (`handle_deliveries`).
PACK_TYPE = "congso.pack"
PACK_CONTENT_TYPE = "application/cloudevents-batch+json"
# AMQP header of a pack: the events it carries (consumers gather batches by it)
EVENTS_HEADER = "x-congso-events"


class _Pack(msgspec.Struct):
    id: str
    type: str
    data: list[Any]


def pack(bodies: list[bytes], *, source: str, routing_key: str) -> OutgoingMessage:
    """One message carrying the events whose envelopes are `bodies` (as `to_bytes` wrote
    them), in order."""
    pack_id = str(uuid.uuid4())
    body = msgspec.json.encode({
        "specversion": SPECVERSION, "id": pack_id, "source": source, "type": PACK_TYPE,
        "time": datetime.now(UTC).isoformat(), "datacontenttype": PACK_CONTENT_TYPE,
        "data": [msgspec.Raw(b) for b in bodies]})
    return OutgoingMessage(routing_key, body, pack_id, PACK_TYPE, len(bodies))


def unpack(body: bytes) -> list[tuple[Any, str]]:
    """The events of a pack, each (its envelope, parsed: what `load_event` takes, a name
    for the log); PoisonMessage if it is not a pack. The pack is parsed once, events and
    all (by msgspec: a third of the time each event's own `json.loads` took)."""
    try:
        doc = msgspec.json.decode(body, type=_Pack)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PoisonMessage(f"not a pack of events: {exc}") from None
    if doc.type != PACK_TYPE:
        raise PoisonMessage(f"not a pack of events: type {doc.type!r}")
    return [(event, f"{doc.id}#{i}") for i, event in enumerate(doc.data)]


def worst(outcomes: list[str]) -> str:
    """A pack's outcome from its events': given back if one is to be tried again (the
    rest are applied again, harmlessly: handlers are idempotent), else dead-lettered if
    one can never succeed (the rest are applied; the pack is kept whole in the
    dead-letter queue), else acknowledged."""
    if REQUEUE in outcomes:
        return REQUEUE
    return DEAD_LETTER if DEAD_LETTER in outcomes else ACK


def handle_deliveries(deliveries: list[tuple[bytes, str | None, str | None]],
                      handler: Handler, batch_handler: BatchHandler | None, batch_max: int,
                      *, queue: str, healthy: Callable[[], bool] | None, stopping
                      ) -> list[str]:
    """Each delivery's outcome, in order; deliveries are (body, message id, type).

    A pack's events are handled as deliveries of their own, and the pack takes the worst
    of their outcomes (`worst`). With `batch_handler`, the events go to it in batches of
    up to `batch_max` (`handle_batch`), else one by one to `handler`."""
    outcomes: list[str | None] = [None] * len(deliveries)
    parts: list[tuple[bytes | dict, str | None]] = []
    owners: list[int] = []
    for i, (body, message_id, type_) in enumerate(deliveries):
        if type_ != PACK_TYPE:
            parts.append((body, message_id))
            owners.append(i)
            continue
        try:
            events = unpack(body)
        except PoisonMessage as exc:
            logger.error("dead-lettering message %s on %s: %s", message_id, queue, exc)
            outcomes[i] = DEAD_LETTER
            continue
        if not events:
            outcomes[i] = ACK
        parts.extend(events)
        owners.extend([i] * len(events))
    if batch_handler is None:
        results = [handle_until_settled(body, handler, queue=queue, message_id=message_id,
                                        healthy=healthy, stopping=stopping)
                   for body, message_id in parts]
    else:
        results = []
        for start in range(0, len(parts), max(1, batch_max)):
            results += handle_batch(parts[start:start + batch_max], handler, batch_handler,
                                    queue=queue, healthy=healthy, stopping=stopping)
    by_owner: dict[int, list[str]] = {}
    for owner, result in zip(owners, results, strict=True):
        by_owner.setdefault(owner, []).append(result)
    for owner, results_of in by_owner.items():
        outcomes[owner] = worst(results_of)
    return outcomes  # type: ignore[return-value]
