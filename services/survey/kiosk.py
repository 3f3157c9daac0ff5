"""The kiosk page citizens rate on: `GET /k/<token>` and its no-JavaScript form post."""

from __future__ import annotations

import hashlib
import uuid
from functools import cache
from pathlib import Path

from flask import Blueprint, g, render_template, request, url_for
from marshmallow import ValidationError

from services.survey import keys, tokens
from services.survey.context import context
from services.survey.ratings import submit_rating
from services.survey.schemas import RatingIn
from services.survey.store import directory
from shared.crosssite import same_site_only
from shared.errors import Conflict, DomainError, NotFound, RateLimited, status_of
from shared.events import FACTORS
from shared.http import body_types
from shared.problems import flatten_errors
from shared.web import messages

STATIC = Path(__file__).parent / "static"
KIOSK_RESET_SECONDS = 8

kiosk = Blueprint("kiosk", __name__, url_prefix="/k", template_folder="templates",
                  static_folder="static", static_url_path="/static")

SECURITY_HEADERS = {
    # The page's only script is ours; styles are inline (one request on a slow network).
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline';"
                               " img-src 'self' data:; connect-src 'self'; form-action 'self';"
                               " base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the counter token is in the URL
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@cache
def _script_version() -> str:
    return hashlib.sha256((STATIC / "kiosk.js").read_bytes()).hexdigest()[:10]


def _page(template: str, status: int = 200, **context):
    html = render_template(template, **context)
    return html, status, SECURITY_HEADERS


def _options() -> tuple[str, bool]:
    return messages.language(request.args.get("lang")), request.args.get("kiosk") == "1"


def _device() -> str | None:
    """The registered tablet's id (`?kiosk=1&device=ID`), sent with each of its ratings;
    survey checks it against the counter's `devices` (an unknown one is no device)."""
    value = request.args.get("device", "").strip()
    if request.args.get("kiosk") != "1" or not 0 < len(value) <= 64 or not value.isprintable():
        return None
    return value


def _query(lang: str, kiosk_mode: bool, **extra) -> dict:
    args = dict(extra)
    if lang != "vi":
        args["lang"] = lang
    if kiosk_mode:
        args["kiosk"] = "1"
        # the tablet keeps its id through every link and reset
        if _device():
            args["device"] = _device()
    return args


def _unknown_counter(lang: str, kiosk_mode: bool):
    words = messages.catalogue(lang)
    return _page("message.html", 404, lang=lang, kiosk=kiosk_mode, ok=False,
                 title=words["t"]["unknown_counter_title"],
                 text=words["t"]["unknown_counter_text"])


def _form_page(token: str, counter: dict, lang: str, kiosk_mode: bool, *, form=None,
               errors=None, error_message=None, status=200):
    words = messages.catalogue(lang)
    unit = directory.find("unit", counter["unit"]) or {}
    on_duty = counter.get("officials") or []
    found = directory.officials(on_duty)
    officials = [{"code": c, "full_name": found[c]["full_name"],
                  "position": found[c].get("position")}
                 for c in on_duty if c in found and found[c].get("active", True)]
    other = "en" if lang == "vi" else "vi"
    js_text = {k: words["t"][k] for k in (
        "error_overall", "error_fields", "error_receipt_used", "error_rate_limited",
        "unknown_counter_text", "offline")}
    return _page(
        "kiosk.html", status, **words, kiosk=kiosk_mode, counter=counter, token=token,
        unit_name=unit.get("name", ""), officials=officials, form=form or {},
        errors=errors or {}, error_message=error_message, client_id=str(uuid.uuid4()),
        device=_device(),
        form_action=url_for("kiosk.submit", token=token, **_query(lang, kiosk_mode)),
        api_url=url_for("ratings.post_rating"),
        other_lang=other,
        other_lang_url=url_for("kiosk.page", token=token, **_query(other, kiosk_mode)),
        script_url=url_for("kiosk.static", filename="kiosk.js", v=_script_version()),
        reset_seconds=KIOSK_RESET_SECONDS, js_text=js_text,
    )


def _counter(token: str) -> dict | None:
    return tokens.counter_by_token(context().key(keys.COUNTER_TOKEN), token)


@kiosk.get("/<token>")
def page(token: str):
    """The rating page of one counter (Vietnamese; ?lang=en; ?kiosk=1 on a tablet)."""
    lang, kiosk_mode = _options()
    counter = _counter(token)
    if counter is None:
        return _unknown_counter(lang, kiosk_mode)
    return _form_page(token, counter, lang, kiosk_mode)


def _number(value: str | None):
    if value is None or value == "":
        return None
    # isdigit() alone admits "²", which int() refuses
    return int(value) if value.isascii() and value.isdigit() and len(value) < 4 else value


def _body_from_form(token: str) -> dict:
    f = request.form
    factors = {k: _number(f.get(f"factor_{k}")) for k in FACTORS}
    return {
        "counter_token": token,
        "official": f.get("official") or None,
        "overall": _number(f.get("overall")),
        "factors": {k: v for k, v in factors.items() if v is not None},
        "comment": f.get("comment") or None,
        "receipt_code": (f.get("receipt_code") or "").strip() or None,
        "client_id": f.get("client_id") or "",
        **({"device": _device()} if _device() else {}),
    }


def _cross_site():
    lang, kiosk_mode = _options()
    t = messages.catalogue(lang)["t"]
    return _page("message.html", 403, lang=lang, kiosk=kiosk_mode, ok=False,
                 title=t["kiosk_cross_site_title"], text=t["kiosk_cross_site_text"])


@kiosk.post("/<token>")
@body_types("application/x-www-form-urlencoded", "multipart/form-data")
@same_site_only(refused=_cross_site)
def submit(token: str):
    """The same rating as the API, from the plain HTML form (no JavaScript needed)."""
    lang, kiosk_mode = _options()
    words = messages.catalogue(lang)["t"]
    counter = _counter(token)
    if counter is None:
        return _unknown_counter(lang, kiosk_mode)
    raw = dict(request.form)
    try:
        body = RatingIn().load(_body_from_form(token))
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        return _form_page(token, counter, lang, kiosk_mode, form=raw, errors=errors,
                          error_message=words["error_overall"] if "overall" in errors
                          else words["error_fields"], status=422)
    try:
        submit_rating(context(), body, address=request.remote_addr,
                      correlationid=g.request_id)
    except NotFound:
        return _unknown_counter(lang, kiosk_mode)
    except DomainError as refusal:
        message = {Conflict: words["error_receipt_used"],
                   RateLimited: words["error_rate_limited"]}.get(type(refusal),
                                                                 words["error_fields"])
        errors = {"receipt_code": message} if isinstance(refusal, Conflict) else {}
        html, status, headers = _form_page(token, counter, lang, kiosk_mode, form=raw,
                                           errors=errors, error_message=message,
                                           status=status_of(refusal))
        return html, status, {**headers, **refusal.headers}
    back = url_for("kiosk.page", token=token, **_query(lang, kiosk_mode))
    return _page("message.html", 200, lang=lang, kiosk=kiosk_mode, ok=True,
                 title=words["thanks_title"], text=words["thanks_text"],
                 refresh_url=back if kiosk_mode else None, reset_seconds=KIOSK_RESET_SECONDS,
                 back_url=back, back_label=words["next_citizen" if kiosk_mode else "again"])
