"""Notify's rules on values alone: reminders, units, escalation, thresholds, folding and
the words of each alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify import domain
from services.notify.domain import CONDUCT, SATISFACTION, judge
from tests.notify.helpers import TZ

DUE = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def problems(offsets, due=DUE):
    return domain.reminder_times(due, offsets)[1]


def test_reminders_of_equal_length_are_one_reminder():
    assert problems(["P7D", "P1W"]) == ["'P1W' is the same duration as 'P7D'"]
    assert problems(["PT24H", "P1D"]) and problems(["P1D", "P1D"])
    # a month before 1 May is 30 days (April); before 1 March only 28
    assert problems(["P1M", "P30D"])
    assert not problems(["P1M", "P30D"], due=datetime(2027, 3, 1, tzinfo=UTC))
    times, none = domain.reminder_times(DUE, ["P30D", "P7D", "PT12H"])
    assert none == [] and times["PT12H"] == DUE - timedelta(hours=12)


@pytest.mark.parametrize("offset", ["P99999999D", "P9999999999D", "P99999Y", "P2Y", "P367D",
                                    "P1Y2D"])
def test_a_reminder_more_than_a_year_before_is_refused(offset):
    assert problems([offset]) == [f"'{offset}' is longer than a year"]
    assert problems(["P1Y"]) == [] and problems(["P366D"], due=datetime(2028, 3, 1,
                                                                        tzinfo=UTC)) == []


@pytest.mark.parametrize("offset", ["-P1D", "PT0S", "7 days", "P", ""])
def test_a_reminder_must_be_a_positive_duration(offset):
    [problem] = problems([offset])
    assert "positive" in problem or "not an ISO 8601 duration" in problem


def test_a_due_time_off_the_calendar_is_refused():
    assert domain.due_problem(datetime(1, 1, 1, tzinfo=UTC))
    assert domain.due_problem(datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
    assert domain.due_problem(datetime(2026, 12, 15, tzinfo=TZ)) is None


def test_planned_reminders_are_those_still_to_come_at_the_save():
    saved = DUE - timedelta(days=10)
    assert list(domain.planned_reminders(DUE, ["P30D", "P7D", "P1D"], saved)) == ["P7D", "P1D"]


def test_unknown_units_name_the_code_that_differs_only_by_case():
    known = ["U1", "TINH"]
    assert domain.unknown_units(["U1", "u1", "U9", "*"], known) == {"u1": "U1", "U9": None}
    assert domain.describe_unknown({"u1": "U1", "U9": None}) == \
        "'u1' (did you mean 'U1'?), 'U9'"


def test_escalation_goes_to_escalate_to_else_the_parent_never_the_unit_itself():
    assert domain.escalation_target("U1", "SO", "TINH") == "SO"
    assert domain.escalation_target("U1", None, "TINH") == "TINH"
    assert domain.escalation_target("U1", None, None) is None
    assert domain.escalation_target("U1", "U1", None) is None


def test_conduct_alerts_below_50_and_rearms_only_from_55():
    assert judge(CONDUCT, 49.99, 3) is True
    assert judge(CONDUCT, 50.0, 3) is None and judge(CONDUCT, 54.99, 3) is None
    assert judge(CONDUCT, 55.0, 0) is False
    assert judge(CONDUCT, None, 10) is None


def test_satisfaction_is_judged_from_20_ratings_and_rearms_from_85():
    assert judge(SATISFACTION, 0.0, 19) is None
    assert judge(SATISFACTION, 79.9, 20) is True
    assert judge(SATISFACTION, 84.9, 40) is None
    assert judge(SATISFACTION, 85.0, 40) is False


def test_a_fold_is_keyed_and_timed_by_its_first_crossing():
    t = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    entries = {"2026-05#1": {"at": t + timedelta(seconds=1)}, "2026#1": {"at": t},
               "2026-Q2#1": {"at": t}}
    assert domain.first_entry(entries) == "2026#1"  # ties by id
    assert domain.score_alert_key("unit:U1", entries) == "score.alert|unit:U1|2026#1"
    assert domain.fold_ready_at(entries, timedelta(seconds=10)) == t + timedelta(seconds=10)


def test_a_score_alert_names_each_period_year_first():
    entries = [{"period": "2026-05", "value": 62.5, "count": 24},
               {"period": "2026", "value": 79.0, "count": 40},
               {"period": "2026-Q2", "value": 70.25, "count": 30}]
    context = domain.score_alert_context("unit:U1", entries, None)
    assert [(p["label"], p["value"]) for p in context["periods"]] == [
        ("năm 2026", "79"), ("quý 2/2026", "70,25"), ("tháng 05/2026", "62,5")]
    assert context["floor"] == "80" and context["scope"] == "unit"


def test_a_rating_alert_without_an_official_is_about_the_counter():
    rating = {"id": "r", "counter": "Q7", "overall": 1, "comment": None, "unit": "U1",
              "submitted_at": "2026-05-04T08:00:00+00:00"}
    assert domain.rating_alert_subject(None, "Q7") == "counter:Q7"
    context = domain.rating_alert_context(None, None, [rating], TZ)
    assert context["about"] == "tại quầy Q7"
    assert "()" not in context["about_detail"] and "Q7" in context["about_detail"]
    named = domain.rating_alert_context("CB1", "Lê Văn An", [rating], TZ)
    assert named["about"] == "với cán bộ Lê Văn An"
    assert named["about_detail"] == "về cán bộ Lê Văn An (CB1)"
    assert named["ratings"][0]["label"] == "Rất không hài lòng"
    assert named["ratings"][0]["time_local"] == "15:00 ngày 04/05/2026"


def test_the_time_left_is_read_to_the_nearest_minute():
    """A job runs a moment after its time: a P2D reminder still says 2 days."""
    assert domain.human(timedelta(days=2) - timedelta(milliseconds=3)) == "2 ngày"
    assert domain.human(timedelta(days=1, hours=12)) == "1 ngày 12 giờ"
    assert domain.human(timedelta(hours=11, minutes=59, seconds=50)) == "12 giờ"
    assert domain.human(timedelta(hours=2, minutes=5)) == "2 giờ 5 phút"
    assert domain.human(timedelta(seconds=5)) == "1 phút"
    context = domain.reminder_context("T", DUE, DUE - timedelta(days=7, seconds=-0.2), TZ)
    assert context["remaining"] == "7 ngày" and context["due_local"] == "16:00 ngày 01/05/2027"


@pytest.mark.parametrize("label, named", [
    ("Quầy số 1 - Tư pháp, Hộ tịch", "tại Quầy số 1 - Tư pháp, Hộ tịch"),
    ("Một cửa tầng 1", "tại quầy Một cửa tầng 1"),
    (None, "tại quầy Q7"),
])
def test_a_rating_alert_names_the_counter_by_its_label(label, named):
    rating = {"id": "r", "counter": "Q7", "counter_label": label, "overall": 2,
              "comment": None, "unit": "U1", "submitted_at": "2026-05-04T08:00:00+00:00"}
    assert domain.rating_alert_context(None, None, [rating], TZ)["about"] == named
