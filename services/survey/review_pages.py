"""The official's review pages: `/reviews/{YYYY}` (the colleagues to review, each not
started, saved or done; progress; the close and the time left) and
`/reviews/{YYYY}/{reviewee}` (the form: five criteria of Decision 733, each 1-5, an
optional comment; "save" keeps a draft, "finish" needs all five; read-only outside the
window). Plain form posts, POST-redirect-GET, no JavaScript.

Every view here is one official's own reviewing, so none is counted in the HTTP
metrics (`personal`), and none shows anything of anyone else's reviews.
"""

from __future__ import annotations

import functools
import re

from flask import Blueprint, g, redirect, request

from services.survey import keys, review_rules, reviews
from services.survey.context import context
from services.survey.pages import local_time
from services.survey.schemas import MAX_TEXT
from shared.db import stored_now
from shared.errors import Conflict, Forbidden, NotFound
from shared.http import body_types, personal
from shared.periods import FIRST_YEAR, LAST_YEAR, current_year
from shared.schemas import CODE_PATTERN
from shared.web.pages import forbidden_page, not_found_page, page, render_page, words

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
review_pages = Blueprint("survey_reviews", __name__, template_folder="templates")
SCALE_ORDER = (5, 4, 3, 2, 1)  # as the kiosk: the best first
ACTIONS = {review_rules.NOT_STARTED: "review_start", review_rules.SAVED: "review_continue",
           review_rules.DONE: "review_edit"}
BADGES = {review_rules.NOT_STARTED: "warn", review_rules.SAVED: "info",
          review_rules.DONE: "ok"}
REFUSALS = {"self-review": "review_self", "other-unit": "review_other_unit",
            "inactive-official": "review_inactive"}


def year_of(text: str) -> str | None:
    """The year of a page's path, or None (the page is then 404)."""
    if not re.fullmatch(r"\d{4}", text) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        return None
    return text


def year_page(view):
    """A page with a year in its path: 404 unless it is one (YYYY, 1900-2999)."""

    @functools.wraps(view)
    def wrapper(year: str, *args, **kwargs):
        year = year_of(year)
        if year is None:
            return not_found_page()
        return view(year, *args, **kwargs)

    return wrapper


def window_view(year: str, t: dict) -> dict:
    """The year's window as the pages tell it: phase (before, open, closed), the local
    times, the time left."""
    ctx = context()
    window = reviews.window_of(year, ctx.settings.tz)
    now = stored_now()
    phase = "before" if now < window["opens_at"] else \
        "open" if now < window["closes_at"] else "closed"
    number, unit = review_rules.time_left(now, window["closes_at"])
    return {"phase": phase, "opens": local_time(window["opens_at"]),
            "closes": local_time(window["closes_at"]),
            "left": t[f"reviews_left_{unit}"].format(n=number)}


def _key() -> bytes:
    return context().key(keys.REVIEWER_PSEUDONYM)


@review_pages.get("/reviews")
@page
def reviews_now():
    """This year's reviews."""
    return redirect(f"/reviews/{current_year(context().settings.tz)}", code=303)


@review_pages.get("/reviews/<year>")
@page
@personal
@year_page
def review_list(year: str):
    """The colleagues to review, with the reviewer's own progress."""
    t = words()["t"]
    try:
        people = reviews.colleagues(year, g.principal.official, _key())
    except Forbidden:
        return forbidden_page(t["reviews_no_record"])
    window = window_view(year, t)
    rows = [{**p, "url": f"/reviews/{year}/{p['code']}", "badge": BADGES[p["status"]],
             "status_label": t[f"status_{p['status']}"],
             "action": t[ACTIONS[p["status"]] if window["phase"] == "open" else "review_view"]}
            for p in people]
    done = sum(1 for p in people if p["status"] == review_rules.DONE)
    return render_page("reviews/list.html", title=t["reviews_title"].format(year=year),
                       year=year, rows=rows, done=done, window=window,
                       notice=_notice(rows, t))


