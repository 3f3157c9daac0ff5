"""Events applied in batches count exactly as one by one: batches of random sizes over
duplicated and reordered events (an edited review and its older revision, a rating's
states in any order, in one batch or apart), a crash at every write of a batch then the
batch delivered again, and one bad event isolated by the consumer."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scoring.domain import ScoringConfig
from services.scoring.handlers import make_batch_handler, make_dispatcher
from services.scoring.scores import official_view
from shared import events as ev
from shared.integrity_events import IN_SCORES
from shared.messages import ACK, DEAD_LETTER, handle_batch
from tests.scoring.helpers import rating, review
from tests.scoring.test_exactly_once import (
    PERIODS,
    TZ,
    CrashOnce,
    FakeRefresher,
    events_of,
    expected,
    expected_citizen,
    final_state,
    histories_st,
    ratings_st,
    reset,
    reviews_st,
    scores_of,
    shown_comments,
    state_events,
    store,  # noqa: F401 - the fixture
)


def in_batches(events: list, rng: random.Random) -> list[list]:
    """`events` cut into batches of random sizes (1 to 40)."""
    out, i = [], 0
    while i < len(events):
        n = rng.randint(1, 40)
        out.append(events[i:i + n])
        i += n
    return out


def messy(events: list, rng: random.Random) -> list:
    """Every event, some twice, in any order."""
    out = events + [rng.choice(events) for _ in range(len(events))] if events else []
    rng.shuffle(out)
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratings=ratings_st, reviews=reviews_st, seed=st.integers(0, 10_000))
def test_batches_of_any_size_give_the_clean_scores(store, ratings, reviews, seed):  # noqa: F811
    reviews = list({(r[0], r[1], r[2]): r for r in reviews}.values())
    reset()
    cfg = ScoringConfig()
    apply = make_batch_handler(store=store, tz=TZ, refresher=FakeRefresher())
    rng = random.Random(seed)
    for batch in in_batches(messy(events_of(ratings, reviews), rng), rng):
        apply(batch)
    for (o, p), score in expected(ratings, reviews, cfg).items():
        got = official_view(store, o, p, cfg, TZ, {})
        assert {k: got[k] for k in score} == score, (o, p)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories_st, seed=st.integers(0, 10_000))
def test_states_in_batches_end_in_the_final_states(store, rows, seed):  # noqa: F811
    reset()
    cfg = ScoringConfig()
    apply = make_batch_handler(store=store, tz=TZ, refresher=FakeRefresher())
    rng = random.Random(seed)
    for batch in in_batches(messy(state_events(rows), rng), rng):
        apply(batch)
    for (code, p), citizen in scores_of(store, cfg).items():
        assert citizen == expected_citizen(rows, cfg, code if code != "U1" else None, p)
    assert shown_comments(store) == {f"s{i}" for i, (*_, h) in enumerate(rows)
                                     if final_state(h) in IN_SCORES}


def a_batch() -> list[ev.Event]:
    """Ratings of two officials in two months, an edited review with its older revision,
    a rating and a duplicate of it: several buckets, several rows in each."""
    when = rating().loaded_data()["submitted_at"]
    ratings = [rating("AB"[i % 2], i % 5 + 1, rid=f"b{i}",
                      when=when.replace(month=5 + i % 2), factors={"access": 1 + i % 5})
               for i in range(12)]
    return [*ratings, review("A", reviewer="q" * 20, revision=2),
            review("A", reviewer="q" * 20, revision=1), ratings[3]]


def test_a_crash_at_any_write_of_a_batch_then_redelivery_leaves_the_scores_exact(store):  # noqa: F811
    cfg = ScoringConfig()
    reset()
    make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())  # the reference path
    for e in a_batch():
        make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())(e)
    clean = {(o, p): official_view(store, o, p, cfg, TZ, {}) for o in "AB" for p in PERIODS}
    apply = make_batch_handler(store=store, tz=TZ, refresher=FakeRefresher())
    reset()
    with CrashOnce(10_000) as counter:
        apply(a_batch())
    writes = counter.calls
    # a bucket written once per batch: fewer writes than events × buckets
    assert 1 <= writes < 2 * len(a_batch())
    for n in range(1, writes + 1):
        reset()
        with CrashOnce(n) as crash:
            with pytest.raises(RuntimeError):
                apply(a_batch())
            assert crash.crashed
            apply(a_batch())  # the broker redelivers the batch: none of it was acked
        apply(a_batch()[5:])  # and part of it once more, as duplicates
        for key, want in clean.items():
            assert official_view(store, *key, cfg, TZ, {}) == want, (n, key)


def test_a_bad_event_is_isolated_and_the_rest_of_its_batch_applied(store):  # noqa: F811
    reset()
    cfg = ScoringConfig()
    deps = {"store": store, "tz": TZ, "refresher": FakeRefresher()}
    good = [rating("A", 5, rid=f"g{i}") for i in range(5)]
    bad = review("A", reviewer="q" * 20)
    calls = []

    def one(event):  # the handler fails on the bad event, alone or not
        calls.append(event.id)
        if event.id == bad.id:
            raise ValueError("a handler bug on this event")
        make_dispatcher(**deps)(event)

    def batch(events):
        if any(e.id == bad.id for e in events):
            raise ValueError("a handler bug on this event")
        make_batch_handler(**deps)(events)

    bodies = [(e.to_bytes(), e.id) for e in [*good[:2], bad, *good[2:]]] + [(b"{}", "p")]

    class Never:
        def is_set(self):
            return False

    outcomes = handle_batch(bodies, one, batch, queue="q", healthy=None, stopping=Never())
    assert outcomes == [ACK, ACK, "requeue", ACK, ACK, ACK, DEAD_LETTER]
    assert official_view(store, "A", "2026", cfg, TZ, {})["citizen"]["count"] == 5


def test_a_newer_state_written_between_a_batchs_read_and_write_is_kept(store, monkeypatch):  # noqa: F811
    """Another consumer (a second scoring process) writes a rating's newer state after
    this batch read the bucket and before it writes: the batch's older state of that
    rating must not overwrite it (the bucket's change counter guards the batch's write)."""
    import mongomock.collection

    from tests.scoring.helpers import rated

    reset()
    cfg = ScoringConfig()
    base = rating("A", 5, rid="x")
    older, newer = rated(base, "counted", 1), rated(base, "held", 2)
    other = make_dispatcher(store=store, tz=TZ, refresher=FakeRefresher())
    original = mongomock.collection.Collection.find
    interfered = []

    def find(coll, *args, **kwargs):
        result = list(original(coll, *args, **kwargs))
        if coll.name == "citizen_months" and not interfered:
            interfered.append(True)
            other(newer)  # between the batch's read and its write
        return iter(result)

    monkeypatch.setattr(mongomock.collection.Collection, "find", find)
    make_batch_handler(store=store, tz=TZ, refresher=FakeRefresher())(
        [older, rating("A", 4, rid="y")])
    monkeypatch.setattr(mongomock.collection.Collection, "find", original)
    assert interfered
    citizen = official_view(store, "A", "2026", cfg, TZ, {})["citizen"]
    assert (citizen["count"], citizen["suspect"]) == (1, 1)  # y counted, x held (v2)
