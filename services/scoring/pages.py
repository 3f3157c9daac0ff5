"""Scoring's page for a signed-in official: their colleagues' review of them in a year
(`/reviews/{YYYY}/results`), their own results only, published at the year's close.

Behind the proxy it is one site with survey's review pages (`/reviews/{YYYY}` and the
form), which survey serves.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, g

from services.scoring.results import reviewee_results
from shared.http import personal
from shared.periods import InvalidPeriod, parse_period
from shared.web.pages import install_web, not_found_page, page, render_page, words

pages = Blueprint("scoring_pages", __name__, template_folder="templates")


def _local(moment: datetime) -> str:
    """A moment as people here read it: 17:00, 15/12/2026 (scoring's time zone)."""
    return moment.astimezone(current_app.extensions["scoring"].settings.tz).strftime(
        "%H:%M, %d/%m/%Y")


@pages.get("/reviews/<year>/results")
@personal  # one official reading their own results: a metric would date it
@page
def results_page(year: str):
    """The signed-in official's peer-review results of `year`."""
    try:
        period = parse_period(year)
    except InvalidPeriod:
        return not_found_page()
    if period.kind != "year":
        return not_found_page()
    ctx = current_app.extensions["scoring"]
    results = reviewee_results(ctx.store, g.principal.official, year, ctx.settings.tz)
    return render_page("results/results.html",
                       title=words()["t"]["results_title"].format(year=year), year=year,
                       results=results, results_at=_local(results["results_at"]))


def install_pages(app) -> None:
    from services.scoring.dashboard_pages import blp as dashboards

    install_web(app)
    app.register_blueprint(pages)
    app.register_blueprint(dashboards)
