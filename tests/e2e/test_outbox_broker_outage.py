"""RabbitMQ away: ratings are still accepted, and each is published once when it returns,
even across a restart of survey in between."""

from __future__ import annotations

import collections
from urllib.parse import urlsplit, urlunsplit

import pytest

from devkit import rabbit
from devkit.apps import make_settings, rating_body, seed_directory, start
from devkit.tcpproxy import TcpProxy
from services.survey.app import create_app
from shared import broker, topology
from shared import events as ev
from shared.bus import RabbitBus
from tests.conftest import wait_for

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def proxy():
    p = TcpProxy()
    yield p
    p.close()


def through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def test_ratings_survive_a_broker_outage_and_a_restart(fresh_rabbit_url, mongo_url, proxy,
                                                        monkeypatch):
    monkeypatch.setattr(broker, "MAX_BACKOFF", 1.0)  # reconnect promptly once it is back
    url = through(fresh_rabbit_url, proxy)
    settings = make_settings("survey", mongo_url, amqp_url=url)
    survey = start(create_app, settings, RabbitBus(url, name="test-outage-1"))
    client = survey.client
    token = seed_directory(client)
    survey.runtime.get("survey.relay").flush()
    queue = topology.queue_for("scoring").name
    # unit, 2 officials, and the session key survey announces at start
    wait_for(lambda: rabbit.queue_depth(fresh_rabbit_url, queue) == 4)
    rabbit.get_all(fresh_rabbit_url, queue)

    proxy.cut()
    wait_for(lambda: client.get("/readyz").status_code == 503, message="not ready")
    accepted = []
    for _ in range(15):
        r = client.post("/api/v1/ratings", json=rating_body(token))
        assert r.status_code == 201
        accepted.append(r.get_json()["id"])

    # survey restarts while the broker is still away: what was accepted is in its database
    survey.stop()
    survey = start(create_app, settings, RabbitBus(url, name="test-outage-2"))
    client = survey.client
    for _ in range(10):
        r = client.post("/api/v1/ratings", json=rating_body(token))
        assert r.status_code == 201
        accepted.append(r.get_json()["id"])
    assert rabbit.queue_depth(fresh_rabbit_url, queue) == 0

    proxy.restore()
    # the ratings, and the key announced again by the restarted survey
    wait_for(lambda: rabbit.queue_depth(fresh_rabbit_url, queue) >= len(accepted) + 1,
             timeout=40, message="all ratings published after the broker came back")
    wait_for(lambda: client.get("/readyz").status_code == 200, message="ready again")
    survey.stop()
    messages = rabbit.get_all(fresh_rabbit_url, queue)
    ids = collections.Counter(ev.load_event(body).data["id"] for props, body in messages
                              if props.type == ev.RATING_SUBMITTED)
    assert sorted(ids) == sorted(accepted)
    assert set(ids.values()) == {1}, "each rating published once"
