"""score.updated leaves through the outbox when a score changes; the parameters change it."""

from __future__ import annotations

import time

import pytest

from devkit.apps import ADMIN, queued_events
from shared import events as ev
from shared import topology
from tests.conftest import wait_for
from tests.scoring.helpers import deliver, official, rating, unit

CONFIG = {"citizen_weight": 0.5, "peer_weight": 0.5, "prior_weight": 10, "prior_rate": 0.8,
          "min_peer_reviewers": 3}


def score_events(scoring):
    return queued_events(scoring, topology.queue_for("notify").name, ev.SCORE_UPDATED)


def latest(scoring, scope, subject, period):
    found = [e for e in score_events(scoring) if e.data["scope"] == scope
             and e.data["period"] == period
             and (e.data["official"] if scope == "official" else e.data["unit"]) == subject]
    return found[-1].data["score"] if found else None


def test_score_updated_is_published_for_official_and_unit(scoring):
    deliver(scoring, unit("U1"), official("CB1"), rating("CB1", 5))
    s = wait_for(lambda: latest(scoring, "official", "CB1", "2026-05"), message="score.updated")
    assert s["citizen"]["count"] == 1 and s["conduct_index"] == 81.82
    assert latest(scoring, "official", "CB1", "2026")["citizen"]["count"] == 1
    u = wait_for(lambda: latest(scoring, "unit", "U1", "2026"), message="unit score.updated")
    assert u["citizen"]["satisfaction_rate"] == 100.0
    deliver(scoring, rating("CB1", 1))
    wait_for(lambda: latest(scoring, "official", "CB1", "2026")["citizen"]["count"] == 2)
    assert latest(scoring, "unit", "U1", "2026-Q2") is not None


def test_an_unchanged_score_is_not_published_again(scoring):
    event = rating("CB1", 5)
    deliver(scoring, official("CB1"), event)
    wait_for(lambda: latest(scoring, "official", "CB1", "2026"))
    scoring.runtime.get("scoring.refresher").run_once(full_scan=True)
    scoring.runtime.get("scoring.relay").flush()
    count = len(score_events(scoring))
    assert count > 0
    deliver(scoring, event)  # a redelivery changes nothing
    scoring.runtime.get("scoring.refresher").run_once(full_scan=True)
    scoring.runtime.get("scoring.relay").flush()
    assert len(score_events(scoring)) == count


def test_config_change_applies_to_reads_and_republishes(scoring):
    deliver(scoring, official("CB1"), rating("CB1", 5))
    wait_for(lambda: latest(scoring, "official", "CB1", "2026"))
    r = scoring.client.put("/api/v1/scoring/config", headers=ADMIN,
                           json={**CONFIG, "prior_weight": 0})
    assert r.status_code == 200 and r.get_json()["version"] == 1
    body = scoring.client.get("/api/v1/scores/officials/CB1?period=2026", headers=ADMIN).get_json()
    assert body["citizen"]["index"] == 100.0
    wait_for(lambda: latest(scoring, "official", "CB1", "2026")["citizen"]["index"] == 100.0,
             message="recomputed score published")
    assert scoring.client.get("/api/v1/scoring/config",
                              headers=ADMIN).get_json()["prior_weight"] == 0


def test_a_config_saved_by_another_process_is_applied_and_republished(scoring):
    """With several workers the PUT may land in a worker that does not run the refresher:
    the save marks every bucket in the database, where the refresher's scan finds them."""
    from services.scoring.domain import ScoringConfig

    deliver(scoring, official("CB1"), rating("CB1", 5))
    wait_for(lambda: latest(scoring, "official", "CB1", "2026"))
    store = scoring.app.extensions["scoring"].store
    store.save_config(ScoringConfig(**{**CONFIG, "prior_weight": 0}))  # no in-process hint
    wait_for(lambda: latest(scoring, "official", "CB1", "2026")["citizen"]["index"] == 100.0,
             timeout=15, message="recomputed after another process saved the config")


def test_a_publishing_hold_keeps_passing_states_back_and_publishes_the_final_once(scoring):
    """A rebuild replays history: 5, then 1, 1, 1. Held, notify never sees the 5 alone
    (a state that would look like a recovery, then a fresh fall); released, each score is
    published once, at its final value."""
    refresher = scoring.runtime.get("scoring.refresher")
    r = scoring.client.put("/api/v1/scoring/hold", json={"seconds": 60}, headers=ADMIN)
    assert r.status_code == 200 and r.get_json()["publishing_held_until"]
    deliver(scoring, unit("U1"), official("CB1"), rating("CB1", 5))
    refresher.run_once(full_scan=True)
    deliver(scoring, rating("CB1", 1), rating("CB1", 1), rating("CB1", 1))
    refresher.run_once(full_scan=True)
    assert score_events(scoring) == []
    status = scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()
    assert status["publishing_held_until"] is not None
    # reads are live throughout
    body = scoring.client.get("/api/v1/scores/officials/CB1?period=2026",
                              headers=ADMIN).get_json()
    assert body["citizen"]["count"] == 4

    assert scoring.client.delete("/api/v1/scoring/hold", headers=ADMIN).status_code == 204
    wait_for(lambda: latest(scoring, "official", "CB1", "2026"), timeout=15,
             message="published after the hold")
    scoring.runtime.get("scoring.relay").flush()
    counts = {}
    for e in score_events(scoring):
        key = (e.data["scope"], e.data["official"] or e.data["unit"], e.data["period"])
        counts[key] = counts.get(key, 0) + 1
        assert e.data["score"]["citizen"]["count"] == 4
    assert set(counts.values()) == {1}
    assert {k[2] for k in counts if k[0] == "official"} == {"2026", "2026-Q2", "2026-05"}


