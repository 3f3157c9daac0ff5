"""POST /api/v1/ratings: what the contract promises citizens and kiosks."""

from __future__ import annotations

import json

import pytest

from devkit.apps import rating_body
from services.survey.documents import Rating
from shared import events as ev
from shared import topology
from tests.conftest import wait_for

SCORING_QUEUE = topology.queue_for("scoring").name


def stored_ratings() -> int:
    return Rating._get_collection().count_documents({})


def settle(survey) -> None:
    """Let the relay publish what is pending, then drain the consumers' queues."""
    survey.runtime.get("survey.relay").flush()


def assert_untouched(survey, before: int) -> None:
    settle(survey)
    assert stored_ratings() == before
    rating_events = [m for m in _queued(survey) if m.type == ev.RATING_SUBMITTED]
    assert rating_events == []


def _queued(survey):
    return survey.bus.waiting(SCORING_QUEUE)


def test_accepted_rating_is_stored_and_published_once(survey, client, token):
    r = client.post("/api/v1/ratings", json=rating_body(token, factors={"access": 4},
                                                        comment="  Rất nhanh  "))
    assert r.status_code == 201
    rating_id = r.get_json()["id"]
    settle(survey)
    published = [ev.load_event(m.body) for m in _queued(survey) if m.type == ev.RATING_SUBMITTED]
    assert len(published) == 1
    data = published[0].data
    assert data["id"] == rating_id
    assert (data["official"], data["unit"], data["counter"]) == ("CB1", "U1", "Q1")
    assert data["overall"] == 5 and data["factors"] == {"access": 4}
    assert data["comment"] == "Rất nhanh"
    doc = Rating._get_collection().find_one({"_id": rating_id})
    assert "outbox_event" not in doc  # cleared once confirmed


def test_rating_without_official_counts_for_the_unit(survey, client, token):
    r = client.post("/api/v1/ratings", json=rating_body(token, official=None))
    assert r.status_code == 201
    settle(survey)
    data = ev.load_event(_queued(survey)[-1].body).data
    assert data["official"] is None and data["unit"] == "U1"


