import json
import uuid
from datetime import UTC, datetime

import pytest

from shared import events as ev


def rating_data(**changes):
    data = {"id": "r1", "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": "U1",
            "official": "CB1", "overall": 4, "factors": {"access": 5},
            "submitted_at": datetime(2026, 3, 1, tzinfo=UTC)}
    data.update(changes)
    return data


def test_event_round_trips_through_bytes():
    event = ev.make_event(ev.RATING_SUBMITTED, rating_data(), source="/congso/survey",
                          correlationid="req-1")
    loaded = ev.load_event(event.to_bytes())
    assert loaded == event
    envelope = json.loads(event.to_bytes())
    assert envelope["specversion"] == "1.0"
    assert envelope["datacontenttype"] == "application/json"
    assert set(envelope) >= {"id", "source", "type", "time", "data"}
    assert loaded.loaded_data()["submitted_at"] == datetime(2026, 3, 1, tzinfo=UTC)


def test_make_event_refuses_data_not_of_its_schema():
    with pytest.raises(ValueError, match="overall"):
        ev.make_event(ev.RATING_SUBMITTED, rating_data(overall=6), source="/t")
    with pytest.raises(ValueError, match="unknown event type"):
        ev.make_event("rating.deleted", {}, source="/t")


def test_every_event_type_has_a_schema():
    assert set(ev.EVENT_TYPES) == {
        "rating.submitted", "peer_review.submitted", "directory.unit.upserted",
        "directory.official.upserted", "score.updated",  # the contract's
        "auth.keys_published", "auth.token_issued", "auth.revoked", "auth.link_requested",
        "account.notice", "audit.recorded", "review_window.set", "review.cycle_due",
        "review.response", "deadline.status", "rating.status_changed"}


@pytest.mark.parametrize("email", ["cán.bộ@example.vn", "a@ex\u0430mple.vn",  # Cyrillic а
                                   "a@example.vn\r\nBcc: x@evil.vn", "a\u200b@example.vn",
                                   "a" * 250 + "@x.vn"])
def test_an_address_congso_would_write_to_is_plain_ascii_on_one_line(email):
    from marshmallow import ValidationError

    from shared.schemas import Email

    with pytest.raises(ValidationError):
        Email().deserialize(email)
    assert Email().deserialize("  Truong.Phong@Example.VN ") == "truong.phong@example.vn"


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b"\xff", b'"text"',
    b'{"specversion": "1.0"}',
])
def test_malformed_messages_are_poison(body):
    with pytest.raises(ev.PoisonMessage):
        ev.load_event(body)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(type="rating.exploded"),
    lambda d: d.update(specversion="0.3"),
    lambda d: d["data"].update(overall=True),
    lambda d: d["data"].update(overall="5"),
    lambda d: d["data"].pop("unit"),
    lambda d: d.update(time="yesterday"),
    lambda d: d.update(time="2026-01-01T00:00:00"),  # no offset
    lambda d: d.update(surprise=1),
])
def test_envelopes_that_break_the_schema_are_poison(mutate):
    doc = ev.make_event(ev.RATING_SUBMITTED, rating_data(), source="/t").to_dict()
    mutate(doc)
    with pytest.raises(ev.PoisonMessage):
        ev.load_event(json.dumps(doc).encode())


def test_new_data_fields_from_a_later_release_are_tolerated():
    doc = ev.make_event(ev.RATING_SUBMITTED, rating_data(), source="/t").to_dict()
    doc["data"]["channel"] = "kiosk"
    assert ev.load_event(json.dumps(doc).encode()).loaded_data()["overall"] == 4


def test_strict_integer_refuses_booleans_and_strings():
    from marshmallow import Schema, ValidationError

    class S(Schema):
        n = ev.StrictInteger()

    assert S().load({"n": 3}) == {"n": 3}
    for bad in (True, "3", 3.0):
        with pytest.raises(ValidationError):
            S().load({"n": bad})
