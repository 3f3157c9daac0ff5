"""The session cookie survey sets, renews and clears.

HttpOnly (no script reads it), SameSite=Lax (another site's form posts go without it),
Path=/ (one site behind the proxy), Secure when the site is https (PUBLIC_BASE_URL, or the
request as the trusted proxy forwarded it), and Max-Age matching the token's own expiry.
A session used after RENEW_AFTER is renewed on the way out (same session, sign-in time
and CSRF value; a new expiry), so a session ends when idle, never while used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, request

from services.survey.context import context
from shared import sessions


def _secure() -> bool:
    return request.is_secure or context().settings.public_base_url.startswith("https://")


def set_cookie(response, token: str, claims: sessions.SessionClaims,
               now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    max_age = max(0, int((claims.expires_at - now).total_seconds()))
    response.set_cookie(sessions.COOKIE, token, max_age=max_age, path="/", httponly=True,
                        samesite="Lax", secure=_secure())


def clear_cookie(response) -> None:
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=_secure())


def sets_cookie(response) -> bool:
    prefix = f"{sessions.COOKIE}="
    return any(c.startswith(prefix) for c in response.headers.getlist("Set-Cookie"))


def renew(response):
    """after_request: renew a session used by this request once it is RENEW_AFTER old."""
    principal = g.get("_principal")
    if principal is None or principal.via != "session" or sets_cookie(response):
        return response
    now = datetime.now(UTC)
    if principal.session.needs_renewal(now):
        token, claims = context().signer.issue(principal.official, previous=principal.session)
        set_cookie(response, token, claims, now)
    return response
