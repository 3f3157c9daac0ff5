"""The rules of held ratings, pure (services/survey/integrity.py): each reason at its
edges, ties, holidays, grace, and the incremental sweep against the definition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.survey import integrity
from services.survey.integrity import BurstRule, Seen, sweep
from shared.integrity_events import ACCEPTED, COUNTED, HELD, REJECTED
from tests.survey.held_oracle import oracle

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Hà Nội
MIN = timedelta(minutes=1)
HOURS = {"days": [1, 2, 3, 4, 5], "opens": "07:30", "closes": "17:00"}


def name(seen: Seen) -> str:
    return f"burst-from-{seen.id}"


def judge(history: list[Seen], limit: int = 10, window: timedelta = integrity.WINDOW,
          runs: bool = True) -> dict[str, tuple[str | None, bool]]:
    order = sorted(history, key=lambda s: s.key)
    return {v.id: (v.burst, v.identical) for v in sweep(
        [], None, order, rule=BurstRule(limit, window), runs=runs, name_burst=name)}


def at(minutes: float, rating_id: str | None = None, signature: str | None = None) -> Seen:
    moment = T0 + timedelta(minutes=minutes)
    return Seen(rating_id or f"r{minutes:08.3f}", moment, signature)


def held(result) -> list[str]:
    return sorted(i for i, (burst, _) in result.items() if burst)


# --- burst ----------------------------------------------------------------------------


def test_the_eleventh_within_thirty_minutes_is_held_and_the_first_ten_count():
    history = [at(i * 2) for i in range(11)]  # 0 … 20 minutes
    result = judge(history)
    assert held(result) == [history[10].id]
    assert not held(judge(history[:10]))


def test_a_rating_exactly_one_window_earlier_is_out_of_the_window():
    history = [at(0)] + [at(20 + i * 0.5) for i in range(9)] + [at(30)]
    assert held(judge(history)) == []  # (0, 30] leaves out the one at 0: ten in all
    nudged = [at(0.001, "r-early"), *history[1:]]
    assert held(judge(nudged)) == [history[-1].id]


def test_ties_are_ordered_by_id():
    same = [Seen(f"id{i:02d}", T0) for i in range(12)]
    assert held(judge(same)) == ["id10", "id11"]


def test_held_ratings_count_so_a_stuffer_stays_held():
    history = [at(i * 0.25) for i in range(200)]  # four a minute for 50 minutes
    result = judge(history)
    assert len(held(result)) == 190


def test_limit_zero_turns_the_burst_rule_off():
    assert held(judge([at(i * 0.1) for i in range(50)], limit=0)) == []


def test_a_burst_goes_on_while_held_ratings_are_at_most_a_window_apart():
    ten = timedelta(minutes=10)
    first = [at(0, "a0"), at(1, "a1")]  # limit 1: the second is held
    for gap, same in ((10, True), (10.001, False)):
        later = [at(1 + gap, "b0"), at(1 + gap, "b1")]  # tied: b1 is the second
        result = judge(first + later, limit=1, window=ten)
        assert held(result) == ["a1", "b1"]
        assert result["a1"][0] == name(first[1])
        assert (result["b1"][0] == name(first[1])) is same
        assert result["b1"][0] == name(later[1]) or same


def test_a_unit_sets_its_own_limit_and_window():
    rule = integrity.burst_rule({"limit": 3, "minutes": 5}, default_limit=10)
    assert rule == BurstRule(3, timedelta(minutes=5))
    assert integrity.burst_rule(None, 10) == BurstRule(10, timedelta(minutes=30))
    assert held(judge([at(i) for i in range(4)], limit=3, window=rule.window)) == [at(3).id]
    assert held(judge([at(i * 2) for i in range(4)], limit=3, window=rule.window)) == []


# --- identical runs -------------------------------------------------------------------


def top(minutes: float, factors=None, comment=None, overall=5) -> Seen:
    return at(minutes, signature=integrity.signature(overall, factors, comment))


def identical(result) -> list[str]:
    return sorted(i for i, (_, same) in result.items() if same)


def test_the_fifth_identical_top_rating_within_two_minutes_each_is_held():
    run = [top(i * 2) for i in range(6)]  # exactly 2 minutes apart: one run
    assert identical(judge(run, limit=0)) == sorted(s.id for s in run[4:])
    assert identical(judge(run[:4], limit=0)) == []


def test_a_gap_over_two_minutes_ends_the_run():
    run = [top(i * 2) for i in range(4)] + [top(6.001 + i * 2) for i in range(1, 5)]
    assert identical(judge(run, limit=0)) == []


@pytest.mark.parametrize("breaker", [top(7, comment="tốt"), top(7, {"access": 4}),
                                     top(7, overall=4)])
def test_a_comment_other_factors_or_a_4_ends_the_run(breaker):
    run = [top(i * 2) for i in range(4)] + [breaker] + [top(8 + i) for i in range(5)]
    result = judge(run, limit=0)
    assert identical(result) == [run[-1].id]  # a new run from 8: its 5th is at 12


def test_identical_runs_need_an_official():
    run = [top(i) for i in range(8)]
    assert identical(judge(run, limit=0, runs=False)) == []


# --- opening hours, holidays, receipts, clocks ----------------------------------------


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize("moment, outside", [
    ("2026-03-03 07:15:00", False),   # 15 minutes of grace before opening
    ("2026-03-03 07:14:59", True),
    ("2026-03-03 17:29:59", False),   # 30 minutes of grace after closing
    ("2026-03-03 17:30:00", True),
    ("2026-03-07 10:00:00", True),    # a Saturday
    ("2026-02-17 10:00:00", True),    # Tết (a Tuesday)
    ("2026-09-02 10:00:00", True),    # National Day (a Wednesday)
    ("2026-04-30 10:00:00", True),    # Reunification Day (a Thursday)
    ("2026-03-04 12:00:00", False),
])
def test_opening_hours_with_grace_and_holidays(moment, outside):
    assert integrity.outside_hours(local(moment), HOURS, TZ) is outside


def test_a_grace_may_cross_midnight_and_no_hours_means_no_rule():
    late = {"days": [2], "opens": "08:00", "closes": "23:50"}
    assert not integrity.outside_hours(local("2026-03-04 00:10:00"), late, TZ)  # Wed
    assert integrity.outside_hours(local("2026-03-04 00:21:00"), late, TZ)
    assert not integrity.outside_hours(local("2026-03-08 03:00:00"), None, TZ)


def test_receipt_codes_are_one_however_they_are_spelt():
    spellings = ["hs-2026-0001", "HS_2026_0001", "ＨＳ２０２６０００１/", "Hs.2026.0001",
                 "hs:2026/0001 "]
    assert {integrity.normalise_receipt(s) for s in spellings} == {"hs20260001"}
    assert integrity.normalise_receipt("hs-2026-0002") != "hs20260001"


def test_receipt_format_is_matched_whole_on_the_code_as_typed():
    pattern = r"HS-\d{4}-\d{4}"
    assert not integrity.receipt_format_fails(pattern, " HS-2026-0001 ")
    assert integrity.receipt_format_fails(pattern, "HS-2026-00011")
    assert integrity.receipt_format_fails(pattern, "hs-2026-0001")
    assert not integrity.receipt_format_fails(pattern, None)
    assert not integrity.receipt_format_fails(None, "anything")


@pytest.mark.parametrize("claimed, judged_at, reason", [
    (None, T0, None),
    (T0 - timedelta(hours=3), T0 - timedelta(hours=3), None),  # the offline queue
    (T0 + timedelta(minutes=5), T0 + timedelta(minutes=5), None),
    (T0 + timedelta(minutes=5, milliseconds=1), T0, "clock_future"),
    (T0 - timedelta(hours=48), T0 - timedelta(hours=48), None),
    (T0 - timedelta(hours=48, milliseconds=1), T0 - timedelta(hours=48, milliseconds=1),
     "clock_stale"),
])
def test_given_at_is_believed_within_five_minutes_ahead_and_48_hours_back(
        claimed, judged_at, reason):
    assert integrity.clock(claimed, T0) == (judged_at, reason)


def test_own_reasons_come_in_the_documented_order():
    reasons = integrity.own_reasons(given_at=local("2026-03-07 10:00:00"),
                                    clock_reason="clock_stale", hours=HOURS, tz=TZ,
                                    receipt_pattern=r"\d+", receipt_code="x1")
    assert reasons == ["outside_hours", "receipt_format", "clock_stale"]


def test_a_decision_is_the_state_else_held_with_a_reason_else_counted():
    assert integrity.status_of([], None) == COUNTED
    assert integrity.status_of(["burst"], None) == HELD
    assert integrity.status_of(["burst"], {"decision": "accept"}) == ACCEPTED
    assert integrity.status_of(["burst"], {"decision": "reject"}) == REJECTED


def test_sources_are_keyed_hashes_a_registered_tablet_first():
    key = b"k" * 32
    tablet = integrity.source_of(key, "TAB-1", ["TAB-1"], "abc")
    assert tablet.startswith("d:") and "TAB-1" not in tablet
    assert integrity.source_of(key, "TAB-9", ["TAB-1"], "abc") == "a:abc"
    assert integrity.source_of(key, None, [], None) is None


# --- the incremental sweep equals the definition --------------------------------------

moments = st.lists(st.tuples(st.integers(0, 90 * 60), st.sampled_from(["5:", "5:a=4", None])),
                   min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(moments, st.integers(0, 6), st.sampled_from([5, 10, 30]), st.integers(0, 40),
       st.booleans())
def test_sweeping_from_any_rating_on_agrees_with_the_definition(raw, limit, minutes, split,
                                                                runs):
    """Judged from any point with what the store gives (the ratings just before, the last
    burst), each rating comes out as the whole history says."""
    history = [Seen(f"id{i:03d}", T0 + timedelta(seconds=s), sig)
               for i, (s, sig) in enumerate(raw)]
    rule = BurstRule(limit, timedelta(minutes=minutes))
    expected = oracle(history, limit=limit, window=rule.window, runs=runs, name_burst=name)
    order = sorted(history, key=lambda s: s.key)
    split = min(split, len(order) - 1)
    start = order[split]
    before = [s for s in order[:split] if s.at >= start.at - rule.reach][-rule.depth:]
    last = [s for s in order[:split] if expected[s.id][0] and s.at >= start.at - rule.window]
    last_held = (last[-1].at, expected[last[-1].id][0]) if last else None
    got = {v.id: (v.burst, v.identical) for v in sweep(
        before, last_held, order[split:], rule=rule, runs=runs, name_burst=name)}
    assert got == {s.id: expected[s.id] for s in order[split:]}
