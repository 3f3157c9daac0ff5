"""What both buses (RabbitMQ and in-process) share: messages, outcomes, errors, retry delay."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared import logs
from shared.events import Event, PoisonMessage, load_event

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


def handle_delivery(body: bytes, handler: Handler, *, queue: str, message_id: str | None) -> str:
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
    body: bytes,
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


def handle_batch(deliveries: list[tuple[bytes, str | None]], handler: Handler,
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
