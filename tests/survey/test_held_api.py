"""Held ratings through the API, played as a stuffer would and as citizens do: the burst
rule per official (whatever the counter), the queue, decisions, receipt spellings, a
unit's hours and receipt format, the kiosk's offline queue, RATING_BURST=0, and events
that never carry an address or a device."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import limits.storage.memory
import pytest

from devkit.apps import ADMIN, make_settings, rating_body, seed_directory, start, unpacked
from services.survey import ratelimit
from services.survey import ratings as ratings_module
from services.survey.app import create_app
from services.survey.documents import AuditEntry, Rating
from services.survey.integrity import to_ms
from shared import events as ev
from shared import topology
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for

MORNING = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)  # Tuesday 07:30 in Hà Nội
HOURS = {"days": [1, 2, 3, 4, 5], "opens": "07:30", "closes": "17:00"}
STUFFER = "203.0.113.66"


class Clock:
    """The time survey and its rate limit see: moved by the test, never slept through."""

    def __init__(self, start: datetime):
        self.now = start

    def time(self) -> float:
        return self.now.timestamp()

    def stored_now(self) -> datetime:
        return to_ms(self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    moved = Clock(MORNING)
    monkeypatch.setattr(ratings_module, "stored_now", moved.stored_now)
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=moved.time))
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=moved.time))
    return moved


def post(client, body: dict, address: str = STUFFER):
    return client.post("/api/v1/ratings", json=body, environ_base={"REMOTE_ADDR": address})


def states(**where) -> dict[str, str]:
    return {d["_id"]: d["status"] for d in Rating._get_collection().find(where)}


def count(status: str, **where) -> int:
    return sum(1 for s in states(**where).values() if s == status)


def suspect(client, unit: str = "U1", headers=ADMIN, **query):
    args = "&".join(f"{k}={v}" for k, v in {"unit": unit, **query}.items())
    return client.get(f"/api/v1/ratings/suspect?{args}", headers=headers)


def events(survey) -> list[ev.Event]:
    survey.runtime.get("survey.relay").flush()
    queued = unpacked(survey.bus.waiting(topology.queue_for("scoring").name))
    return [ev.load_event(m.body) for m in queued
            if m.type in (ev.RATING_SUBMITTED, "rating.status_changed")]


def second_counter(client, code: str = "Q2") -> str:
    r = client.put(f"/api/v1/counters/{code}", json={"unit": "U1", "label": "Quầy 2",
                                                     "officials": ["CB1", "CB2"]}, headers=ADMIN)
    assert r.status_code == 201
    return r.get_json()["token"]


def stuff(client, clock, tokens: list[str], n: int = 100, **fields) -> float:
    """`n` five-star ratings for CB1 from one address, as fast as the rate limit lets
    them through (waiting out each Retry-After); the seconds it took."""
    start = clock.now
    for i in range(n):
        body = rating_body(tokens[i % len(tokens)], official="CB1", overall=5,
                           **{k: v(i) for k, v in fields.items()})
        while (r := post(client, body)).status_code == 429:
            clock.advance(int(r.headers["Retry-After"]))
        assert r.status_code == 201, r.get_json()
        clock.advance(0.6)
    return (clock.now - start).total_seconds()


def test_a_stuffer_gets_at_most_ten_counted_and_the_rest_held_in_the_queue(survey, client,
                                                                          token, clock):
    took = stuff(client, clock, [token])
    assert took <= 120
    assert count("counted") <= 10
    assert count("held") == 100 - count("counted")
    listed = suspect(client).get_json()
    assert len(listed) == count("held")
    assert [i["given_at"] for i in listed] == sorted((i["given_at"] for i in listed),
                                                     reverse=True)
    assert {r for i in listed for r in i["reasons"]} <= {"burst", "identical_run"}
    counted = [e for e in events(survey) if e.data["status"] == "counted"]
    assert len(counted) <= 10


def test_an_official_at_several_counters_gets_the_limit_once(survey, client, token, clock):
    tokens = [token, second_counter(client)]
    # factors that change every time: no identical run, only the burst rule at work
    stuff(client, clock, tokens, n=60, factors=lambda i: {"access": 4 + i % 2})
    assert count("counted") == 10
    assert count("held", counter="Q1") + count("held", counter="Q2") == 50
    [burst] = {i["burst"] for i in suspect(client).get_json()}
    assert burst


def test_a_hundred_citizens_over_a_morning_are_never_held(client, token, clock):
    put_unit(client, opening_hours=HOURS, receipt_format=r"HS-\d{4}-\d{4}")
    for i in range(100):
        clock.advance(140)  # 07:30 … 11:23
        body = rating_body(token, official=("CB1", "CB2", None)[i % 3], overall=5,
                           receipt_code=f"HS-2026-{i:04d}",
                           given_at=(clock.now - timedelta(seconds=20)).isoformat())
        assert post(client, body, address=f"198.51.100.{i}").status_code == 201
    assert count("counted") == 100
    assert suspect(client).get_json() == []


def put_unit(client, **fields) -> None:
    r = client.put("/api/v1/units/U1", json={"name": "Phường Một", **fields}, headers=ADMIN)
    assert r.status_code == 200, r.get_json()


def held_burst(client, clock, token, n: int = 13) -> list[dict]:
    for i in range(n):
        assert post(client, rating_body(token, factors={"access": 4 + i % 2})).status_code == 201
        clock.advance(5)
    return suspect(client).get_json()


def bearer(client, official: str) -> dict:
    token = client.post(f"/api/v1/officials/{official}/tokens", headers=ADMIN).get_json()
    return {"Authorization": f"Bearer {token['token']}"}


@pytest.fixture
def managers(client, token):
    """M manages D, above U1; N manages U2, elsewhere; CB1 manages nothing."""
    for code, body in (("D", {"name": "Sở D"}), ("U2", {"name": "Phường Hai"}),
                       ("U1", {"name": "Phường Một", "parent": "D"})):
        assert client.put(f"/api/v1/units/{code}", json=body, headers=ADMIN).status_code \
            in (200, 201)
    for code, unit in (("M", "D"), ("N", "U2")):
        client.put(f"/api/v1/officials/{code}", json={"full_name": code, "unit": unit},
                   headers=ADMIN)
    for code, manager in (("D", "M"), ("U2", "N")):
        client.put(f"/api/v1/units/{code}", json={"name": code, "managers": [manager]},
                   headers=ADMIN)
    return {who: bearer(client, who) for who in ("M", "N", "CB1")}


def decide(client, rating_id: str, decision: str, headers=ADMIN, note=None):
    return client.post(f"/api/v1/ratings/{rating_id}/decision",
                       json={"decision": decision, "note": note}, headers=headers)


def test_accepting_counts_a_rating_once_and_a_second_decision_is_409(survey, client, token,
                                                                      clock, managers):
    first, second, third = held_burst(client, clock, token)
    assert suspect(client, "D", managers["M"]).status_code == 200
    assert suspect(client, "U1", managers["N"]).status_code == 403
    assert suspect(client, "U1", managers["CB1"]).status_code == 403
    assert decide(client, first["id"], "accept", managers["N"]).status_code == 403
    r = decide(client, first["id"], "accept", managers["M"], note="Đã gọi lại công dân")
    assert r.status_code == 200
    assert r.get_json() == {"id": first["id"], "status": "accepted", "status_version": 2}
    for again in ("accept", "reject"):
        assert decide(client, first["id"], again).status_code == 409
    assert decide(client, second["id"], "reject").get_json()["status"] == "rejected"
    assert [i["id"] for i in suspect(client).get_json()] == [third["id"]]
    changed = [e for e in events(survey) if e.type == "rating.status_changed"]
    assert [(e.id, e.data["status"]) for e in changed] == [
        (f"rating-status-{first['id']}-2", "accepted"),
        (f"rating-status-{second['id']}-2", "rejected")]
    doc = Rating._get_collection().find_one({"_id": first["id"]})
    assert doc["decision"]["note"] == "Đã gọi lại công dân"
    assert doc["decision"]["by"].startswith("M")
    entry = AuditEntry._get_collection().find_one({"action": "rating_decided",
                                                   "target": first["id"]})
    assert entry["actor"] == doc["decision"]["by"] and entry["details"]["decision"] == "accept"
    assert doc["client_hash"] not in str(entry["details"])


def test_unknown_ids_are_404_for_an_administrator_and_403_for_a_manager(client, managers):
    unknown = uuid.uuid4().hex
    assert decide(client, unknown, "accept").status_code == 404
    assert decide(client, unknown, "accept", managers["M"]).status_code == 403
    burst = f"/api/v1/ratings/bursts/{unknown}/decision"
    assert client.post(burst, json={"decision": "accept"}, headers=ADMIN).status_code == 404
    assert client.post(burst, json={"decision": "accept"},
                       headers=managers["M"]).status_code == 403


def test_a_whole_burst_is_decided_at_once(survey, client, token, clock, managers):
    listed = held_burst(client, clock, token, n=14)
    [burst] = {i["burst"] for i in listed}
    assert decide(client, listed[0]["id"], "accept").status_code == 200
    url = f"/api/v1/ratings/bursts/{burst}/decision"
    assert client.post(url, json={"decision": "reject"}, headers=managers["N"]
                       ).status_code == 403
    r = client.post(url, json={"decision": "reject", "note": "tự chấm"}, headers=managers["M"])
    assert r.status_code == 200
    assert sorted(r.get_json()["decided"]) == sorted(i["id"] for i in listed[1:])
    assert count("rejected") == 3 and count("accepted") == 1
    assert client.post(url, json={"decision": "reject"}).status_code in (401, 409)
    assert client.post(url, json={"decision": "reject"}, headers=ADMIN).status_code == 409
    assert AuditEntry._get_collection().count_documents({"action": "burst_decided"}) == 1


@pytest.mark.parametrize("spelling", ["HS_2026_0001", "ＨＳ２０２６０００１/", "hs.2026.0001",
                                      " Hs-2026-0001 "])
def test_a_receipt_code_spelt_differently_is_the_same_receipt(client, token, spelling):
    assert post(client, rating_body(token, receipt_code="hs-2026-0001")).status_code == 201
    r = post(client, rating_body(token, receipt_code=spelling), address="198.51.100.9")
    assert r.status_code == 409
    assert "receipt_code" in r.get_json()["errors"]


def test_rating_burst_zero_turns_the_burst_rule_off(mongo_url, clock):
    running = start(create_app, make_settings("survey", mongo_url, rating_burst=0,
                                              ratings_per_minute=1000), MemoryBus())
    try:
        client = running.client
        token = seed_directory(client)
        for i in range(40):
            assert post(client, rating_body(token, overall=4 + i % 2)).status_code == 201
            clock.advance(1)  # one after the other (the same moment would order them by id)
        assert count("held") == 0
        # a unit's own limit still applies
        put_unit(client, rating_burst={"limit": 3, "minutes": 30})
        for i in range(4):
            assert post(client, rating_body(token, overall=4 + i % 2),
                        address="198.51.100.1").status_code == 201
            clock.advance(1)
        assert count("held") == 1
    finally:
        running.stop()


def test_a_unit_limit_of_zero_turns_the_rule_off_for_that_unit(client, token, clock):
    put_unit(client, rating_burst={"limit": 0, "minutes": 30})
    for i in range(20):
        assert post(client, rating_body(token, overall=4 + i % 2)).status_code == 201
        clock.advance(1)
    assert count("held") == 0


def test_outside_the_hours_and_a_receipt_of_another_format_are_held(client, token, clock):
    put_unit(client, opening_hours=HOURS, receipt_format=r"HS-\d{4}-\d{4}")
    clock.now = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 20:00 local
    assert post(client, rating_body(token, receipt_code="HS-2026-0001")).status_code == 201
    clock.now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # 10:00 local, the next day
    assert post(client, rating_body(token, receipt_code="2026/1")).status_code == 201
    assert post(client, rating_body(token, receipt_code="HS-2026-0002")).status_code == 201
    reasons = sorted(tuple(i["reasons"]) for i in suspect(client).get_json())
    assert reasons == [("outside_hours",), ("receipt_format",)]
    r = client.get("/api/v1/units/U1", headers=ADMIN).get_json()
    assert r["opening_hours"] == HOURS and r["receipt_format"] == r"HS-\d{4}-\d{4}"
    put_unit(client)  # left out: kept
    assert client.get("/api/v1/units/U1", headers=ADMIN).get_json()["opening_hours"] == HOURS
    put_unit(client, opening_hours=None)
    assert "opening_hours" not in client.get("/api/v1/units/U1", headers=ADMIN).get_json() \
        or client.get("/api/v1/units/U1", headers=ADMIN).get_json()["opening_hours"] is None


def test_the_offline_queue_is_judged_by_when_each_rating_was_given(survey, client, token,
                                                                   clock):
    put_unit(client, opening_hours=HOURS)
    clock.now = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # 18:00 local: closed now
    given = clock.now - timedelta(hours=3)  # 15:00 local, the queue kept it
    r = post(client, rating_body(token, given_at=given.isoformat()))
    assert r.status_code == 201
    assert count("counted") == 1
    ahead = post(client, rating_body(token, given_at=(clock.now + timedelta(minutes=10)
                                                      ).isoformat()), address="198.51.100.2")
    stale = post(client, rating_body(token, given_at=(clock.now - timedelta(hours=49)
                                                      ).isoformat()), address="198.51.100.3")
    docs = {d["_id"]: d for d in Rating._get_collection().find()}
    assert docs[ahead.get_json()["id"]]["reasons"] == ["outside_hours", "clock_future"]
    assert docs[ahead.get_json()["id"]]["given_at"] == clock.stored_now()
    # judged by its own (claimed) time: a Sunday
    assert docs[stale.get_json()["id"]]["reasons"] == ["outside_hours", "clock_stale"]


def test_a_late_rating_holds_the_ones_after_it_and_says_so(survey, client, token, clock):
    for i in range(10):
        assert post(client, rating_body(token, overall=4 + i % 2)).status_code == 201
        clock.advance(60)
    assert count("counted") == 10
    late = post(client, rating_body(token, overall=3,
                                    given_at=(MORNING - timedelta(seconds=1)).isoformat()))
    assert late.status_code == 201
    last = max(Rating._get_collection().find(), key=lambda d: d["given_at"])
    assert last["status"] == "held" and last["status_version"] == 2
    changed = [e for e in events(survey) if e.type == "rating.status_changed"]
    assert [(e.data["id"], e.data["status"], e.data["status_version"]) for e in changed] == \
        [(last["_id"], "held", 2)]


def test_a_registered_tablet_is_a_source_of_its_own(client, token, clock):
    r = client.put("/api/v1/counters/Q1", json={"unit": "U1", "label": "Quầy 1",
                                                "officials": ["CB1", "CB2"],
                                                "devices": ["TAB-1"]}, headers=ADMIN)
    assert r.get_json()["devices"] == ["TAB-1"]
    for i in range(11):  # a tablet behind changing addresses is still one source
        body = rating_body(token, overall=4 + i % 2, device="TAB-1")
        assert post(client, body, address=f"198.51.100.{i}").status_code == 201
        clock.advance(1)
    assert count("held") == 1
    for i in range(11):  # an unknown device id is no source: each address is
        body = rating_body(token, overall=4 + i % 2, device="TAB-X")
        assert post(client, body, address=f"192.0.2.{i}").status_code == 201
        clock.advance(1)
    assert count("held") == 1


def test_events_carry_neither_the_address_nor_the_device(survey, client, token, clock):
    client.put("/api/v1/counters/Q1", json={"unit": "U1", "label": "Quầy 1",
                                            "officials": ["CB1"], "devices": ["TAB-7"]},
               headers=ADMIN)
    for i in range(12):
        post(client, rating_body(token, overall=4 + i % 2, device="TAB-7" if i % 2 else None))
        clock.advance(1)
    listed = suspect(client).get_json()
    decide(client, listed[0]["id"], "accept")
    sent = events(survey)
    assert any(e.data["status"] == "held" for e in sent)
    secrets = {STUFFER, "TAB-7"}
    for doc in Rating._get_collection().find():
        secrets |= {doc.get("client_hash"), doc["source"], doc["source"][2:]}
    for e in sent:
        body = e.to_bytes().decode()
        assert not [s for s in secrets if s and s in body], e.type
        assert not {"source", "client_hash", "device", "decision", "subject"} & set(e.data)


def test_a_replay_publishes_each_rating_as_it_stands(survey, client, token, clock):
    listed = held_burst(client, clock, token)
    assert decide(client, listed[0]["id"], "reject").status_code == 200
    first = {e.id: e for e in events(survey)}
    queue = topology.queue_for("scoring").name
    r = client.post("/api/v1/replays", json={"target": "scoring"}, headers=ADMIN)
    assert r.status_code == 202
    wait_for(lambda: client.get(f"/api/v1/replays/{r.get_json()['id']}", headers=ADMIN
                                ).get_json()["status"] == "done", message="the replay")
    replayed = [ev.load_event(m.body) for m in unpacked(survey.bus.waiting(queue))
                if m.routing_key.startswith("replay.")
                and m.type in (ev.RATING_SUBMITTED, "rating.status_changed")]
    newest = {e.data["id"]: (e.id, e.data["status"], e.data["status_version"]) for e in replayed}
    assert len(newest) == len(replayed) == 13
    assert newest[listed[0]["id"]] == (f"rating-status-{listed[0]['id']}-2", "rejected", 2)
    for rating_id, (event_id, status, version) in newest.items():
        assert first[event_id].data == next(e for e in replayed if e.id == event_id).data
        assert (status, version) == (Rating._get_collection().find_one(
            {"_id": rating_id})["status"], version)
