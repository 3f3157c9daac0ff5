"""The dashboards' content: what each page shows, gathered from scoring's store and
computed by `figures` (the pages and their CSV and XLSX downloads both call these).

The unit page reads its subtree's day buckets of the whole year once, and derives from
them the period's figures (through `scores.unit_view`, as the API does), the monthly
trend, the distribution, the weekday × hour grid and the child units. What lies outside
the subtree (the parent's and the province's factors) and the home page's units come
from the scores the refresher materialises: one read by key, at most a moment behind.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.scoring import figures
from services.scoring.domain import inputs_of, root_of, subtree_of
from services.scoring.scores import official_view, unit_view
from shared.periods import Period, months_of, parse_period, periods_of

UNIT_CHARTS = ("trend", "distribution", "factors", "grid", "officials", "children",
               "response")
OFFICIAL_CHARTS = ("trend", "distribution", "factors", "peer")
HOME_CHARTS = ("units",)


def _local(tz: ZoneInfo):
    return lambda moment: moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def _factors(scores: dict, unit: str, period: str):
    return (scores.get((unit, period)) or {}).get("citizen", {}).get("factors")


def _compared(first: tuple, *others: tuple) -> tuple:
    """(column keys, *subjects) of the factors' table: the first always, each other
    (key, shown, factors) only when shown (a unit at the top has no parent, and the
    province of the department is the department itself)."""
    kept = [first] + [(key, value) for key, shown, value in others if shown]
    return (tuple(k for k, _ in kept), *(v for _, v in kept))


def unit_page(store, code: str, period: str, tz: ZoneInfo, *, low_only: bool = False) -> dict:
    """Everything the unit's page shows for `period`."""
    cfg, _ = store.config()
    p = parse_period(period)
    year = months_of(Period(p.year))
    chosen = months_of(p)
    parents = store.parents()
    subtree = subtree_of(code, parents)
    # the period's day buckets, and those of other months whose stored scores are behind;
    # the rest of the year's trend is the refresher's stored monthly figures
    others = [m for m in year if m not in chosen]
    stale = store.stale_months("u", subtree, others)
    rows = store.citizen_rows("u", subtree, [m for m in year if m in chosen or m in stale])
    derived = {m[1]: (s.get("citizen") or {}) for m, s in store.materialised(
        "u", [code], [m for m in others if m not in stale]).items()}
    inputs = {u: {day: inputs_of(r) for day, r in days.items()} for u, days in rows.items()}
    by_unit = {u: [i for day, ins in days.items() if day[:7] in chosen for i in ins]
               for u, days in inputs.items()}
    view = unit_view(store, code, period, cfg, tz, by_unit)

    monthly: dict[str, list] = {m: [] for m in year if m in chosen or m in stale}
    period_days: dict[str, list] = {}
    for u in subtree:
        for month, ins in figures.by_month(inputs[u]).items():
            monthly.setdefault(month, []).extend(ins)
        for day, r in rows[u].items():
            if day[:7] in chosen:
                period_days.setdefault(day, []).extend(r)

    parent, root = parents.get(code), root_of(code, parents)
    outside = store.materialised("u", [c for c in (parent, root) if c], [period])
    children = [c for c in sorted(parents) if parents[c] == code]
    names = store.names("unit", subtree)
    child_rows = [figures.unit_row(c, names.get(c), figures.citizen_figures(
        [i for u in subtree_of(c, parents) for i in by_unit.get(u, [])], cfg))
        for c in children]
    start, end = p.bounds(tz)
    charts = {
        "trend": figures.trend(monthly, year, cfg, derived),
        "distribution": figures.distribution(r for rs in period_days.values() for r in rs),
        "factors": figures.factors(*_compared(
            ("col_this_unit", view["citizen"]["factors"]),
            ("col_parent_unit", bool(parent), _factors(outside, parent, period)),
            ("col_province", root not in (code, parent), _factors(outside, root, period)))),
        "grid": figures.weekday_hour_grid(period_days),
        "officials": figures.officials(view["officials"]),
        "children": figures.units("children", child_rows),
        "response": figures.response([(u, names.get(u) or u) for u in subtree],
                                     store.responses(str(p.year), subtree)),
    }
    return {
        "view": view, "charts": charts, "bands": figures.bands(view["bands"]),
        "parent": parent, "root": root, "names": store.names("unit", [parent, root]),
        "comments": store.latest_comments(units=subtree, start=start, end=end,
                                          low_only=low_only),
        "deadlines": figures.deadlines(store.deadlines_of([code], start, end), code,
                                       _local(tz)),
    }


def official_page(store, code: str, period: str, tz: ZoneInfo, *,
                  low_only: bool = False) -> dict:
    """Everything an official's page shows for `period`: their score as the API gives it
    (peer results only as published), the trend, distribution, factors, comments."""
    cfg, _ = store.config()
    record = store.official(code) or {}
    view = official_view(store, code, period, cfg, tz, record)
    p = parse_period(period)
    year = months_of(Period(p.year))
    chosen = set(months_of(p))
    rows = store.citizen_rows("o", [code], year)[code]  # {month: rows}
    unit = record.get("unit")
    parents = store.parents()
    root = root_of(unit, parents) if unit else None
    around = store.materialised("u", [c for c in {unit, root} if c], [period])

    def unit_factors(u):
        return (around.get((u, period)) or {}).get("citizen", {}).get("factors")

    start, end = p.bounds(tz)
    charts = {
        "trend": figures.trend({m: inputs_of(r) for m, r in rows.items()}, year, cfg),
        "distribution": figures.distribution(
            r for m, rs in rows.items() if m in chosen for r in rs),
        "factors": figures.factors(*_compared(
            ("col_this_official", view["citizen"]["factors"]),
            ("col_their_unit", bool(unit), unit and unit_factors(unit)),
            ("col_province", bool(root) and root != unit, root and unit_factors(root)))),
        "peer": figures.peer(view["peer"]["criteria"]),
    }
    return {"view": view, "charts": charts, "unit": unit, "root": root,
            "names": store.names("unit", [c for c in (unit, root) if c]),
            "comments": store.latest_comments(official=code, start=start, end=end,
                                              low_only=low_only)}


def home_page(store, units: list[str], period: str, tz: ZoneInfo, now: datetime) -> dict:
    """The units in scope ranked by satisfaction, each with its ratings, the mean of its
    officials' conduct indexes, how many are below 50, its open alerts (crossings in a
    period running now) and its deadlines soon."""
    running = periods_of(now, tz)
    periods = sorted({period, *running})
    names = store.names("unit", units)
    people = store.active_officials(units)
    unit_scores = store.materialised("u", units, periods)
    official_scores = store.materialised("o", [c for cs in people.values() for c in cs],
                                         periods)
    every_deadline = store.deadlines_of(units)

    def conduct(official: str, p: str):
        return (official_scores.get((official, p)) or {}).get("conduct_index")

    rows = []
    for code in units:
        indexes = [conduct(o, period) for o in people[code]]
        alerts = figures.open_alerts(
            [(unit_scores.get((code, p)) or {}).get("citizen") for p in running],
            {o: [conduct(o, p) for p in running] for o in people[code]})
        rows.append([
            *figures.unit_row(code, names.get(code),
                              (unit_scores.get((code, period)) or {}).get("citizen")),
            figures.mean_index(indexes),
            sum(1 for v in indexes if figures.official_alerting(v)), alerts,
            figures.deadlines_soon(every_deadline, code, now)])
    return {"charts": {"units": figures.units("units", rows, figures.HOME_COLUMNS)},
            "running": running}
