"""Bad input changes nothing, checked on the real broker: no event leaves survey."""

from __future__ import annotations

import json
import time

import pytest

from devkit import rabbit
from devkit.apps import make_settings, rating_body, seed_directory, start
from services.survey.app import create_app
from services.survey.documents import Rating
from shared import topology
from shared.bus import RabbitBus


@pytest.fixture
def survey_on_rabbit(mongo_url, fresh_rabbit_url):
    settings = make_settings("survey", mongo_url, amqp_url=fresh_rabbit_url)
    running = start(create_app, settings, RabbitBus(fresh_rabbit_url, name="test-survey"))
    yield running, fresh_rabbit_url
    running.stop()


def test_rejected_requests_leave_database_and_broker_untouched(survey_on_rabbit):
    survey, url = survey_on_rabbit
    client = survey.client
    token = seed_directory(client)
    survey.runtime.get("survey.relay").flush()
    queue = topology.queue_for("scoring").name
    time.sleep(0.5)
    depth_before = rabbit.queue_depth(url, queue)
    ratings_before = Rating._get_collection().count_documents({})

    bad = [
        (b"{broken", "application/json", 400),
        (json.dumps(rating_body(token)).encode(), "text/plain", 400),
        (json.dumps(rating_body(token, overall=7)).encode(), "application/json", 422),
        (json.dumps(rating_body(token, comment="x" * 70_000)).encode(), "application/json", 413),
        (json.dumps(rating_body("unknown-token")).encode(), "application/json", 404),
    ]
    for data, content_type, status in bad:
        r = client.post("/api/v1/ratings", data=data, content_type=content_type)
        assert r.status_code == status, (data[:40], r.get_json())
        assert r.mimetype == "application/problem+json"

    survey.runtime.get("survey.relay").flush()
    time.sleep(0.5)
    assert rabbit.queue_depth(url, queue) == depth_before
    assert Rating._get_collection().count_documents({}) == ratings_before

    # and a good rating does go out, so the check above could have seen one
    assert client.post("/api/v1/ratings", json=rating_body(token)).status_code == 201
    survey.runtime.get("survey.relay").flush()
    from tests.conftest import wait_for

    wait_for(lambda: rabbit.queue_depth(url, queue) == depth_before + 1, timeout=10)
