"""The score refresher is crash-safe: what it has not derived stays marked in the database,
so a refresher that starts afresh (after a crash, or in another worker) finishes it."""

from __future__ import annotations

import time

import pytest

from devkit.apps import ADMIN
from services.scoring.scores import Refresher
from tests.conftest import wait_for
from tests.scoring.helpers import WHEN, deliver, official, rating, review, unit
from tests.scoring.test_score_updates_and_config import CONFIG, latest, score_events

OFFICIALS = ("A", "B", "C")
PERIODS = ("2026", "2026-Q2", "2026-05")


class Killed(Exception):
    """The process died here."""


class DiesAfterSaves:
    """The store of a process that dies (SIGKILL) after `n` more scores are saved."""

    def __init__(self, store, n: int):
        self._store, self.left = store, n

    def __getattr__(self, name):
        return getattr(self._store, name)

    def save_score(self, *args, **kwargs):
        if self.left == 0:
            raise Killed
        self.left -= 1
        return self._store.save_score(*args, **kwargs)


def published(scoring) -> dict:
    """The last published score of every official and unit and period."""
    scoring.runtime.get("scoring.relay").flush()
    out = {}
    for e in score_events(scoring):
        d = e.data
        out[(d["scope"], d["official"] or d["unit"], d["period"])] = d["score"]
    return out


def test_a_recompute_cut_short_by_a_crash_is_finished_by_the_next_refresher(scoring):
    """A configuration change, then the process dies after saving two of the scores it
    changes: the refresher of the restarted process, which remembers nothing, publishes
    every changed score (before: it never did, the scores stayed as they were)."""
    deliver(scoring, unit("U1"), *[official(o) for o in OFFICIALS],
            *[rating(o, 5) for o in OFFICIALS for _ in range(2)])
    running = scoring.runtime.get("scoring.refresher")
    wait_for(lambda: len(published(scoring)) == 3 * len(OFFICIALS) + 3,
             message="every score published once")
    running.stop()  # from here on, passes run in this test, one at a time
    store = scoring.app.extensions["scoring"].store
    relay = scoring.runtime.get("scoring.relay")
    dying = Refresher(DiesAfterSaves(store, 2), relay, tz=scoring.settings.tz)
    dying.run_once(full_scan=True)  # up to date: nothing to do

    assert scoring.client.put("/api/v1/scoring/config", headers=ADMIN,
                              json={**CONFIG, "prior_weight": 0}).status_code == 200
    with pytest.raises(Killed):
        dying.run_once(full_scan=True)

    restarted = Refresher(store, relay, tz=scoring.settings.tz)  # a new process: nothing in memory
    restarted.run_once(full_scan=True)
    scores = published(scoring)
    for o in OFFICIALS:
        for p in PERIODS:
            assert scores[("official", o, p)]["citizen"]["index"] == 100.0, (o, p)
    for p in PERIODS:
        assert scores[("unit", "U1", p)]["citizen"]["index"] == 100.0, p
    assert scoring.client.get("/api/v1/scoring/status",
                              headers=ADMIN).get_json()["pending_recomputes"] == 0


def test_a_configuration_saved_by_a_process_that_died_before_marking_is_applied(
        scoring, monkeypatch):
    """The process saving a configuration dies between its two writes (the parameters,
    then the marks): the refresher's scan sees the version ahead of the marks and marks."""
    from services.scoring.domain import ScoringConfig

    refresher = scoring.runtime.get("scoring.refresher")
    deliver(scoring, official("A"), rating("A", 5))
    wait_for(lambda: latest(scoring, "official", "A", "2026"))
    refresher.stop()
    store = scoring.app.extensions["scoring"].store

    def dies():
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(store, "mark_all", dies)
        with pytest.raises(Killed):
            store.save_config(ScoringConfig(**{**CONFIG, "prior_weight": 0}))
    assert store.dirty_count() == 0
    Refresher(store, scoring.runtime.get("scoring.relay"),
              tz=scoring.settings.tz).run_once(full_scan=True)
    assert published(scoring)[("official", "A", "2026")]["citizen"]["index"] == 100.0


def test_a_rating_applied_while_its_bucket_is_derived_is_derived_too(scoring, monkeypatch):
    """A rating lands in a bucket between the refresher reading it and clearing its mark,
    in the same millisecond as the mark it read (stored times have milliseconds): the
    bucket stays marked and the next pass counts the rating (before: the mark was cleared
    by its time and the rating never reached the stored score)."""
    import services.scoring.store as store_module

    class Frozen:
        @staticmethod
        def now(tz=None):
            return WHEN

    monkeypatch.setattr(store_module, "datetime", Frozen)
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()
    store = scoring.app.extensions["scoring"].store
    deliver(scoring, official("A"), rating("A", 5))
    clean = store.mark_clean
    arrived = []

    def a_rating_arrives_first(*args, **kwargs):
        if not arrived:
            arrived.append(True)
            deliver(scoring, rating("A", 1))
        return clean(*args, **kwargs)

    monkeypatch.setattr(store, "mark_clean", a_rating_arrives_first)
    refresher.run_once(full_scan=True)
    assert arrived and store.dirty_count() > 0
    refresher.run_once(full_scan=True)
    assert store.dirty_count() == 0
    assert published(scoring)[("official", "A", "2026")]["citizen"]["count"] == 2


