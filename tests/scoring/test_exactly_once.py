"""Exact scores whatever arrives: duplicates, reorderings, and crashes at every step."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import mongomock.collection
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scoring import documents
from services.scoring.domain import CitizenInput, ScoringConfig, official_score, rounded
from services.scoring.handlers import make_dispatcher
from services.scoring.scores import official_view
from services.scoring.store import MongoScoringStore
from shared import db
from tests.scoring.helpers import WHEN, closed_window, rating, review

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