def _notice(rows: list[dict], t: dict) -> str | None:
    """What the form just did, said once back on the list (?done= or ?saved=)."""
    for key, words_key in (("done", "reviews_done_notice"), ("saved", "reviews_saved_notice")):
        code = request.args.get(key)
        name = next((r["full_name"] for r in rows if r["code"] == code), None)
        if name:
            return t[words_key].format(name=name)
    return None


def _reviewee(reviewee: str, t: dict):
    """The colleague of the form, or the page that refuses it."""
    if not re.fullmatch(CODE_PATTERN, reviewee):
        return None, not_found_page(t["review_unknown"])
    try:
        return reviews.reviewee_for(g.principal.official, reviewee), None
    except NotFound:
        return None, not_found_page(t["review_unknown"])
    except Forbidden as exc:
        return None, forbidden_page(t[REFUSALS.get(exc.slug, "reviews_no_record")])


def _form_page(year: str, person: dict, *, status: str, values: dict,
               problems: dict | None = None, notice: str | None = None, code: int = 200):
    t = words()["t"]
    window = window_view(year, t)
    criteria = words()["criteria"]
    problems = problems or {}
    errors = {field: t[f"review_error_{problem}"] for field, problem in problems.items()}
    # the summary at the top names each field with a short word; the field says more
    summary = {f"{c}-{SCALE_ORDER[0]}": f"{i}. {criteria[c]}: {t[f'review_short_{problems[c]}']}"
               for i, c in enumerate(criteria, 1) if c in problems}
    if "comment" in problems:
        summary["comment"] = f"{t['review_error_comment']}: {errors['comment']}"
    return render_page(
        "reviews/form.html", code, title=t["review_title"].format(name=person["full_name"]),
        year=year, person=person, review_status=status, status_label=t[f"status_{status}"],
        badge=BADGES[status], values=values, errors=errors, summary=summary,
        window=window, notice=notice, order=SCALE_ORDER, max_comment=MAX_TEXT)


@review_pages.get("/reviews/<year>/<reviewee>")
@page
@personal
@year_page
def review_form(year: str, reviewee: str):
    """The form of one colleague: the reviewer's review or draft, to change until the
    close; read-only outside the window."""
    person, refusal = _reviewee(reviewee, words()["t"])
    if refusal is not None:
        return refusal
    status, values = reviews.form_values(year, g.principal.official, person["code"], _key())
    return _form_page(year, person, status=status, values=values)


@review_pages.post("/reviews/<year>/<reviewee>")
@body_types(*FORMS)
@page
@personal
@year_page
def review_submit(year: str, reviewee: str):
    """Save a draft (what is given so far) or finish the review (all five criteria)."""
    t = words()["t"]
    person, refusal = _reviewee(reviewee, t)
    if refusal is not None:
        return refusal
    ctx = context()
    finishing = request.form.get("action") != "save"
    body, problems = review_rules.read_review_form(request.form, finishing=finishing,
                                                   max_comment=MAX_TEXT)
    status, _ = reviews.form_values(year, g.principal.official, person["code"], _key())
    if problems:
        return _form_page(year, person, status=status, values=body, problems=problems,
                          code=422)
    try:
        if finishing:
            reviews.submit_review(year, g.principal.official, person["code"], body,
                                  key=_key(), tz=ctx.settings.tz, correlationid=g.request_id,
                                  notify=ctx.relay.notify)
        else:
            reviews.save_draft(year, g.principal.official, person["code"], body, key=_key(),
                               tz=ctx.settings.tz, notify=ctx.relay.notify)
    except Conflict as exc:
        notice = t["review_finished_already" if exc.slug == "review-finished"
                   else "review_not_saved_closed"]
        return _form_page(year, person, status=status, values=body, notice=notice,
                          code=409)
    outcome = "done" if finishing else "saved"
    return redirect(f"/reviews/{year}?{outcome}={person['code']}", code=303)


def install_review_pages(app) -> None:
    app.register_blueprint(review_pages)
