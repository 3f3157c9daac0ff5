"""The managers' page of the review cycle: `/reviews/response/{YYYY}`, how far the
officials of each unit in scope have got (invited, finished, in progress, not started:
counts only, the same figures as `GET /api/v1/review-cycles/{YYYY}/response`), and a
button per unit that sends its pending officials one extra reminder now (once a day).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, request

from services.survey import keys, review_cycle, review_rules
from services.survey.context import context
from services.survey.pages import local_time
from services.survey.review_pages import FORMS, window_view, year_page
from services.survey.store import directory
from services.survey.store import review_cycle as cycle_store
from shared.db import stored_now
from shared.errors import Conflict, Forbidden, NotFound, RateLimited
from shared.http import body_types, personal
from shared.periods import current_year
from shared.web.pages import forbidden_page, not_found_page, page, render_page, words

response_pages = Blueprint("survey_response", __name__, template_folder="templates")


def may_see_response(user) -> bool:
    """Administrators and the managers of a unit (the header's link)."""
    return user.is_admin or bool(context().access.manages(user.official))


@response_pages.get("/reviews/response")
@page
def response_now():
    """This year's response."""
    return redirect(f"/reviews/response/{current_year(context().settings.tz)}", code=303)


def _rows(year: str, units: list[dict]) -> list[dict]:
    ctx, now = context(), stored_now()
    reminded = cycle_store.unit_reminders(year)
    rows = []
    for row in review_cycle.response(year, units, ctx.key(keys.REVIEWER_PSEUDONYM)):
        last = reminded.get(row["unit"])
        wait = review_rules.extra_reminder_wait(last, now)
        rows.append({**row, "rate": round(100 * row["finished"] / row["invited"])
                     if row["invited"] else None,
                     "pending": row["invited"] - row["finished"],
                     "reminded_at": local_time(last) if wait else None,
                     "again_at": local_time(last + review_rules.EXTRA_REMINDER_EVERY)
                     if wait else None})
    return rows


def _page(year: str, *, notice: str | None = None, error: str | None = None,
          code: int = 200, headers: dict | None = None):
    t = words()["t"]
    try:
        units = review_cycle.units_in_scope(context(), g.principal)
    except Forbidden:
        return forbidden_page(t["response_forbidden"])
    html, status, page_headers = render_page(
        "reviews/response.html", code, title=t["response_title"].format(year=year),
        year=year, rows=_rows(year, units), window=window_view(year, t), notice=notice,
        error=error)
    return html, status, {**page_headers, **(headers or {})}


@response_pages.get("/reviews/response/<year>")
@page
@year_page
def response_page(year: str):
    """Each unit's response counts, and its reminder button."""
    t = words()["t"]
    notice = None
    unit = directory.find("unit", request.args.get("reminded", "")[:64])
    count = request.args.get("count", "")
    if unit is not None and count.isdigit():
        notice = t["response_sent"].format(n=int(count), unit=unit["name"])
    return _page(year, notice=notice)


@response_pages.post("/reviews/response/<year>")
@body_types(*FORMS)
@page
@personal
@year_page
def response_remind(year: str):
    """Send one unit's pending officials an extra reminder now."""
    t, ctx = words()["t"], context()
    code = request.form.get("unit", "")[:64]
    try:
        [unit] = review_cycle.units_in_scope(ctx, g.principal, code)
        sent = review_cycle.remind_unit(ctx, year, code)
    except Forbidden:
        return forbidden_page()
    except NotFound:
        return not_found_page()
    except RateLimited as exc:
        again = local_time(stored_now() + timedelta(seconds=exc.retry_after))
        return _page(year, error=t["response_limited"].format(unit=unit["name"], again=again),
                     code=429, headers={"Retry-After": str(exc.retry_after)})
    except Conflict:
        return _page(year, error=t["response_not_open"], code=409)
    return redirect(f"/reviews/response/{year}?reminded={code}&count={sent}", code=303)


def install_response_pages(app) -> None:
    app.register_blueprint(response_pages)
