"""Exact scores whatever arrives: duplicates, reorderings, and crashes at every step; a
rating's state at its highest version whatever order its states arrive in, and a rebuild
with the current states giving the same."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import mongomock.collection
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scoring import documents
from services.scoring.domain import (
    CitizenInput,
    ScoringConfig,
    citizen_part,
    official_score,
    rounded,
)
from services.scoring.handlers import make_dispatcher
from services.scoring.scores import official_view, unit_citizen
from services.scoring.store import MongoScoringStore
from shared import db
from shared.integrity_events import COUNTED, HELD, IN_SCORES, STATES
from tests.scoring.helpers import WHEN, closed_window, rated, rating, review

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICIALS = ["A", "B", "C"]
PERIODS = ["2026", "2026-Q2", "2026-Q3", "2026-05", "2026-06", "2026-07"]
MONTH_DATES = {"2026-05": WHEN, "2026-06": WHEN.replace(month=6),
               "2026-07": WHEN.replace(month=7)}


class FakeRefresher:
    def __init__(self):
        self.hints = []

    def hint(self, *ids):
        self.hints.extend(ids)


@pytest.fixture
def store(mongo_url):
    db.connect(mongo_url, alias=documents.ALIAS, default_db="t")
    documents.ensure_indexes()
    return MongoScoringStore()


def reset():
    for doc in documents.DOCUMENTS:
        doc._get_collection().delete_many({})
    # 2026's review window has closed: its peer results are published (the oracle's view)
    closed = closed_window().loaded_data()
    MongoScoringStore().save_window("2026", opens_at=closed["opens_at"],
                                    closes_at=closed["closes_at"], version=1)


ratings_st = st.lists(st.tuples(st.sampled_from(OFFICIALS), st.integers(1, 5),
                                st.sampled_from(sorted(MONTH_DATES)),
                                st.dictionaries(st.sampled_from(["access", "result"]),
                                                st.integers(1, 5), max_size=2)),
                      max_size=25)
reviews_st = st.lists(st.tuples(st.sampled_from("wxyz"), st.sampled_from(OFFICIALS),
                                st.integers(1, 3), st.integers(1, 5)), max_size=15)


def expected(ratings, reviews, cfg):
    """The oracle: the formula applied to the clean data, outside the store."""
    final = {}
    for reviewer, reviewee, rev, value in reviews:
        key = (reviewer, reviewee)
        if key not in final or rev > final[key][0]:
            final[key] = (rev, value)
    out = {}
    for o in OFFICIALS:
        for p in PERIODS:
            rs = [CitizenInput(v, f) for off, v, m, f in ratings if (off == o and m.startswith(p))
                  or (off == o and p in (m[:4], f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}"))]
            revs = [dict.fromkeys(("discipline", "conduct", "ethics", "dress", "participation"),
                                  value) for (_, reviewee), (_, value) in final.items()
                    if reviewee == o]
            out[(o, p)] = rounded(official_score(rs, revs, cfg))
    return out


def events_of(ratings, reviews):
    evs = [rating(o, v, when=MONTH_DATES[m], factors=f, rid=f"r{i}")
           for i, (o, v, m, f) in enumerate(ratings)]
    # a reviewer's revisions of one review: same id, later revision wins
    seen_rev = {}
    for reviewer, reviewee, rev, value in reviews:
        key = (reviewer, reviewee)
        if seen_rev.get(key) == rev:
            continue  # one content per (review, revision), as survey produces
        seen_rev[key] = rev
        evs.append(review(reviewee, reviewer=reviewer * 20, revision=rev,
                          scores=dict.fromkeys(("discipline", "conduct", "ethics", "dress",
                                                "participation"), value)))
    return evs


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratings=ratings_st, reviews=reviews_st, seed=st.integers(0, 10_000))
def test_duplicates_and_reorderings_give_the_clean_scores(store, ratings, reviews, seed):
    # keep only the last content of each (review, revision) so the oracle agrees
    dedup = {}
    for r in reviews:
        dedup[(r[0], r[1], r[2])] = r
    reviews = list(dedup.values())
    reset()
    cfg = ScoringConfig()
    dispatch = make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())
    events = events_of(ratings, reviews)
    rng = random.Random(seed)
    messy = events + [rng.choice(events) for _ in range(len(events))] if events else []
    rng.shuffle(messy)
    for e in messy:
        dispatch(e)
    want = expected(ratings, reviews, cfg)
    for (o, p), score in want.items():
        got = official_view(store, o, p, cfg, TZ, {})
        assert {k: got[k] for k in score} == score, (o, p)


class CrashOnce:
    """Make the n-th database write of a block raise, as a process dying there would."""

    def __init__(self, n: int):
        self.n = n
        self.calls = 0
        self.crashed = False
        self.original = mongomock.collection.Collection.update_one

    def __enter__(self):
        crash = self

        def update_one(coll, *args, **kwargs):
            crash.calls += 1
            if crash.calls == crash.n and not crash.crashed:
                crash.crashed = True
                raise RuntimeError(f"crash at write {crash.n}")
            return crash.original(coll, *args, **kwargs)

        mongomock.collection.Collection.update_one = update_one
        return self

    def __exit__(self, *exc):
        mongomock.collection.Collection.update_one = self.original


@pytest.mark.parametrize("event_factory", [
    lambda: rating("A", 4, factors={"access": 3}, rid="fixed-rating"),
    lambda: review("A", reviewer="q" * 20, revision=2),
])
def test_a_crash_at_any_write_then_redelivery_leaves_the_score_exact(store, event_factory):
    cfg = ScoringConfig()
    dispatch = make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())
    # the clean result, for comparison
    reset()
    dispatch(event_factory())
    clean = {p: official_view(store, "A", p, cfg, TZ, {}) for p in PERIODS}
    reset()
    with CrashOnce(10_000) as counter:
        dispatch(event_factory())
    writes = counter.calls
    assert writes >= 1
    for n in range(1, writes + 1):
        reset()
        with CrashOnce(n) as crash:
            with pytest.raises(RuntimeError):
                dispatch(event_factory())
            assert crash.crashed
            dispatch(event_factory())  # the broker redelivers: the message was not acked
        dispatch(event_factory())  # and once more, as a duplicate
        for p in PERIODS:
            assert official_view(store, "A", p, cfg, TZ, {}) == clean[p], (n, p)


def test_a_crash_inside_the_refresher_loses_no_update(store):
    from services.scoring.scores import Refresher

    class Relay:
        def __init__(self):
            self.notified = []

        def notify(self, collection, key):
            self.notified.append(key)

    relay = Relay()
    refresher = Refresher(store, relay, tz=TZ)
    dispatch = make_dispatcher(store=store, tz=TZ, refresher=refresher)
    dispatch(rating("A", 5))
    with CrashOnce(2), pytest.raises(RuntimeError):
        refresher.run_once()  # dies after saving one score, before clearing the marks
    assert store.dirty_buckets(None)  # the marks are still there
    refresher.run_once(full_scan=True)  # the next pass (after a restart: the scan)
    assert store.dirty_buckets(None) == []
    stored = store.stored_scores(["o:A|2026", "o:A|2026-Q2", "o:A|2026-05"])
    assert {k: v["score"]["citizen"]["count"] for k, v in stored.items()} == {
        "o:A|2026": 1, "o:A|2026-Q2": 1, "o:A|2026-05": 1}


# --- held ratings: random state histories ----------------------------------------------

# a rating's history: None (stored before states: counted, version 0 only), or its states
# at versions 1, 2, ... (any sequence: scoring keeps the highest version, whatever it is)
histories_st = st.lists(st.tuples(
    st.sampled_from(OFFICIALS), st.integers(1, 5), st.sampled_from(sorted(MONTH_DATES)),
    st.none() | st.lists(st.sampled_from(STATES), min_size=1, max_size=4)), max_size=20)


def final_state(history) -> str:
    return COUNTED if history is None else history[-1]


def expected_citizen(rows, cfg, official: str | None, period: str) -> dict:
    """The oracle: the ratings of the period whose final state counts, by the formula;
    `suspect`, those whose final state is held (each rating of `rows` once)."""
    mine = [(v, h) for off, v, m, h in rows if official in (None, off)
            and period in (m, m[:4], f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}")]
    counted = [CitizenInput(v, {}) for v, h in mine if final_state(h) in IN_SCORES]
    figures = rounded(citizen_part(counted, cfg))
    return {**figures, "suspect": sum(1 for _, h in mine if final_state(h) == HELD)}


def state_events(rows):
    """Every event survey may send of each rating: its first state in `rating.submitted`,
    every later one in `rating.status_changed`; a rating of before states, and some old
    events, as `rating.submitted` without a state (version 0)."""
    out = []
    for i, (o, v, m, history) in enumerate(rows):
        base = rating(o, v, when=MONTH_DATES[m], rid=f"s{i}", comment=f"c{i}")
        if history is None:
            out.append(base)
            continue
        out.extend(rated(base, status, n) for n, status in enumerate(history, start=1))
        if i % 3 == 0:
            out.append(base)  # an event of before states arriving late: version 0
    return out


def replay_events(rows):
    """A rebuild: each rating once, in `rating.submitted`, as it stands."""
    bases = [rating(o, v, when=MONTH_DATES[m], rid=f"s{i}", comment=f"c{i}")
             for i, (o, v, m, _) in enumerate(rows)]
    return [b if h is None else rated(b, h[-1], len(h), changed=False)
            for b, (*_, h) in zip(bases, rows, strict=True)]


def scores_of(store, cfg) -> dict:
    out = {}
    for p in PERIODS:
        for o in OFFICIALS:
            out[(o, p)] = official_view(store, o, p, cfg, TZ, {})["citizen"]
        out[("U1", p)] = rounded(unit_citizen(store, "U1", p, cfg)[1])
    return out


def shown_comments(store) -> set[str]:
    start = MONTH_DATES["2026-05"] - timedelta(days=60)
    return {c["_id"] for c in store.latest_comments(
        units=["U1"], start=start, end=start + timedelta(days=180), limit=1000)}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories_st, seed=st.integers(0, 10_000))
def test_any_order_of_states_and_redeliveries_and_a_rebuild_give_the_final_states(
        store, rows, seed):
    reset()
    cfg = ScoringConfig()
    dispatch = make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())
    events = state_events(rows)
    rng = random.Random(seed)
    messy = events + [rng.choice(events) for _ in range(len(events))] if events else []
    rng.shuffle(messy)
    for e in messy:
        dispatch(e)
    got = scores_of(store, cfg)
    for (code, p), citizen in got.items():
        assert citizen == expected_citizen(rows, cfg, code if code != "U1" else None, p)
    comments = {f"s{i}" for i, (*_, h) in enumerate(rows) if final_state(h) in IN_SCORES}
    assert shown_comments(store) == comments
    # a rebuild: wiped, then each rating replayed once with its current state
    for doc in (documents.CitizenMonth, documents.RatingComment):
        doc._get_collection().delete_many({})
    for e in replay_events(rows):
        dispatch(e)
    assert scores_of(store, cfg) == got
    assert shown_comments(store) == comments
