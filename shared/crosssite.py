"""Refuse a browser's post that another site made (cross-site request forgery of ratings).

Any web page could otherwise make its visitors' browsers post ratings to a kiosk form,
each from the visitor's own address. Browsers say where a request comes from:
`Sec-Fetch-Site` (Fetch metadata) and, on every cross-origin POST, `Origin`. A post is
refused when `Sec-Fetch-Site` is `cross-site`, or when `Origin` names neither the host
the request was sent to nor PUBLIC_BASE_URL's origin (`Origin: null`, sent by sandboxed
frames and privacy-minded redirects, names neither). A request without those headers
(a program, an old browser) passes: it cannot have been forged by a page.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import current_app, request

from shared.problems import Problem

DEFAULT_PORTS = {"http": "80", "https": "443"}


def _netloc(scheme: str, netloc: str) -> str:
    """host[:port] in lower case, without the scheme's default port."""
    netloc = netloc.lower()
    default = DEFAULT_PORTS.get(scheme.lower())
    if default and netloc.endswith(f":{default}"):
        netloc = netloc[: -len(default) - 1]
    return netloc


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.netloc:
        return None
    return parts.scheme.lower(), _netloc(parts.scheme, parts.netloc)


def cross_site_reason(headers, host: str, public_base_url: str) -> str | None:
    """Why a request with these headers, sent to `host`, came from another site (None: it
    did not, or cannot be told)."""
    if (headers.get("Sec-Fetch-Site") or "").strip().lower() == "cross-site":
        return "Sec-Fetch-Site: cross-site"
    origin = headers.get("Origin")
    if origin is None:
        return None
    sent_from = _origin(origin)
    if sent_from is None:
        return f"Origin {origin[:100]!r} is no web origin"
    # the request's own host, whatever the scheme a proxy in front terminated
    if sent_from[1] == _netloc(sent_from[0], host):
        return None
    if sent_from == _origin(public_base_url):
        return None
    return f"Origin {origin[:100]} is another site"


def request_reason() -> str | None:
    """Why the current request came from another site (None: it did not)."""
    settings = current_app.config.get("CONGSO_SETTINGS")
    public = settings.public_base_url if settings is not None else ""
    return cross_site_reason(request.headers, request.host, public)


def same_site_only(refused=None):
    """Refuse the view's requests that another site made: with `refused()` (a page) if
    given, else 403 problem+json (slug `cross-site`). Nothing of the request is used."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            reason = request_reason()
            if reason is None:
                return view(*args, **kwargs)
            if refused is not None:
                return refused()
            raise Problem(403, f"Posts from another site are refused ({reason}).",
                          slug="cross-site")

        return wrapper

    return decorator
