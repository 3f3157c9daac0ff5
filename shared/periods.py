"""Reporting periods `YYYY`, `YYYY-Qn`, `YYYY-MM`, taken in the local time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.errors import Invalid

# Years a period may name: wide enough for any archive or plan, narrow enough that every
# bound, reminder and window computed from one stays a valid date.
FIRST_YEAR, LAST_YEAR = 1900, 2999
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


class InvalidPeriod(Invalid, ValueError):
    """Not a period; answered 422 on the field `period`."""

    def __init__(self, detail: str):
        super().__init__(detail, field="period")


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None
    month: int | None = None

    @property
    def kind(self) -> str:
        return "month" if self.month else "quarter" if self.quarter else "year"

    def __str__(self) -> str:
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        if self.quarter:
            return f"{self.year:04d}-Q{self.quarter}"
        return f"{self.year:04d}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the period in UTC, the period being local time in `tz`."""
        if self.month:
            start = (self.year, self.month)
            end = (self.year + (self.month == 12), self.month % 12 + 1)
        elif self.quarter:
            first = 3 * (self.quarter - 1) + 1
            start = (self.year, first)
            end = (self.year + (self.quarter == 4), (first + 2) % 12 + 1)
        else:
            start, end = (self.year, 1), (self.year + 1, 1)
        return (
            datetime(*start, 1, tzinfo=tz).astimezone(UTC),
            datetime(*end, 1, tzinfo=tz).astimezone(UTC),
        )



def parse_period(text: str) -> Period:
    """Parse `YYYY`, `YYYY-Qn` or `YYYY-MM`; raise InvalidPeriod otherwise."""
    m = _PERIOD.match(text or "")
    if not m:
        raise InvalidPeriod(f"{text!r} is not a period: use YYYY, YYYY-Qn or YYYY-MM")
    if not FIRST_YEAR <= int(m["year"]) <= LAST_YEAR:
        raise InvalidPeriod(f"{text!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return Period(
        int(m["year"]),
        int(m["quarter"]) if m["quarter"] else None,
        int(m["month"]) if m["month"] else None,
    )


def periods_of(moment: datetime, tz: ZoneInfo) -> list[str]:
    """The year, quarter and month (local time in `tz`) that `moment` falls in."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(tz)
    quarter = (local.month - 1) // 3 + 1
    return [f"{local.year:04d}", f"{local.year:04d}-Q{quarter}",
            f"{local.year:04d}-{local.month:02d}"]


def current_year(tz: ZoneInfo, now: datetime | None = None) -> str:
    return periods_of(now or datetime.now(UTC), tz)[0]


def months_of(period: Period) -> list[str]:
    """The months (YYYY-MM) a period covers."""
    if period.month:
        return [str(period)]
    if period.quarter:
        first = 3 * (period.quarter - 1) + 1
        return [f"{period.year:04d}-{m:02d}" for m in range(first, first + 3)]
    return [f"{period.year:04d}-{m:02d}" for m in range(1, 13)]


def periods_of_year(year: int) -> list[str]:
    """The year, its four quarters and its twelve months."""
    return ([f"{year:04d}"] + [f"{year:04d}-Q{q}" for q in range(1, 5)]
            + [f"{year:04d}-{m:02d}" for m in range(1, 13)])


def days_of(month: str) -> list[str]:
    """The days (YYYY-MM-DD) of a month YYYY-MM."""
    import calendar

    year, mon = int(month[:4]), int(month[5:7])
    return [f"{month}-{d:02d}" for d in range(1, calendar.monthrange(year, mon)[1] + 1)]


def local_day(moment: datetime, tz: ZoneInfo) -> str:
    """The local date (YYYY-MM-DD) of a moment."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).date().isoformat()