def test_same_client_id_returns_the_same_id_and_counts_once(survey, client, token):
    body = rating_body(token, receipt_code="HS-001")
    first = client.post("/api/v1/ratings", json=body)
    again = client.post("/api/v1/ratings", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    settle(survey)
    assert stored_ratings() == 1
    assert len([m for m in _queued(survey) if m.type == ev.RATING_SUBMITTED]) == 1


def test_receipt_code_rated_twice_is_a_conflict(survey, client, token):
    assert client.post("/api/v1/ratings", json=rating_body(token, receipt_code="HS-9")
                       ).status_code == 201
    before = stored_ratings()
    r = client.post("/api/v1/ratings", json=rating_body(token, receipt_code="HS-9"))
    assert r.status_code == 409
    assert r.mimetype == "application/problem+json"
    assert "receipt_code" in r.get_json()["errors"]
    assert stored_ratings() == before
    # typed on a phone, with the space its keyboard adds: the same receipt
    r = client.post("/api/v1/ratings", json=rating_body(token, receipt_code=" HS-9 "))
    assert r.status_code == 409 and stored_ratings() == before


def test_a_blank_receipt_code_is_no_receipt(survey, client, token):
    for blank in ("", "  "):
        r = client.post("/api/v1/ratings", json=rating_body(token, receipt_code=blank))
        assert r.status_code == 201, r.get_json()
    survey.runtime.get("survey.relay").flush()
    sent = [ev.load_event(m.body) for m in _queued(survey) if m.type == ev.RATING_SUBMITTED]
    assert [e.data["receipt_code"] for e in sent] == [None, None]


def test_unknown_counter_token_is_404(survey, client, token):
    before = stored_ratings()
    r = client.post("/api/v1/ratings", json=rating_body("no-such-token"))
    assert r.status_code == 404
    assert r.get_json()["status"] == 404
    assert_untouched(survey, before)


def test_official_not_on_the_counter_is_422(survey, client, token):
    client.put("/api/v1/officials/CB9", json={"full_name": "X", "unit": "U1"},
               headers={"Authorization": "Bearer test-admin-token-0123456789"})
    before = stored_ratings()
    r = client.post("/api/v1/ratings", json=rating_body(token, official="CB9"))
    assert r.status_code == 422
    assert list(r.get_json()["errors"]) == ["official"]
    assert_untouched(survey, before)


@pytest.mark.parametrize("changes, fields", [
    ({"overall": 0}, {"overall"}),
    ({"overall": 6}, {"overall"}),
    ({"overall": "5"}, {"overall"}),
    ({"overall": 4.5}, {"overall"}),
    ({"overall": True}, {"overall"}),
    ({"overall": None}, {"overall"}),
    ({"factors": {"access": 7}}, {"factors.access"}),
    ({"factors": {"speed": 3}}, {"factors.speed"}),
    ({"factors": [1, 2]}, {"factors"}),
    ({"comment": "x" * 1001}, {"comment"}),
    ({"client_id": "not-a-uuid"}, {"client_id"}),
    ({"official": "bad code!"}, {"official"}),
    ({"receipt_code": "a b"}, {"receipt_code"}),
    ({"extra": 1}, {"extra"}),
    ({"overall": 9, "client_id": 3}, {"overall", "client_id"}),
])
def test_invalid_fields_are_422_with_a_message_per_field(survey, client, token, changes, fields):
    before = stored_ratings()
    r = client.post("/api/v1/ratings", json=rating_body(token, **changes))
    assert r.status_code == 422
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert set(body) >= {"type", "title", "status", "detail", "errors"}
    assert set(body["errors"]) == fields
    assert all(isinstance(m, list) and m for m in body["errors"].values())
    assert_untouched(survey, before)


def test_missing_required_fields_are_listed(survey, client, token):
    r = client.post("/api/v1/ratings", json={})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"counter_token", "overall", "client_id"}


@pytest.mark.parametrize("data", [b"{not json", b'{"overall": 5,', b"\xff\xfe", b""])
def test_malformed_json_is_400(survey, client, token, data):
    before = stored_ratings()
    r = client.post("/api/v1/ratings", data=data, content_type="application/json")
    assert r.status_code in (400, 422) if data == b"" else r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert_untouched(survey, before)


def test_wrong_content_type_is_400(survey, client, token):
    before = stored_ratings()
    r = client.post("/api/v1/ratings", data=json.dumps(rating_body(token)),
                    content_type="text/plain")
    assert r.status_code == 400
    assert "Content-Type" in r.get_json()["detail"]
    assert_untouched(survey, before)


def test_body_over_64_kib_is_413(survey, client, token):
    before = stored_ratings()
    body = json.dumps(rating_body(token, comment="x" * (70 * 1024)))
    r = client.post("/api/v1/ratings", data=body, content_type="application/json")
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert_untouched(survey, before)


def test_json_that_is_not_an_object_is_422(survey, client, token):
    r = client.post("/api/v1/ratings", data="[1, 2]", content_type="application/json")
    assert r.status_code == 422


def test_rating_waits_in_the_outbox_while_the_broker_refuses(survey, client, token):
    from shared.messages import BrokerUnavailable

    relay = survey.runtime.get("survey.relay")
    publisher = survey.app.extensions["survey"].publisher
    relay.flush()
    real = publisher.publish_many
    publisher.publish_many = lambda msgs, timeout=10: [BrokerUnavailable("down")] * len(msgs)
    try:
        r = client.post("/api/v1/ratings", json=rating_body(token))
        assert r.status_code == 201
        relay.run_once()
        assert relay.backlog() == 1
    finally:
        publisher.publish_many = real
    wait_for(lambda: relay.backlog() == 0, message="outbox drained after recovery")
    assert len([m for m in _queued(survey) if m.type == ev.RATING_SUBMITTED]) == 1
