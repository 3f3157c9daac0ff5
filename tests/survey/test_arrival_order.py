"""Ratings of one pair (official, address) stored within one millisecond keep the order
they arrived in, so none of them sends the pair to be judged again from the store (the
slow path that scanned every rating of the pair, a stuffer's load at its worst)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devkit.apps import rating_body
from services.survey import holds
from services.survey import ratings as ratings_module
from services.survey.documents import Rating

STUCK = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 09:00 local on a Tuesday


def given_at(rating_id: str) -> datetime:
    return Rating._get_collection().find_one({"_id": rating_id})["given_at"].replace(
        tzinfo=UTC)


def test_one_pairs_ratings_in_one_millisecond_keep_their_order(client, token, monkeypatch):
    now = [STUCK]
    monkeypatch.setattr(ratings_module, "stored_now", lambda: now[0])
    judged_again = []
    settle = holds.settle
    monkeypatch.setattr(holds, "settle", lambda *a, **k: judged_again.append(a) or
                        settle(*a, **k))

    def post(address: str = "10.0.0.7") -> str:
        r = client.post("/api/v1/ratings", json=rating_body(token),
                        environ_base={"REMOTE_ADDR": address})
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    same_ms = [post() for _ in range(6)]
    ms = timedelta(milliseconds=1)
    assert [given_at(i) for i in same_ms] == [STUCK + k * ms for k in range(6)]
    assert judged_again == []
    # another address is another pair: its own time, not moved by the first pair's
    assert given_at(post("10.0.0.8")) == STUCK
    # the clock moving on is followed; a clock set back by more than a second too
    now[0] = STUCK + timedelta(seconds=5)
    assert given_at(post()) == STUCK + timedelta(seconds=5)
    now[0] = STUCK - timedelta(hours=1)
    assert given_at(post()) == STUCK - timedelta(hours=1)


def test_pairs_sharing_a_lock_keep_their_own_times(monkeypatch):
    monkeypatch.setattr(ratings_module, "stored_now", lambda: STUCK)
    monkeypatch.setattr(ratings_module, "_LAST_ARRIVED", [None] * 64)
    arrive = ratings_module._arrival
    assert [arrive(("o:CB1|a:x", 3)), arrive(("o:CB1|a:x", 3)), arrive(("o:CB2|a:y", 3)),
            arrive(("o:CB1|a:x", 3)), arrive(None)] == \
        [STUCK, STUCK + timedelta(milliseconds=1), STUCK, STUCK, STUCK]
