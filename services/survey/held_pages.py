"""The held ratings page: `/ratings/held?unit=&period=` (administrators and managers in
scope): the ratings survey held as suspect and nobody has decided yet, in the unit and
every unit below it, grouped by burst (each group: counter, official, how many, from when
to when, why), each rating's time, satisfaction and reasons; accept or reject one, or a
whole burst, with an optional note. Plain forms (POST-redirect-GET with the session's
CSRF value): no script needed. The same use cases as the API (`holds`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request

from services.survey.context import context
from services.survey.holds_schemas import MAX_NOTE
from services.survey.pages import local_time
from services.survey.review_pages import FORMS
from services.survey.store import directory
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.http import body_types, personal
from shared.integrity_events import REASONS
from shared.periods import InvalidPeriod, Period, current_year, parse_period
from shared.web.pages import forbidden_page, page, render_page, words
from shared.web.period_choices import period_choices as shared_choices
from shared.web.period_choices import period_label

held_pages = Blueprint("survey_held", __name__, template_folder="templates")

DECISIONS = ("accept", "reject")
MAX_ID = 64


def _holds():
    # imported when used: the use cases live beside the API (services/survey/holds.py)
    from services.survey import holds

    return holds


def may_review_held(user) -> bool:
    """Administrators and the managers of a unit (the header's link)."""
    return user.is_admin or bool(context().access.manages(user.official))


def _units_in_scope(user) -> list[dict]:
    """The units this user may review, in the directory's order (by name)."""
    units = directory.listing("unit")
    if not user.is_admin:
        scope = context().access.scope(user.official) if user.official else set()
        units = [u for u in units if u["code"] in scope]
    return sorted(units, key=lambda u: (u.get("name") or "", u["code"]))


def _default_unit(user, units: list[dict]) -> str | None:
    managed = [] if user.is_admin else context().access.manages(user.official)
    codes = {u["code"] for u in units}
    roots = [c for c in managed if c in codes] or \
        [u["code"] for u in units if u.get("parent") not in codes]
    return roots[0] if roots else None


def period_choices(chosen: Period, t: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """This year and the last, their quarters and months up to now; the chosen one too."""
    now = datetime.now(UTC).astimezone(context().settings.tz)
    return shared_choices(chosen, now, t, years=2)


def _reasons(codes, t: dict, kind: str = "reason") -> list[str]:
    """The reasons in words, in the rules' order (`short`: a rating's row)."""
    return [t.get(f"held_{kind}_{code}", code) for code in REASONS if code in codes]


def _span(first: datetime, last: datetime, t: dict) -> str:
    start, end = local_time(first), local_time(last)
    if start == end:
        return start
    if start[7:] == end[7:]:  # the same day: "from 09:15 to 09:42, 04/12/2026"
        start = start[:5]
    return t["held_span"].format(start=start, end=end)


def groups_of(items: list[dict], t: dict) -> list[dict]:
    """The held ratings (newest first) grouped by burst, a rating of no burst alone; the
    groups in the order of their newest rating."""
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item.get("burst") or f"rating:{item['id']}", []).append(item)
    officials = directory.officials(sorted({i["official"] for i in items if i.get("official")}))
    views = []
    for members in groups.values():
        given = [m.get("given_at") or m["submitted_at"] for m in members]
        burst = members[0].get("burst")
        names = sorted({(officials.get(m["official"]) or {}).get("full_name", m["official"])
                        for m in members if m.get("official")})
        views.append({
            "burst": burst, "many": len(members) > 1,
            "counters": ", ".join(sorted({m.get("counter_label") or m["counter"]
                                          for m in members})),
            "officials": ", ".join(names) or t["held_no_official"],
            "size": len(members), "span": _span(min(given), max(given), t),
            "reasons": _reasons({r for m in members for r in m.get("reasons") or []}, t),
            "ratings": [_rating_view(m, t) for m in members],
        })
    return views


def _to_the_second(moment: datetime) -> str:
    """14:05:09, 04/12/2026: a burst's ratings are seconds apart."""
    return moment.astimezone(context().settings.tz).strftime("%H:%M:%S, %d/%m/%Y")


def _rating_view(item: dict, t: dict) -> dict:
    given, received = item.get("given_at") or item["submitted_at"], item["submitted_at"]
    late = abs((received - given).total_seconds()) >= 60
    return {"id": item["id"], "time": _to_the_second(given),
            "received": t["held_received"].format(time=local_time(received)) if late else None,
            "overall": item["overall"],
            "reasons": _reasons(item.get("reasons") or [], t, "short")}


def _choice(user, units: list[dict]) -> tuple[str | None, str | None]:
    """The page's unit and period as asked (None where not asked)."""
    unit = (request.values.get("unit") or "").strip()[:MAX_ID] or _default_unit(user, units)
    period = (request.values.get("period") or "").strip()[:16] or \
        current_year(context().settings.tz)
    return unit, period


def _render(*, notice: str | None = None, error: str | None = None, code: int = 200):
    t, user = words()["t"], g.principal
    units = _units_in_scope(user)
    if not units:
        return forbidden_page(t["held_no_units"])
    unit, period_text = _choice(user, units)
    if unit not in {u["code"] for u in units}:
        return forbidden_page(t["held_bad_unit"].format(unit=unit))
    try:
        period = parse_period(period_text)
    except InvalidPeriod:
        return render_page("error.html", 400, title=t["error_not_found_title"],
                           text=t["held_bad_period"].format(period=period_text))
    start, end = period.bounds(context().settings.tz)
    holds = _holds()
    items = holds.suspect(holds.units_below(unit), start, end)
    groups = groups_of(items, t)
    unit_name = next(u["name"] for u in units if u["code"] == unit)
    return render_page(
        "held/held.html", code, title=t["held_title"], units=units, unit=unit,
        unit_name=unit_name, period=str(period), choices=period_choices(period, t),
        period_label=period_label(period, t),
        groups=groups, count=len(items), notice=notice, error=error, max_note=MAX_NOTE)


@held_pages.get("/ratings/held")
@page
def held_page():
    """The held ratings of a unit (and those below it) in a period."""
    if not may_review_held(g.principal):
        return forbidden_page(words()["t"]["held_no_units"])
    t = words()["t"]
    done, n = request.args.get("done"), request.args.get("n", "")
    notice = t[f"held_done_{done}"].format(n=int(n)) \
        if done in DECISIONS and n.isdigit() and len(n) < 6 else None
    return _render(notice=notice)


def _decided(decision: str, count: int):
    query = {"unit": request.form.get("unit", "")[:MAX_ID],
             "period": request.form.get("period", "")[:16], "done": decision, "n": count}
    return redirect(f"/ratings/held?{urlencode(query)}", code=303)


def _decide(run):
    """Check the form, run the decision, answer with the page (an error) or a redirect."""
    if not may_review_held(g.principal):
        return forbidden_page(words()["t"]["held_no_units"])
    t = words()["t"]
    decision = request.form.get("decision", "")
    note = (request.form.get("note") or "").strip()
    if decision not in DECISIONS:
        return _render(error=t["held_error_decision"], code=422)
    if len(note) > MAX_NOTE:
        return _render(error=t["held_error_note"].format(n=MAX_NOTE), code=422)
    try:
        count = run(decision, note or None)
    except Conflict:
        return _render(error=t["held_error_decided"], code=409)
    except (NotFound, Forbidden) as refusal:
        return _render(error=t["held_error_gone"],
                       code=404 if isinstance(refusal, NotFound) else 403)
    except Invalid:
        return _render(error=t["held_error_decision"], code=422)
    return _decided(decision, count)


@held_pages.post("/ratings/held/<rating_id>")
@body_types(*FORMS)
@page
@personal
def decide_rating(rating_id: str):
    """Accept or reject one held rating."""
    def run(decision: str, note: str | None) -> int:
        _holds().decide(context(), rating_id[:MAX_ID], decision, note, principal=g.principal)
        return 1

    return _decide(run)


@held_pages.post("/ratings/held/bursts/<burst>")
@body_types(*FORMS)
@page
@personal
def decide_burst(burst: str):
    """Accept or reject every undecided held rating of one burst (in the user's scope)."""
    def run(decision: str, note: str | None) -> int:
        return len(_holds().decide_burst(context(), burst[:MAX_ID], decision, note,
                                         principal=g.principal))

    return _decide(run)


def install_held_pages(app) -> None:
    app.register_blueprint(held_pages)
