"""The dashboards' figures, pure: values in, values out (no Flask or database).

A chart is data first: each function returns the `Table` of one chart; the page draws the
chart from it and prints it beside, and the CSV and XLSX downloads write exactly its rows.
Citizen figures come from `domain.citizen_part`, the function the scores API uses, so a
month of a trend equals the API's score for that month, a unit's row its unit score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from services.scoring.domain import (
    HOUR,
    CitizenInput,
    ScoringConfig,
    citizen_part,
    counted_rows,
    rounded,
)
from shared.events import CRITERIA, FACTORS

TARGET = 80  # the national SIPAS target: percent of citizens satisfied
MIN_UNIT_RATINGS = 20  # a unit's rate is judged from 20 ratings in the period (as notify)
OFFICIAL_FLOOR = 50  # a conduct index below 50: "không hoàn thành" (notify alerts on it)
OFFICE_HOURS = tuple(range(7, 18))  # 07:00-17:59 local: the one-stop counters' day
SOON = timedelta(days=30)  # "deadlines soon": not submitted, due within 30 days either side


@dataclass(frozen=True)
class Table:
    """One chart's numbers: `columns` are word keys (or literal headings), `rows` the cells
    (numbers, None for "no data", codes, text). `words` names the catalogue that turns a
    column's keys into words (scale, factors, weekdays, bands, criteria, yes_no); `link`
    (kind, code column, name column) makes each row's name a link to its page; `notes`
    are counts the page says under the table."""

    key: str
    columns: tuple[str, ...]
    rows: list[list]
    words: Mapping[int, str] = field(default_factory=dict)
    link: tuple[str, int, int] | None = None
    notes: Mapping[str, int] = field(default_factory=dict)


def citizen_figures(inputs: Iterable[CitizenInput], cfg: ScoringConfig) -> dict:
    """A set of ratings' citizen figures as the API serves them (rounded)."""
    return rounded(citizen_part(inputs, cfg))


def by_month(rows_by_bucket: Mapping[str, list]) -> dict[str, list]:
    """Rows of day or month buckets ("YYYY-MM[-DD]") gathered by month."""
    out: dict[str, list] = {}
    for bucket, rows in rows_by_bucket.items():
        out.setdefault(bucket[:7], []).extend(rows)
    return out


def trend(inputs_by_month: Mapping[str, list[CitizenInput]], months: list[str],
          cfg: ScoringConfig, derived: Mapping[str, Mapping] | None = None) -> Table:
    """Month by month: ratings, satisfaction rate and citizen index (None: no rating).
    A month in `inputs_by_month` is computed from its ratings; one in `derived` (the
    refresher's stored citizen figures, current) is taken as stored; any other has none."""
    rows = []
    for month in months:
        if month in inputs_by_month or not derived or month not in derived:
            c = citizen_figures(inputs_by_month.get(month, []), cfg)
        else:
            c = derived[month]
        rows.append([month, c.get("count", 0), c.get("satisfaction_rate"), c.get("index")])
    return Table("trend", ("col_month", "col_count", "col_satisfaction", "col_citizen_index"),
                 rows)


def _share(part: int, whole: int):
    return rounded(Fraction(100 * part, whole)) if whole else None


def distribution(rows: Iterable[list]) -> Table:
    """How many ratings that count (not held, not rejected) gave each overall value 1-5,
    and their share."""
    counts = Counter(row[0] for row in counted_rows(rows))
    total = sum(counts.values())
    return Table("distribution", ("col_rating", "col_count", "col_share"),
                 [[v, counts[v], _share(counts[v], total)] for v in (1, 2, 3, 4, 5)],
                 words={0: "scale"})


def weekday_hour_grid(rows_by_day: Mapping[str, list]) -> Table:
    """Ratings that count by local weekday (Monday first) and hour of office hours; the
    notes count those given outside them and those stored before the hour was kept."""
    grid = [[0] * len(OFFICE_HOURS) for _ in range(7)]
    outside = unknown = 0
    for day, rows in rows_by_day.items():
        weekday = date.fromisoformat(day).weekday()
        for row in counted_rows(rows):
            hour = row[HOUR] if len(row) > HOUR else None
            if hour is None:
                unknown += 1
            elif hour in OFFICE_HOURS:
                grid[weekday][hour - OFFICE_HOURS[0]] += 1
            else:
                outside += 1
    return Table("grid", ("col_weekday", *(f"{h}h" for h in OFFICE_HOURS)),
                 [[weekday, *grid[weekday]] for weekday in range(7)], words={0: "weekdays"},
                 notes={"outside_hours": outside, "no_hour": unknown})


def factors(columns: tuple[str, ...], *subjects: Mapping | None) -> Table:
    """The five SIPAS factors' means of several subjects side by side (a subject without
    figures: None), e.g. the unit, its parent, the province."""
    rows = [[key, *((s or {}).get(key) for s in subjects)] for key in FACTORS]
    return Table("factors", ("col_factor", *columns), rows, words={0: "factors"})