def test_a_hold_defers_deriving_until_it_ends_then_derives_and_publishes_once(scoring):
    """While a hold lasts (a rebuild) the running refresher derives nothing: the buckets
    stay marked (`pending_recomputes`), no stored score moves and notify hears nothing.
    Released, each score is derived at its final value and published once."""
    store = scoring.app.extensions["scoring"].store
    scoring.client.put("/api/v1/scoring/hold", json={"seconds": 60}, headers=ADMIN)
    deliver(scoring, unit("U1"), official("A"), rating("A", 5))
    deliver(scoring, rating("A", 2), *[review("A", reviewer=r * 20) for r in "xyz"])
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.scan_soon()  # woken, held: it looks and leaves the marks
    time.sleep(1.5)  # three hinted intervals, and a scan
    status = scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()
    assert status["pending_recomputes"] > 0 and status["publishing_held_until"]
    assert store.stored_scores(["o:A|2026"]) == {}
    assert published(scoring) == {}
    # the API reads the data itself, held or not
    live = scoring.client.get("/api/v1/scores/officials/A?period=2026", headers=ADMIN).get_json()
    assert live["citizen"]["count"] == 2

    scoring.client.delete("/api/v1/scoring/hold", headers=ADMIN)
    wait_for(lambda: not scoring.client.get("/api/v1/scoring/status", headers=ADMIN)
             .get_json()["catching_up_after_hold"], message="derived after the hold")
    scores = wait_for(lambda: published(scoring).get(("official", "A", "2026")),
                      message="published after the hold")
    assert scores["citizen"]["count"] == 2 and scores["peer"]["count"] == 3
    assert len([e for e in score_events(scoring)
                if (e.data["official"], e.data["period"]) == ("A", "2026")]) == 1


def test_an_explicit_pass_derives_during_a_hold_and_publishes_after(scoring):
    """`run_once` (an operator's pass) derives regardless of a hold; the outbox keeps the
    results back until it ends, so nothing is left to derive then."""
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()
    store = scoring.app.extensions["scoring"].store
    scoring.client.put("/api/v1/scoring/hold", json={"seconds": 60}, headers=ADMIN)
    deliver(scoring, unit("U1"), official("A"), rating("A", 5), rating("A", 2),
            *[review("A", reviewer=r * 20) for r in "xyz"])
    assert refresher.run_once(full_scan=True) > 0
    status = scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()
    assert status["pending_recomputes"] == 0 and status["publishing_held_until"]
    assert store.stored_scores(["o:A|2026"])["o:A|2026"]["score"]["peer"]["count"] == 3
    assert published(scoring) == {}

    scoring.client.delete("/api/v1/scoring/hold", headers=ADMIN)
    status = scoring.client.get("/api/v1/scoring/status", headers=ADMIN).get_json()
    assert status["catching_up_after_hold"] is False  # derived already, during the hold
    scores = wait_for(lambda: published(scoring), message="published after the hold")
    assert scores[("official", "A", "2026")]["citizen"]["count"] == 2


def test_buckets_marked_by_the_previous_release_are_derived_after_the_upgrade(scoring):
    """The previous release marked a bucket with `dirty_at` (sparse index `dirty_at_1`)."""
    from services.scoring import documents

    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()
    store = scoring.app.extensions["scoring"].store
    deliver(scoring, official("A"), rating("A", 5))
    coll = documents.CitizenMonth._get_collection()
    coll.update_many({}, {"$rename": {"dirty_since": "dirty_at"}, "$unset": {"changes": ""}})
    coll.create_index("dirty_at", sparse=True, name="dirty_at_1")
    assert store.dirty_count() == 0
    documents.ensure_indexes()  # at start
    assert "dirty_at_1" not in coll.index_information() and store.dirty_count() == 2
    refresher.run_once(full_scan=True)
    assert store.dirty_count() == 0
    assert published(scoring)[("official", "A", "2026")]["citizen"]["count"] == 1


def test_after_a_long_pass_the_refresher_waits_twice_its_time_up_to_a_cap(scoring, monkeypatch):
    """While ratings keep coming, deriving takes at most a third of the time: a pass of
    0.2 s is followed by at least 0.4 s for hints to gather (a short one by the interval)."""
    refresher = scoring.runtime.get("scoring.refresher")
    refresher.stop()

    def slow_pass(full_scan):
        time.sleep(0.2)
        return 1, True, False

    monkeypatch.setattr(refresher, "_pass", slow_pass)
    assert refresher._step() >= 0.4
    from services.scoring import scores

    monkeypatch.setattr(scores, "PACE_CAP", 0.3)  # a long catch-up holds back no alert long
    monkeypatch.setattr(refresher, "_interval", 0.1)
    assert refresher._step() == 0.3
    monkeypatch.setattr(refresher, "_pass", lambda full_scan: (1, True, False))
    assert refresher._step() == refresher._interval
