"""POST /api/v1/replays: every stored record published again, to one consumer only, as the
same event it was when first published (a rebuilt database must equal the lost one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devkit.apps import ADMIN, queued_events, rating_body, unpacked
from shared import auth_events as auth
from shared import dashboard_events, review_events, topology
from shared import events as ev
from shared.config import REPLAY_PACK
from shared.messages import PACK_TYPE
from tests.conftest import wait_for

SCORES = dict.fromkeys(("discipline", "conduct", "ethics", "dress", "participation"), 4)


def by_id(events) -> dict:
    """Each record's latest event data, keyed by what identifies the record."""
    out = {}
    for e in events:
        key = e.data.get("id") or e.data.get("code") or e.data.get("digest") or \
            (e.data.get("year"), e.data.get("unit"), e.type)
        out[(e.type, key)] = e.data
    return out


def test_a_replay_publishes_each_record_as_it_was_first_published(survey, client, token):
    year = str(datetime.now(UTC).year)
    for overall in (5, 2):
        assert client.post("/api/v1/ratings", json=rating_body(
            token, overall=overall, factors={"access": 3}, comment="Nhanh, đúng hẹn",
            receipt_code=f"BN-{overall}")).status_code == 201
    reviewer = client.post("/api/v1/officials/CB2/tokens", headers=ADMIN).get_json()["token"]
    r = client.put(f"/api/v1/peer-reviews/{year}/CB1", json={"scores": SCORES,
                                                             "comment": "Chu đáo"},
                   headers={"Authorization": f"Bearer {reviewer}"})
    assert r.status_code == 201
    # the year's window too: scoring publishes the year's peer results once it closes
    now = datetime.now(UTC)
    assert client.put(f"/api/v1/review-windows/{year}", headers=ADMIN, json={
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=9)).isoformat(),
        "remind_before": ["P1D"]}).status_code == 201
    survey.runtime.get("survey.relay").flush()
    scoring_queue = topology.queue_for("scoring").name
    first = by_id(queued_events(survey, scoring_queue))
    assert {t for t, _ in first} == {ev.UNIT_UPSERTED, ev.OFFICIAL_UPSERTED,
                                      ev.RATING_SUBMITTED, ev.PEER_REVIEW_SUBMITTED,
                                      auth.KEYS_PUBLISHED, auth.TOKEN_ISSUED,
                                      review_events.WINDOW_SET,
                                      dashboard_events.REVIEW_RESPONSE}
    notify_before = len(queued_events(survey, topology.queue_for("notify").name))

    r = client.post("/api/v1/replays", json={"target": "scoring"}, headers=ADMIN)
    assert r.status_code == 202
    job = r.get_json()
    done = wait_for(lambda: (j := client.get(f"/api/v1/replays/{job['id']}",
                                             headers=ADMIN).get_json())["status"] == "done"
                    and j, message="the replay")
    assert done["published"] == len(first) and done["started_at"] == job["started_at"]
    # packed, by default: every event of this small replay in one message
    assert job["events_per_message"] == REPLAY_PACK > len(first)
    assert survey.bus.waiting(scoring_queue)[-1].type == PACK_TYPE

    events = queued_events(survey, scoring_queue)
    replayed = by_id(events[len(events) - len(first):])
    assert replayed == first  # times included: stored as published, to the millisecond
    # one consumer only: notify did not get the history again
    assert len(queued_events(survey, topology.queue_for("notify").name)) == notify_before


def test_replay_target_must_be_a_consumer(client):
    r = client.post("/api/v1/replays", json={"target": "everyone"}, headers=ADMIN)
    assert r.status_code == 422 and "target" in r.get_json()["errors"]
    assert client.get("/api/v1/replays/nope", headers=ADMIN).status_code == 404
    assert client.post("/api/v1/replays", json={"target": "scoring"}).status_code == 401


def test_a_record_that_no_longer_loads_is_published_for_its_consumer_to_isolate(
        survey, client, token, monkeypatch):
    """A replay in batches (of two here, each confirmed while the next is read) goes on
    past a stored rating that its event's schema now refuses: survey publishes it as it
    stands, and the consumer dead-letters that one alone (before, the replay stopped there
    and every record after it was lost to the rebuild)."""
    from services.survey import replay
    from services.survey.documents import Rating

    monkeypatch.setattr(replay, "BATCH", 2)
    for overall in (5, 4, 3):
        assert client.post("/api/v1/ratings", json=rating_body(token, overall=overall)
                           ).status_code == 201
    stored = Rating._get_collection().find_one({"overall": 4})
    Rating._get_collection().insert_one({**stored, "_id": "broken", "overall": 9,
                                         "client_id": "not-a-uuid"})
    survey.runtime.get("survey.relay").flush()
    queue = topology.queue_for("scoring").name
    before = len(survey.bus.waiting(queue))

    job = client.post("/api/v1/replays", json={"target": "scoring"}, headers=ADMIN).get_json()
    done = wait_for(lambda: (j := client.get(f"/api/v1/replays/{job['id']}",
                                             headers=ADMIN).get_json())["status"] == "done"
                    and j, message="the replay")
    replayed = unpacked(survey.bus.waiting(queue)[before:])
    assert done["published"] == len(replayed) and done.get("error") is None
    loaded, refused = [], []
    for message in replayed:
        try:
            loaded.append(ev.load_event(message.body))
        except ev.PoisonMessage:
            refused.append(message)
    assert [m.message_id for m in refused] == ["rating-broken"]
    assert sorted(e.data["overall"] for e in loaded if e.type == ev.RATING_SUBMITTED) == \
        [3, 4, 5]


def test_a_replay_of_one_event_a_message_sends_each_event_alone(survey, client, token):
    for overall in (5, 4, 3):
        assert client.post("/api/v1/ratings", json=rating_body(token, overall=overall)
                           ).status_code == 201
    survey.runtime.get("survey.relay").flush()
    queue = topology.queue_for("scoring").name
    before = len(survey.bus.waiting(queue))
    packed = client.post("/api/v1/replays", json={"target": "scoring"}, headers=ADMIN)
    wait_for(lambda: client.get(f"/api/v1/replays/{packed.get_json()['id']}", headers=ADMIN
                                ).get_json()["status"] == "done", message="the packed replay")
    middle = len(survey.bus.waiting(queue))
    alone = client.post("/api/v1/replays", json={"target": "scoring", "events_per_message": 1},
                        headers=ADMIN)
    assert alone.status_code == 202 and alone.get_json()["events_per_message"] == 1
    done = wait_for(lambda: (j := client.get(f"/api/v1/replays/{alone.get_json()['id']}",
                                             headers=ADMIN).get_json())["status"] == "done"
                    and j, message="the replay one event a message")
    one_by_one = survey.bus.waiting(queue)[middle:]
    assert PACK_TYPE not in {m.type for m in one_by_one}
    assert all(m.routing_key == topology.replay_key("scoring", m.type) for m in one_by_one)
    assert done["published"] == len(one_by_one)
    # the same events, whichever way they travel (a directory record's gets a new id)
    assert [(m.type, ev.load_event(m.body).data)
            for m in unpacked(survey.bus.waiting(queue)[before:middle])] == \
        [(m.type, ev.load_event(m.body).data) for m in one_by_one]


def test_events_per_message_is_bounded(client):
    for bad in (0, 101, "many"):
        r = client.post("/api/v1/replays", json={"target": "scoring", "events_per_message": bad},
                        headers=ADMIN)
        assert r.status_code == 422 and "events_per_message" in r.get_json()["errors"]
