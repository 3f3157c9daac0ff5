"""The dashboards (`/dashboard`, `/dashboard/units/{code}`, `/dashboard/officials/{code}`)
and each chart's numbers as CSV and XLSX (`…/{chart}.csv|.xlsx`, same `?period=`).

Who sees what is the scores API's rule (`shared.auth`): a unit to an administrator or a
manager of it or of a unit above it; an official also to that official. The home page
lists the units in the user's scope (every unit to an administrator). A period is a year
(the default: this year), a quarter or a month, as in the API.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, request

from services.scoring import dashboard_view as view
from services.scoring import dashboards
from services.scoring.documents import database
from services.scoring.figures import TARGET
from shared import audit
from shared.auth import access_store, can_read_unit
from shared.periods import InvalidPeriod, Period, current_year, parse_period
from shared.web.pages import forbidden_page, not_found_page, page, render_page, words
from shared.web.period_choices import period_choices as shared_choices

blp = Blueprint("scoring_dashboards", __name__, template_folder="templates")

# each chart: its title and summary words (formatted with the page's values)
CHARTS = {
    "units": ("dash_chart_units", "dash_chart_units_summary"),
    "trend": ("dash_chart_trend", "dash_chart_trend_summary"),
    "distribution": ("dash_chart_distribution", "dash_chart_distribution_summary"),
    "factors": ("dash_chart_factors", "dash_chart_factors_summary"),
    "grid": ("dash_chart_grid", "dash_chart_grid_summary"),
    "officials": ("dash_chart_officials", "dash_chart_officials_summary"),
    "bands": ("dash_chart_bands", "dash_chart_officials_summary"),
    "children": ("dash_chart_children", "dash_chart_children_summary"),
    "response": ("dash_chart_response", "dash_chart_response_summary"),
    "peer": ("dash_chart_peer", "dash_chart_officials_summary"),
}
FORMATS = ("csv", "xlsx")


def _ctx():
    return current_app.extensions["scoring"]


def _period() -> Period:
    """The page's period (InvalidPeriod for a bad one)."""
    return parse_period(request.args.get("period") or current_year(_ctx().settings.tz))


def _bad_period():
    t = words()["t"]
    return render_page("error.html", 400, title=t["error_not_found_title"],
                       text=t["dash_bad_period"].format(period=request.args.get("period")))


