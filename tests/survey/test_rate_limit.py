"""One address flooding one counter gets 429 with Retry-After; others are not affected."""

import pytest

from devkit.apps import ADMIN, make_settings, rating_body, seed_directory, start
from services.survey.app import create_app
from shared.memory_bus import MemoryBus


@pytest.fixture
def limited(mongo_url):
    running = start(create_app, make_settings("survey", mongo_url, ratings_per_minute=3),
                    MemoryBus())
    yield running
    running.stop()


def post(client, body, address="10.0.0.1"):
    return client.post("/api/v1/ratings", json=body, environ_base={"REMOTE_ADDR": address})


def test_flood_from_one_address_at_one_counter_is_429(limited):
    client = limited.client
    token = seed_directory(client)
    first = rating_body(token)
    statuses = [post(client, b).status_code for b in [first] + [rating_body(token)
                                                                  for _ in range(3)]]
    assert statuses == [201, 201, 201, 429]
    r = post(client, rating_body(token))
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # a kiosk retrying a rating it already sent is answered, not limited
    assert post(client, first).status_code == 200
    # another device at the same counter, and the same device at another counter, go on
    assert post(client, rating_body(token), address="10.0.0.2").status_code == 201
    client.put("/api/v1/counters/Q2", json={"unit": "U1", "label": "Quầy 2",
                                            "officials": ["CB1"]}, headers=ADMIN)
    other = client.get("/api/v1/counters/Q2", headers=ADMIN).get_json()["token"]
    assert post(client, rating_body(other)).status_code == 201


def test_addresses_are_stored_only_as_a_salted_hash(limited):
    from services.survey.documents import Rating

    client = limited.client
    token = seed_directory(client)
    post(client, rating_body(token), address="203.0.113.7")
    doc = Rating._get_collection().find_one()
    assert "203.0.113.7" not in str(doc)
    assert len(doc["client_hash"]) == 32