def officials(ranked: list[dict]) -> Table:
    """The unit's officials as the API ranks them, with their reference band."""
    rows = [[i, o["official"], o.get("full_name") or o["official"], o["citizen"]["count"],
             o["citizen"]["index"], o["peer"]["count"], o["peer"]["index"],
             o["conduct_index"], o["band"]] for i, o in enumerate(ranked, start=1)]
    return Table("officials", ("col_rank", "col_code", "col_official", "col_count",
                               "col_citizen_index", "col_peer_count", "col_peer_index",
                               "col_conduct_index", "col_band"), rows,
                 words={8: "bands"}, link=("official", 1, 2))


def bands(summary: Mapping) -> Table:
    """How many officials are in each reference band, and their share."""
    keys = ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh", "none")
    return Table("bands", ("col_band", "col_officials", "col_share"),
                 [[None if k == "none" else k, summary["counts"][k], summary["shares"][k]]
                  for k in keys], words={0: "bands"})


UNIT_COLUMNS = ("col_code", "col_unit", "col_count", "col_satisfaction", "col_citizen_index")
# the home page's columns after those: the mean of the unit's officials' conduct indexes,
# how many are below 50, the open alerts, the deadlines soon
HOME_COLUMNS = ("col_unit_conduct", "col_below_floor", "col_open_alerts",
                "col_deadlines_soon")


def units(key: str, rows: list[list], more: tuple[str, ...] = ()) -> Table:
    """Units compared by citizen figures, highest satisfaction first, units without
    ratings last: rows [code, name, count, satisfaction rate, citizen index, *more]."""
    ranked = sorted(rows, key=lambda r: (r[3] is None, -(r[3] or 0), r[0]))
    return Table(key, (*UNIT_COLUMNS, *more), ranked, link=("unit", 0, 1))


def unit_row(code: str, name: str | None, citizen: Mapping | None) -> list:
    c = citizen or {}
    return [code, name or code, c.get("count", 0), c.get("satisfaction_rate"), c.get("index")]


def response(units: list[tuple[str, str]], counts: Mapping[str, Mapping]) -> Table:
    """Each unit's peer-review response (counts only) and the share finished; units that
    survey has said nothing of are left out."""
    rows = []
    for code, name in units:
        c = counts.get(code)
        if c is None:
            continue
        rows.append([code, name, c["invited"], c["finished"], c["in_progress"],
                     c["not_started"], _share(c["finished"], c["invited"])])
    return Table("response", ("col_code", "col_unit", "col_invited", "col_finished",
                              "col_in_progress", "col_not_started", "col_response_rate"),
                 rows, link=("unit", 0, 1))


def peer(criteria: Mapping | None) -> Table:
    """The mean of each peer-review criterion, as the score's read gives them (None
    until they are published, or below the reviewer threshold)."""
    rows = [[key, (criteria or {}).get(key)] for key in CRITERIA] if criteria else []
    return Table("peer", ("col_criterion", "col_mean"), rows, words={0: "criteria"})


def mean_index(values: Iterable[float | None]):
    """The mean of the indexes given (as shown), None without one."""
    given = [Fraction(str(v)) for v in values if v is not None]
    return rounded(sum(given) / len(given)) if given else None


def unit_alerting(citizen: Mapping | None) -> bool:
    """A unit's satisfaction below the target, from enough ratings."""
    c = citizen or {}
    rate = c.get("satisfaction_rate")
    return c.get("count", 0) >= MIN_UNIT_RATINGS and rate is not None and rate < TARGET


def official_alerting(index) -> bool:
    return index is not None and index < OFFICIAL_FLOOR


def open_alerts(unit_now: Iterable[Mapping | None],
                officials_now: Mapping[str, Iterable[float | None]]) -> int:
    """The crossings alerted in a period running now: the unit below the target (once,
    whichever period), each official below the floor (once each)."""
    return int(any(unit_alerting(c) for c in unit_now)) + sum(
        1 for indexes in officials_now.values() if any(official_alerting(v) for v in indexes))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def names_unit(deadline: Mapping, unit: str) -> bool:
    return unit in deadline["units"] or "*" in deadline["units"]


def deadlines_soon(deadlines: Iterable[Mapping], unit: str, now: datetime) -> int:
    """Deadlines of `unit` it has not submitted, due within 30 days from now, or due in
    the last 30 days and so overdue."""
    return sum(1 for d in deadlines if names_unit(d, unit) and unit not in d["submitted"]
               and now - SOON <= _aware(d["due_at"]) < now + SOON)


def deadlines(items: Iterable[Mapping], unit: str, local) -> Table:
    """A unit's deadlines: title, due (local time, by `local`), submitted or not."""
    rows = [[d["title"], local(_aware(d["due_at"])), unit in d["submitted"]]
            for d in items if names_unit(d, unit)]
    return Table("deadlines", ("col_deadline", "col_due", "col_submitted"), rows,
                 words={2: "yes_no"})