def period_choices(chosen: Period, now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    """The chooser's options (`shared.web.period_choices`), in scoring's time zone."""
    return shared_choices(chosen, now.astimezone(_ctx().settings.tz), words()["t"])


def _href(kind: str, code: str) -> str | None:
    if kind == "unit" and can_read_unit(g.principal, code):
        return f"/dashboard/units/{code}"
    if kind == "official":
        return f"/dashboard/officials/{code}"
    return None


def _chart(table, cat: dict, **values) -> dict:
    """A chart's title, drawing, table cells and download links, for the template."""
    title_key, summary_key = CHARTS[table.key]
    title = cat["t"][title_key].format(**values)
    summary = cat["t"][summary_key].format(**values)
    query = f"?period={values['period']}" if "period" in values else ""
    base = request.path.rstrip("/")  # the home page's one chart: /dashboard/units.csv
    return {"key": table.key, "title": title, "summary": summary,
            "svg": view.draw(table, cat, title, summary),
            "headings": view.page_headings(table, cat),
            "rows": view.cells(table, cat, _href), "notes": table.notes,
            "downloads": [(fmt, f"{base}/{table.key}.{fmt}{query}") for fmt in FORMATS],
            "wide": len(table.columns) > 6,
            # on a phone a table of named rows becomes a card per row; a table of numbers
            # (months, levels, the grid) scrolls sideways in its frame, its chart above
            "stack": table.link is not None}


def _scope_units() -> list[str]:
    """The units the user may read: all to an administrator, a manager's subtrees."""
    known = _ctx().store.parents()
    if g.principal.is_admin:
        return sorted(known)
    store = access_store()
    scope = store.scope(g.principal.official) if store and g.principal.official else set()
    return sorted(u for u in scope if u in known)


def _local(moment: datetime) -> str:
    return moment.astimezone(_ctx().settings.tz).strftime("%H:%M %d/%m/%Y")


@blp.get("/dashboard")
@page
def home():
    try:
        period = _period()
    except InvalidPeriod:
        return _bad_period()
    now = datetime.now(UTC)
    cat = words()
    units = _scope_units()
    data = dashboards.home_page(_ctx().store, units, str(period), _ctx().settings.tz, now) \
        if units else None
    chart = _chart(data["charts"]["units"], cat, target=TARGET, period=str(period)) \
        if data else None
    return render_page("dashboard/home.html", title=cat["t"]["dash_home_title"],
                       period=str(period), choices=period_choices(period, now), units_chart=chart,
                       updated=_local(now))


def _unit_allowed(code: str):
    """None when the user may read unit `code` and it exists, else the error page."""
    if not can_read_unit(g.principal, code):
        return forbidden_page()
    if _ctx().store.unit(code) is None:
        return not_found_page(words()["t"]["dash_unknown_unit"])
    return None


def _official_allowed(code: str):
    known = access_store().official(code)
    unit = known["unit"] if known else None
    mine = g.principal.kind == "official" and g.principal.official == code
    if not (mine or g.principal.is_admin or (unit and can_read_unit(g.principal, unit))):
        return forbidden_page()
    if _ctx().store.official(code) is None:
        return not_found_page(words()["t"]["dash_unknown_official"])
    return None


def _page_of(code: str, allowed, gather, chart_keys: tuple[str, ...]):
    """A unit's or an official's page: (error page, None) or (None, its context)."""
    refused = allowed(code)
    if refused is not None:
        return refused, None
    try:
        period = _period()
    except InvalidPeriod:
        return _bad_period(), None
    cat, now = words(), datetime.now(UTC)
    low = request.args.get("low") == "1"
    data = gather(_ctx().store, code, str(period), _ctx().settings.tz, low_only=low)
    values = {"period": str(period), "year": period.year, "target": TARGET}
    charts = [_chart(data["charts"][k], cat, **values) for k in chart_keys]
    return None, {"cat": cat, "code": code, "data": data, "charts": charts, "low": low,
                  "period": str(period), "choices": period_choices(period, now),
                  "updated": _local(now), "values": values}


@blp.get("/dashboard/units/<code>")
@page
def unit(code: str):
    refused, c = _page_of(code, _unit_allowed, dashboards.unit_page, dashboards.UNIT_CHARTS)
    if refused is not None:
        return refused
    data, cat = c.pop("data"), c.pop("cat")
    c["charts"].insert(dashboards.UNIT_CHARTS.index("officials") + 1,
                       _chart(data["bands"], cat, **c.pop("values")))
    names = _ctx().store.names("official", [x["official"] for x in data["comments"]
                                            if x.get("official")])
    return render_page("dashboard/unit.html", title=data["view"]["name"] or code, data=data,
                       official_names=names, deadlines=_chart_free(data["deadlines"], cat),
                       **c)


def _chart_free(table, cat: dict) -> dict:
    """A table without a chart (the deadlines)."""
    return {"headings": view.page_headings(table, cat), "rows": view.cells(table, cat, _href)}


@blp.get("/dashboard/officials/<code>")
@page
def official(code: str):
    refused, c = _page_of(code, _official_allowed, dashboards.official_page,
                          dashboards.OFFICIAL_CHARTS)
    if refused is not None:
        return refused
    data = c.pop("data")
    c.pop("cat"), c.pop("values")
    return render_page("dashboard/official.html",
                       title=data["view"].get("full_name") or code, data=data,
                       unit_link=_href("unit", data["unit"]) if data["unit"] else None,
                       minimum=_ctx().store.config()[0].min_peer_reviewers, **c)


def _download(table, fmt: str, name: str, target: str):
    cat = words()
    title = cat["t"][CHARTS[table.key][0]].format(year=request.args.get("period", "")[:4],
                                                  target=TARGET)
    audit.record_via_outbox(database(), _ctx().audit_relay, audit.request_entry(
        "scoring", "dashboard_exported", target=target,
        details={"chart": table.key, "period": request.args.get("period"), "format": fmt}))
    body, mimetype = ((view.csv_file(table, cat), "text/csv; charset=utf-8") if fmt == "csv"
                      else (view.xlsx_file(table, cat, title), view.XLSX))
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _chart_download(chart: str, fmt: str, charts: tuple[str, ...], gather, name: str,
                    target: str):
    if fmt not in FORMATS or chart not in charts:
        return not_found_page()
    try:
        period = _period()
    except InvalidPeriod:
        return _bad_period()
    data = gather(str(period))
    table = data["bands"] if chart == "bands" else data["charts"][chart]
    return _download(table, fmt, f"{name}-{chart}-{period}", target)


@blp.get("/dashboard/units/<code>/<chart>.<fmt>")
@page
def unit_download(code: str, chart: str, fmt: str):
    refused = _unit_allowed(code)
    if refused is not None:
        return refused
    return _chart_download(
        chart, fmt, (*dashboards.UNIT_CHARTS, "bands"),
        lambda p: dashboards.unit_page(_ctx().store, code, p, _ctx().settings.tz),
        code, f"units/{code}")


@blp.get("/dashboard/officials/<code>/<chart>.<fmt>")
@page
def official_download(code: str, chart: str, fmt: str):
    refused = _official_allowed(code)
    if refused is not None:
        return refused
    return _chart_download(
        chart, fmt, dashboards.OFFICIAL_CHARTS,
        lambda p: dashboards.official_page(_ctx().store, code, p, _ctx().settings.tz),
        code, f"officials/{code}")


@blp.get("/dashboard/units.<fmt>")
@page
def home_download(fmt: str):
    units = _scope_units()
    return _chart_download(
        "units", fmt, ("units",),
        lambda p: dashboards.home_page(_ctx().store, units, p, _ctx().settings.tz,
                                       datetime.now(UTC)), "don-vi", "dashboard")
