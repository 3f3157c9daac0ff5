"""Signing in and out, as pages: `/login` (ask for a link), `/login/sent`, `/login/<secret>`
(open a link: 303 signed in, or 410 with a form to ask again), `POST /logout`, and
`/session/renew` (other services' pages send the browser here to renew a session).

Plain form posts, no JavaScript; Vietnamese first. No URL with a secret reaches a log or
another site: errors are logged by route, and these pages send no Referer.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, redirect, request
from marshmallow import ValidationError

from services.survey import audit_log, domain, identity, session_cookie, signin_links
from services.survey.context import context
from services.survey.schemas import LinkIn
from shared import audit, auth
from shared.errors import RateLimited
from shared.http import body_types, personal
from shared.web.pages import render_page, words

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
NO_REFERRER = {"Referrer-Policy": "no-referrer"}

account = Blueprint("survey_account", __name__, template_folder="templates")


def _next_path(value: str | None) -> str:
    return domain.local_path(value) or "/"


def _login_page(status: int = 200, *, title_key: str = "login_title", email: str = "",
                errors: dict | None = None, notice: str | None = None, gone: bool = False,
                headers: dict | None = None):
    t = words()["t"]
    html, status, page_headers = render_page(
        "account/login.html", status, title=t[title_key], email=email[:300],
        errors=errors or {}, notice=notice, gone=gone,
        next=_next_path(request.values.get("next")))
    return html, status, {**page_headers, **NO_REFERRER, **(headers or {})}


def _signed_in():
    principal = auth.current_principal()
    return principal if principal is not None and principal.via == "session" else None


@account.get("/login")
def login_form():
    """The sign-in page (someone already signed in goes straight on)."""
    if _signed_in() is not None:
        return redirect(_next_path(request.args.get("next")), code=303)
    return _login_page()


@account.post("/login")
@body_types(*FORMS)
@personal
def login_submit():
    """Ask for a link: the same next page whether or not the address is known."""
    t = words()["t"]
    email = request.form.get("email", "")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return _login_page(403, email=email, notice=t["error_csrf_title"])
    try:
        body = LinkIn().load({"email": email})
    except ValidationError:
        message = t["error_email_required"] if not email.strip() else t["error_email_invalid"]
        return _login_page(422, email=email, errors={"email": message})
    try:
        signin_links.request_link(context(), body["email"],
                                  _next_path(request.form.get("next")),
                                  address=request.remote_addr)
    except RateLimited as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        return _login_page(429, email=email,
                           notice=t["error_too_many_links"].format(minutes=minutes),
                           headers={"Retry-After": str(exc.retry_after)})
    return redirect("/login/sent", code=303)


@account.get("/login/sent")
@personal  # follows each link asked for by form: counting it would date them
def login_sent():
    """Check your mailbox (said to everyone who asked)."""
    return render_page("account/sent.html", title=words()["t"]["sent_title"])


@account.get("/login/<path:secret>")
@personal
def open_link(secret: str):
    """Open a sign-in link: signed in and on to the page it was asked from, or 410."""
    ctx = context()
    opened = signin_links.open_link(ctx, secret)
    if opened.failure is not None:
        return _login_page(410, title_key="gone_title", gone=True)
    previous = _signed_in()
    if previous is not None:  # another session in this browser ends here
        identity.end_session(ctx, previous.session)
    response = redirect(opened.next, code=303)
    response.headers.update({**NO_REFERRER, "Cache-Control": "no-store"})
    session_cookie.set_cookie(response, opened.token, opened.claims)
    return response


@account.post("/logout")
@body_types(*FORMS)
@personal
def logout():
    """Sign out: the session ends in every service; the cookie is cleared."""
    principal = _signed_in()
    if principal is not None:
        problem = auth.csrf_problem(principal)
        if problem is not None:
            return render_page("error.html", 403, title=words()["t"]["error_csrf_title"],
                               text=problem.description)
        ctx = context()
        identity.end_session(ctx, principal.session)
        audit_log.record(ctx, "sign_out", actor=audit.actor_of(principal),
                         target=principal.official)
    response = redirect("/login", code=303)
    session_cookie.clear_cookie(response)
    return response


@account.get("/session/renew")
@personal
def renew_session():
    """Renew the session and go on to `next` (a page of another service asked for it)."""
    principal = _signed_in()
    if principal is None:
        return _to_login(request.args.get("next"))
    token, claims = context().signer.issue(principal.official, previous=principal.session)
    response = redirect(_next_path(request.args.get("next")), code=303)
    session_cookie.set_cookie(response, token, claims)
    return response


def _to_login(next_path: str | None):
    target = domain.local_path(next_path)
    query = f"?next={quote(target, safe='/')}" if target else ""
    return redirect(f"/login{query}", code=303)


BLUEPRINTS = (account,)
