"""Exchange, queue, routing-key and dead-letter names: the one place they are defined."""

from __future__ import annotations

from dataclasses import dataclass

from shared import auth_events as auth
from shared import dashboard_events as dashboard
from shared import events as ev
from shared import review_events as review
from shared.integrity_events import RATING_STATUS_CHANGED

EXCHANGE = "congso.events"
EXCHANGE_TYPE = "topic"
DEAD_LETTER_EXCHANGE = "congso.dead-letter"
# Delivery attempts before RabbitMQ dead-letters a message a handler keeps failing on.
DELIVERY_LIMIT = 5


@dataclass(frozen=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}.dead"

    @property
    def arguments(self) -> dict:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": self.dead_letter_queue,
        }


DIRECTORY_EVENTS = (ev.UNIT_UPSERTED, ev.OFFICIAL_UPSERTED)
# what every service's copy of "who may do what" is kept from (shared.access)
ACCESS_EVENTS = (*DIRECTORY_EVENTS, auth.KEYS_PUBLISHED, auth.TOKEN_ISSUED, auth.REVOKED)

def replay_key(consumer: str, event_type: str) -> str:
    """Routing key of an event replayed to one consumer only (e.g. a scoring rebuild)."""
    return f"replay.{consumer}.{event_type}"


QUEUES: dict[str, QueueSpec] = {
    "scoring": QueueSpec(
        "congso.scoring",
        (ev.RATING_SUBMITTED, RATING_STATUS_CHANGED, ev.PEER_REVIEW_SUBMITTED, *ACCESS_EVENTS,
         review.WINDOW_SET,
         dashboard.REVIEW_RESPONSE, dashboard.DEADLINE_STATUS, "replay.scoring.#"),
    ),
    "notify": QueueSpec(
        "congso.notify",
        (ev.RATING_SUBMITTED, RATING_STATUS_CHANGED, ev.SCORE_UPDATED, *ACCESS_EVENTS,
         auth.LINK_REQUESTED,
         auth.ACCOUNT_NOTICE, review.WINDOW_SET, "replay.notify.#"),
    ),
    # survey keeps the audit log: the other services' audited actions reach it here
    "survey": QueueSpec("congso.survey", (auth.AUDIT_RECORDED, review.CYCLE_DUE)),
}


def queue_for(consumer: str) -> QueueSpec:
    """Return the queue of a consumer ('scoring', 'notify')."""
    return QUEUES[consumer]


def declare(channel) -> None:
    """Declare the whole topology on a pika channel (idempotent)."""
    channel.exchange_declare(EXCHANGE, exchange_type=EXCHANGE_TYPE, durable=True)
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    for spec in QUEUES.values():
        channel.queue_declare(spec.name, durable=True, arguments=spec.arguments)
        for key in spec.bindings:
            channel.queue_bind(spec.name, EXCHANGE, routing_key=key)
        channel.queue_declare(
            spec.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        channel.queue_bind(
            spec.dead_letter_queue, DEAD_LETTER_EXCHANGE, routing_key=spec.dead_letter_queue
        )


def definitions(vhost: str = "congso", user: str = "congso") -> dict:
    """The topology as a RabbitMQ definitions document (deploy/rabbitmq/definitions.json)."""
    queues, bindings = [], []
    for spec in QUEUES.values():
        queues.append({"name": spec.name, "vhost": vhost, "durable": True,
                       "auto_delete": False, "arguments": spec.arguments})
        queues.append({"name": spec.dead_letter_queue, "vhost": vhost, "durable": True,
                       "auto_delete": False, "arguments": {"x-queue-type": "quorum"}})
        bindings += [{"source": EXCHANGE, "vhost": vhost, "destination": spec.name,
                      "destination_type": "queue", "routing_key": key, "arguments": {}}
                     for key in spec.bindings]
        bindings.append({"source": DEAD_LETTER_EXCHANGE, "vhost": vhost,
                         "destination": spec.dead_letter_queue, "destination_type": "queue",
                         "routing_key": spec.dead_letter_queue, "arguments": {}})
    return {
        "vhosts": [{"name": vhost}],
        "permissions": [{"user": user, "vhost": vhost, "configure": ".*", "write": ".*",
                         "read": ".*"}],
        "exchanges": [
            {"name": EXCHANGE, "vhost": vhost, "type": EXCHANGE_TYPE, "durable": True,
             "auto_delete": False, "internal": False, "arguments": {}},
            {"name": DEAD_LETTER_EXCHANGE, "vhost": vhost, "type": "direct", "durable": True,
             "auto_delete": False, "internal": False, "arguments": {}},
        ],
        "queues": queues,
        "bindings": bindings,
        "policies": [{
            "vhost": vhost, "name": "congso-dead-letter-cap", "pattern": r"\.dead$",
            "apply-to": "queues", "priority": 0,
            "definition": {"max-length": 100000, "overflow": "reject-publish"},
        }],
    }
