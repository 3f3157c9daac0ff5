"""The people's pages: one layout, one stylesheet, one way to require a session.

Each service serves its own pages (a `pages.py` blueprint beside its API, templates that
extend `base.html`); `install_web(app)` gives every app the shared templates, the
stylesheet under `/assets/`, the words of the page's language and the signed-in user.
Behind the reverse proxy (and in the all-in-one demo) the pages are one site.

- Language: Vietnamese first; `?lang=en` switches to English and is remembered in a
  cookie (`?lang=vi` switches back), so every link keeps it.
- `@page` requires a session: without one the browser is sent to `/login?next=…`; a
  session due for renewal is renewed on the way (survey, which holds the signing key,
  does it as it answers; another service sends the browser through survey's
  `/session/renew` once); a form post must carry the session's CSRF value.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from jinja2 import ChoiceLoader, FileSystemLoader

from shared import auth, sessions
from shared.web import messages

HERE = Path(__file__).parent
LANG_COOKIE = "congso_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; form-action 'self';"
                               " base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

assets = Blueprint("congso_assets", __name__, static_folder=str(HERE / "static"),
                   static_url_path="/assets")


def install_web(app) -> None:
    """Give `app` the shared layout, stylesheet, words and user (once per app)."""
    if app.extensions.get("congso.web"):
        return
    app.extensions["congso.web"] = True
    app.jinja_loader = ChoiceLoader([app.jinja_loader or FileSystemLoader([]),
                                     FileSystemLoader(str(HERE / "templates"))])
    app.register_blueprint(assets)
    app.context_processor(_context)
    app.after_request(_remember_language)


def language() -> str:
    """The page's language: ?lang=, else the remembered one, else Vietnamese."""
    asked = request.args.get("lang")
    if asked in messages.LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in messages.LANGUAGES else messages.DEFAULT_LANGUAGE


def words(lang: str | None = None) -> dict:
    return messages.catalogue(lang or language())


def _remember_language(response):
    asked = request.args.get("lang")
    if asked in messages.LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def _context() -> dict:
    lang = language()
    other = "en" if lang == "vi" else "vi"
    args = {**request.args.to_dict(), "lang": other} if request else {"lang": other}
    principal = getattr(g, "principal", None)
    user = principal if principal is not None and principal.via == "session" else None
    return {
        **messages.catalogue(lang),
        "other_lang": other,
        "other_lang_url": f"{request.path}?{urlencode(args)}",
        "user": user,
        "csrf_token": user.session.csrf if user else "",
        "csrf_field": sessions.CSRF_FIELD,
        "nav": navigation(user, lang),
        "asset": lambda name: url_for("congso_assets.static", filename=name),
    }


def _manages_or_admin(user) -> bool:
    store = auth.access_store()
    return user.is_admin or bool(store and store.manages(user.official))


# The header of the one site: every page shows the same links, whichever service serves
# it (behind the proxy they are one site), each to the users who may open it.
SITE_NAV = (
    ("/", "nav_home", lambda user: True),
    ("/reviews", "nav_reviews", lambda user: user.kind == "official"),
    ("/reviews/response", "nav_review_response", _manages_or_admin),
    ("/dashboard", "nav_dashboard", lambda user: True),
    ("/ratings/held", "nav_held", _manages_or_admin),
    ("/audit", "nav_audit", lambda user: user.is_admin),
)


def navigation(user, lang: str) -> list[dict]:
    """The links of the header: only pages this user may open; the one that holds this
    page (the longest that leads to it) is marked current."""
    if user is None:
        return []
    t = messages.catalogue(lang)["t"]
    links = [(path, t[key]) for path, key, allowed in SITE_NAV if allowed(user)]
    here = request.path
    holding = [path for path, _ in links
               if here == path or (path != "/" and here.startswith(path.rstrip("/") + "/"))]
    current = max(holding, key=len) if holding else None
    return [{"url": url, "label": label, "current": url == current} for url, label in links]


def render_page(template: str, status: int = 200, **context):
    """A page in the shared layout, with the headers every page carries."""
    return render_template(template, **context), status, SECURITY_HEADERS


def login_redirect():
    target = request.full_path if request.query_string else request.path
    return redirect(f"/login?next={quote(target, safe='/')}", code=303)


def page(view):
    """Require a signed-in session for a page (see the module's docstring)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = auth.current_principal()
        if principal is None or principal.via != "session":
            return login_redirect()
        claims = principal.session
        if claims.needs_renewal(datetime.now(UTC)) and request.method == "GET" and \
                current_app.config.get("CONGSO_SESSION_SIGNER") is None:
            target = request.full_path if request.query_string else request.path
            return redirect(f"/session/renew?next={quote(target, safe='/')}", code=303)
        problem = auth.csrf_problem(principal)
        if problem is not None:
            return render_page("error.html", 403, title=words()["t"]["error_csrf_title"],
                               text=problem.description)
        g.principal = principal
        return view(*args, **kwargs)

    return wrapper


def forbidden_page(text: str | None = None):
    t = words()["t"]
    return render_page("error.html", 403, title=t["error_forbidden_title"],
                       text=text or t["error_forbidden_text"])


def not_found_page(text: str | None = None):
    t = words()["t"]
    return render_page("error.html", 404, title=t["error_not_found_title"],
                       text=text or t["error_not_found_text"])
