"""Held ratings are a pure function of the history: random histories, sent in random
orders with repeats (a kiosk's retries) or all at once from several threads, end with
the same states as the rules' definition gives, in the database and in the newest event
of each rating."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.apps import ADMIN, make_settings, seed_directory, start, unpacked
from services.survey import domain, integrity, keys
from services.survey import ratings as ratings_module
from services.survey.app import create_app
from services.survey.documents import Rating
from services.survey.integrity import Seen
from shared import events as ev
from shared import topology
from shared.memory_bus import MemoryBus
from tests.survey.held_oracle import oracle

BASE = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # given from 08:00 local on a Tuesday
ARRIVED = BASE + timedelta(hours=3)            # all arrive later, within 48 hours
SUBJECTS = ("CB1", "CB2", None)
SHAPES = ({"overall": 5}, {"overall": 5, "factors": {"access": 5}},
          {"overall": 4}, {"overall": 5, "comment": "Nhanh"})


@pytest.fixture
def app(mongo_url, monkeypatch):
    running = start(create_app, make_settings("survey", mongo_url, ratings_per_minute=100000),
                    MemoryBus())
    token = seed_directory(running.client)
    monkeypatch.setattr(ratings_module, "stored_now", lambda: ARRIVED)
    yield running, token
    running.stop()


def set_rule(client, limit: int, minutes: int) -> None:
    r = client.put("/api/v1/units/U1", json={"name": "Phường Một", "rating_burst": {
        "limit": limit, "minutes": minutes}}, headers=ADMIN)
    assert r.status_code == 200, r.get_json()


def body(token: str, run: str, i: int, item: tuple) -> dict:
    seconds, subject, shape = item
    return {"counter_token": token, "official": SUBJECTS[subject], **SHAPES[shape],
            "client_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/{i}")),
            "given_at": (BASE + timedelta(seconds=seconds)).isoformat()}


def post(client, payload: dict, address: str) -> None:
    r = client.post("/api/v1/ratings", json=payload, environ_base={"REMOTE_ADDR": address})
    assert r.status_code in (200, 201), r.get_json()


def expected_states(running, token, run: str, history, address: str, limit: int,
                    minutes: int) -> dict[str, tuple]:
    """What the definition says of each rating of the run: (status, reasons, burst)."""
    ctx = running.app.extensions["survey"]
    key = ctx.key(keys.CLIENT_ADDRESS)
    source = f"a:{domain.client_hash(address, key)}"
    by_subject: dict[str, list[Seen]] = {}
    for i, item in enumerate(history):
        data = body(token, run, i, item)
        seen = Seen(domain.rating_id_for(data["client_id"]), BASE + timedelta(seconds=item[0]),
                    integrity.signature(data["overall"], data.get("factors"),
                                        data.get("comment")))
        by_subject.setdefault(integrity.subject_of(data["official"], "Q1"), []).append(seen)
    states = {}
    for subject, seen in by_subject.items():
        judged = oracle(seen, limit=limit, window=timedelta(minutes=minutes),
                        runs=not subject.startswith("c:"),
                        name_burst=integrity.burst_namer(key, subject, source))
        for rating_id, (burst, identical) in judged.items():
            reasons = integrity.ordered((["burst"] if burst else []) +
                                        (["identical_run"] if identical else []))
            states[rating_id] = ("held" if reasons else "counted", reasons, burst)
    return states


def stored_states(ids) -> dict[str, tuple]:
    docs = Rating._get_collection().find({"_id": {"$in": list(ids)}})
    return {d["_id"]: (d["status"], d["reasons"], d.get("burst")) for d in docs}


def newest_events(running, ids) -> dict[str, tuple]:
    running.runtime.get("survey.relay").flush()
    newest: dict[str, dict] = {}
    for message in unpacked(running.bus.waiting(topology.queue_for("scoring").name)):
        if message.type not in (ev.RATING_SUBMITTED, "rating.status_changed"):
            continue
        data = ev.load_event(message.body).loaded_data()
        if data["id"] in ids and data["status_version"] > newest.get(
                data["id"], {}).get("status_version", -1):
            newest[data["id"]] = data
    return {i: (d["status"], d["reasons"], d["burst"]) for i, d in newest.items()}


histories = st.lists(st.tuples(st.integers(0, 75 * 60), st.integers(0, 2), st.integers(0, 3)),
                     min_size=1, max_size=30)
RUNS = iter(range(10**9))


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories, limit=st.integers(0, 4), minutes=st.sampled_from([5, 10, 30]),
       seed=st.randoms(use_true_random=False))
def test_any_arrival_order_with_repeats_ends_as_the_definition_says(app, history, limit,
                                                                   minutes, seed):
    running, token = app
    client = running.client
    set_rule(client, limit, minutes)
    results = []
    for _ in range(2):
        n = next(RUNS)  # a pair of its own: an address no other run used
        run, address = f"run{n}", f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        order = list(range(len(history)))
        seed.shuffle(order)
        order += seed.sample(order, k=len(order) // 3)  # retries: the same client_id again
        for i in order:
            post(client, body(token, run, i, history[i]), address)
        expected = expected_states(running, token, run, history, address, limit, minutes)
        assert stored_states(expected) == expected
        assert newest_events(running, set(expected)) == expected
        results.append(sorted((s, r) for s, r, _ in expected.values()))
    assert results[0] == results[1]


@pytest.mark.parametrize("seed", range(4))
def test_ratings_of_one_pair_sent_at_once_end_as_if_sent_one_by_one(app, seed):
    running, token = app
    set_rule(running.client, 3, 10)
    rng = random.Random(seed)
    run, address = f"threads{seed}", f"11.9.{seed}.1"
    history = [(rng.randint(0, 40 * 60), rng.choice([0, 0, 2]), rng.choice([0, 0, 1, 2]))
               for _ in range(40)]
    order = list(range(len(history)))
    rng.shuffle(order)
    chunks = [order[k::6] for k in range(6)]
    failures: list[BaseException] = []

    def send(indices):
        client = running.app.test_client()
        try:
            for i in indices:
                post(client, body(token, run, i, history[i]), address)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    expected = expected_states(running, token, run, history, address, 3, 10)
    assert stored_states(expected) == expected
    assert newest_events(running, set(expected)) == expected
