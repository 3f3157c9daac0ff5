from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.periods import InvalidPeriod, Period, parse_period, periods_of

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("text, period", [
    ("2026", Period(2026)), ("2026-Q4", Period(2026, quarter=4)),
    ("2026-01", Period(2026, month=1)), ("2026-12", Period(2026, month=12)),
])
def test_parse_period(text, period):
    assert parse_period(text) == period
    assert str(period) == text


@pytest.mark.parametrize("text", ["", "26", "2026-13", "2026-00", "2026-Q5", "2026-q1",
                                  "2026-1", "2026/01", "1800", " 2026", "2026-Q1-01"])
def test_bad_periods_are_refused(text):
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_periods_are_local_time():
    # 17:30 UTC on 31 December is already 00:30 on 1 January in Hà Nội
    assert periods_of(datetime(2026, 12, 31, 17, 30, tzinfo=UTC), VN) == \
        ["2027", "2027-Q1", "2027-01"]
    assert periods_of(datetime(2026, 12, 31, 16, 59, tzinfo=UTC), VN) == \
        ["2026", "2026-Q4", "2026-12"]


def test_bounds_in_utc():
    start, end = parse_period("2026-Q4").bounds(VN)
    assert start == datetime(2026, 9, 30, 17, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 17, tzinfo=UTC)
    start, end = parse_period("2026-12").bounds(VN)
    assert (start.month, end.year, end.month) == (11, 2026, 12)
    assert parse_period("2026").bounds(VN)[1] == datetime(2026, 12, 31, 17, tzinfo=UTC)
