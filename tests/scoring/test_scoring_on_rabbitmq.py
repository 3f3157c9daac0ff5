"""Scoring on the real broker: redelivery after a crash, poison to the dead-letter queue."""

from __future__ import annotations

import copy
import json

import pytest

from devkit import rabbit
from devkit.apps import ADMIN, make_settings, start
from services.scoring.app import create_app
from shared import consumer as rabbit_consumer
from shared import topology
from shared.broker import RabbitPublisher
from shared.bus import RabbitBus
from shared.messages import OutgoingMessage
from tests.conftest import wait_for
from tests.scoring.helpers import official, rating
from tests.scoring.test_exactly_once import CrashOnce

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def scoring_rabbit(mongo_url, fresh_rabbit_url, monkeypatch):
    monkeypatch.setattr(rabbit_consumer, "retry_delay", lambda count: 0.05)
    running = start(create_app, make_settings("scoring", mongo_url, amqp_url=fresh_rabbit_url),
                    RabbitBus(fresh_rabbit_url, name="test-scoring"))
    wait_for(lambda: running.client.get("/readyz").status_code == 200, timeout=20)
    pub = RabbitPublisher(fresh_rabbit_url, name="test-feeder")
    yield running, pub, fresh_rabbit_url
    pub.close()
    running.stop()


def count(running):
    r = running.client.get("/api/v1/scores/officials/CB1?period=2026", headers=ADMIN)
    return r.get_json()["citizen"]["count"] if r.status_code == 200 else None


def test_crash_mid_message_is_redelivered_and_counted_once(scoring_rabbit):
    running, pub, url = scoring_rabbit
    pub.publish(OutgoingMessage.from_event(official()))
    wait_for(lambda: count(running) == 0)
    with CrashOnce(1) as crash:  # the first write of the rating fails: no ack
        pub.publish(OutgoingMessage.from_event(rating("CB1", 5, rid="only-once")))
        wait_for(lambda: crash.crashed and count(running) == 1, timeout=20)
    pub.publish(OutgoingMessage.from_event(rating("CB1", 5, rid="only-once")))  # duplicate
    pub.publish(OutgoingMessage.from_event(rating("CB1", 3)))
    wait_for(lambda: count(running) == 2, timeout=20)
    assert rabbit.queue_depth(url, topology.queue_for("scoring").dead_letter_queue) == 0


def test_poison_is_dead_lettered_and_the_rest_goes_on(scoring_rabbit):
    running, pub, url = scoring_rabbit
    good = rating("CB1", 4)
    bad = copy.deepcopy(good.to_dict())
    bad["data"]["overall"] = "four"
    pub.publish(OutgoingMessage("rating.submitted", json.dumps(bad).encode(), "bad-1", "x"))
    pub.publish(OutgoingMessage.from_event(official()))
    pub.publish(OutgoingMessage.from_event(good))
    wait_for(lambda: count(running) == 1, timeout=20)
    dlq = topology.queue_for("scoring").dead_letter_queue
    wait_for(lambda: rabbit.queue_depth(url, dlq) == 1, timeout=20)
    (props, body), = rabbit.get_all(url, dlq)
    assert props.message_id == "bad-1" and b'"four"' in body