def status(scoring) -> dict:
    return scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()


def test_caught_up_after_a_hold_though_ratings_keep_coming(scoring):
    """What `rebuild` waits for: the scores changed during the hold derived. Not "no
    bucket marked at all", which a steady flow of ratings never gives."""
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()  # passes run here, one at a time
    scoring.client.put("/api/v1/scoring/hold", json={"seconds": 60}, headers=ADMIN)
    deliver(scoring, unit("U1"), official("CB1"), official("CB2"), rating("CB1", 5))
    assert status(scoring)["catching_up_after_hold"] is False  # held, not ended
    time.sleep(0.002)  # a mark in the release's own millisecond counts as after it
    assert scoring.client.delete("/api/v1/scoring/hold", headers=ADMIN).status_code == 204
    s = status(scoring)
    assert s["publishing_held_until"] is None and s["catching_up_after_hold"] is True
    deliver(scoring, rating("CB2", 4))  # live traffic meanwhile
    refresher.run_once()
    deliver(scoring, rating("CB2", 3))  # and after
    s = status(scoring)
    assert s["catching_up_after_hold"] is False and s["pending_recomputes"] > 0
    scoring.runtime.get("scoring.relay").flush()
    assert latest(scoring, "official", "CB1", "2026")["citizen"]["count"] == 1


def test_caught_up_after_a_hold_though_ratings_keep_coming_into_the_same_bucket(
        scoring, monkeypatch):
    """A bucket marked before the release gets another rating while the refresher derives
    it: the mark stays (that rating is not derived yet), but as live traffic, marked from
    that pass on, so the catching up ends; the next pass derives the rating."""
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()
    store = refresher._store
    scoring.client.put("/api/v1/scoring/hold", json={"seconds": 60}, headers=ADMIN)
    deliver(scoring, unit("U1"), official("CB1"), rating("CB1", 5))
    # marks and the release are kept to the millisecond: one made in the release's own
    # millisecond counts as after it (the batched consumer can get there that fast)
    time.sleep(0.002)
    scoring.client.delete("/api/v1/scoring/hold", headers=ADMIN)
    assert status(scoring)["catching_up_after_hold"] is True
    original = store.dirty_buckets

    def a_rating_arrives_meanwhile(*args, **kwargs):
        read = original(*args, **kwargs)
        deliver(scoring, rating("CB1", 4))  # same official, same month: same bucket
        return read

    monkeypatch.setattr(store, "dirty_buckets", a_rating_arrives_meanwhile)
    refresher.run_once()
    monkeypatch.undo()
    s = status(scoring)
    assert s["catching_up_after_hold"] is False and s["pending_recomputes"] > 0
    refresher.run_once(full_scan=True)
    assert status(scoring)["pending_recomputes"] == 0
    scoring.runtime.get("scoring.relay").flush()
    assert latest(scoring, "official", "CB1", "2026-05")["citizen"]["count"] == 2


def test_a_hold_that_runs_out_ends_like_a_released_one(scoring):
    """Its holder died without ending it: once it runs out, what changed is published,
    and the catching up ends when what changed before its end is derived."""
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()
    scoring.client.put("/api/v1/scoring/hold", json={"seconds": 1}, headers=ADMIN)
    deliver(scoring, unit("U1"), official("CB1"), rating("CB1", 5))
    assert status(scoring)["catching_up_after_hold"] is False  # held, not ended
    wait_for(lambda: status(scoring)["publishing_held_until"] is None, timeout=5)
    assert status(scoring)["catching_up_after_hold"] is True  # its holder never ended it
    assert refresher.run_once(full_scan=True) > 0
    assert status(scoring)["catching_up_after_hold"] is False
    wait_for(lambda: latest(scoring, "official", "CB1", "2026"), message="published")
    assert latest(scoring, "official", "CB1", "2026")["citizen"]["count"] == 1


@pytest.mark.parametrize("body", [{"seconds": 0}, {"seconds": 86401}, {"seconds": "60"},
                                  {"seconds": 60, "x": 1}, {}])
def test_a_bad_hold_is_422(scoring, body):
    r = scoring.client.put("/api/v1/scoring/hold", json=body, headers=ADMIN)
    assert r.status_code == 422
    status = scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()
    assert status["publishing_held_until"] is None


@pytest.mark.parametrize("changes, field", [
    ({"citizen_weight": 0, "peer_weight": 0}, "citizen_weight"),
    ({"citizen_weight": -1}, "citizen_weight"),
    ({"prior_rate": 1.5}, "prior_rate"),
    ({"min_peer_reviewers": 0}, "min_peer_reviewers"),
    ({"min_peer_reviewers": 2}, "min_peer_reviewers"),  # one review could be read off
    ({"min_peer_reviewers": 2.5}, "min_peer_reviewers"),
    ({"min_peer_reviewers": True}, "min_peer_reviewers"),
    ({"prior_weight": "ten"}, "prior_weight"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_config_is_422_and_changes_nothing(scoring, changes, field):
    r = scoring.client.put("/api/v1/scoring/config", headers=ADMIN, json={**CONFIG, **changes})
    assert r.status_code == 422 and field in r.get_json()["errors"]
    assert scoring.client.get("/api/v1/scoring/config", headers=ADMIN).get_json()["version"] == 0


def test_config_needs_every_field_and_the_admin(scoring):
    r = scoring.client.put("/api/v1/scoring/config", headers=ADMIN, json={"prior_rate": 0.5})
    assert r.status_code == 422
    assert scoring.client.put("/api/v1/scoring/config", json=CONFIG).status_code == 401
