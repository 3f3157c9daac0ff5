"""Who is calling: the administrator's token, an official's bearer token, or a signed
session cookie; `require(...)` for the API and the scope rules every service applies.

Every service resolves the caller by itself (`shared.access` holds what it needs): a
bearer token first (`ADMIN_TOKEN`, or an official's token by its digest), else the
session cookie (verified with survey's public keys, then checked against this service's
copy of the directory, sign-outs and revocations). A write made with the cookie must carry
the session's CSRF value (`X-CSRF-Token` header or `csrf_token` form field) and must not
come from another site.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field

from flask import current_app, g, request

from shared import sessions
from shared.errors import Forbidden
from shared.problems import Problem

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Principal:
    kind: str  # "admin" (the ADMIN_TOKEN) or "official"
    official: str | None = None
    via: str = "token"  # "admin-token", "token" (an official's bearer token), "session"
    roles: tuple[str, ...] = ()
    unit: str | None = None
    full_name: str | None = None
    session: sessions.SessionClaims | None = field(default=None, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin" or "admin" in self.roles

    @property
    def role(self) -> str:
        """'admin' or 'official' (an official with the admin role is both)."""
        return "admin" if self.kind == "admin" else "official"

    @property
    def subject(self) -> str | None:
        return self.official


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def access_store():
    """This app's `shared.access.AccessStore` (None in an app without one)."""
    return current_app.config.get("CONGSO_ACCESS")


def _official_principal(doc: dict, via: str, claims=None) -> Principal:
    return Principal("official", doc["_id"], via=via, roles=tuple(doc.get("roles") or ()),
                     unit=doc.get("unit"), full_name=doc.get("full_name"), session=claims)


def _from_bearer(token: str) -> Principal | None:
    digest = token_digest(token)
    if hmac.compare_digest(digest, current_app.config["CONGSO_ADMIN_DIGEST"]):
        return Principal("admin", via="admin-token")
    store = access_store()
    if store is None or not token.startswith("cso_"):
        return None
    official = store.token_official(digest)
    doc = store.official(official) if official else None
    return _official_principal(doc, "token") if doc else None


def session_claims() -> sessions.SessionClaims | None:
    """The verified claims of the request's session cookie (not yet checked against
    revocations), or None."""
    store = access_store()
    token = request.cookies.get(sessions.COOKIE)
    if store is None or not token:
        return None
    return sessions.verify(token, store.public_keys())


def _from_session() -> Principal | None:
    claims = session_claims()
    if claims is None:
        return None
    doc = access_store().session_official(claims)
    return _official_principal(doc, "session", claims) if doc else None


def current_principal() -> Principal | None:
    """Who the request acts as (None: nobody, or an invalid credential); once per request.
    A bearer token wins over the cookie; an invalid bearer token is not topped up by one."""
    if "_principal" in g:
        return g._principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if header:
        principal = _from_bearer(token.strip()) if scheme.lower() == "bearer" and \
            token.strip() else None
    else:
        principal = _from_session()
    g._principal = principal
    return principal


def csrf_problem(principal: Principal | None) -> Problem | None:
    """Why a write made with the session cookie is refused (None: allowed). Bearer calls
    carry no ambient credential, so they need no CSRF value."""
    if principal is None or principal.via != "session" or request.method not in UNSAFE_METHODS:
        return None
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return Problem(403, "This request came from another site.", slug="cross-site")
    sent = request.headers.get(sessions.CSRF_HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded",
                                             "multipart/form-data"):
        sent = request.form.get(sessions.CSRF_FIELD)
    if not sent or not hmac.compare_digest(sent.encode(), principal.session.csrf.encode()):
        return Problem(403, "This form has expired or did not come from congso; reload the "
                            "page and try again.", slug="csrf")
    return None


def allows(principal: Principal, roles: tuple[str, ...]) -> bool:
    """Does `principal` hold one of `roles` (see `require`)?"""
    if "admin" in roles and principal.is_admin:
        return True
    if "official" in roles and principal.kind == "official":
        return True
    return "signed-in" in roles


def require(*roles: str):
    """Allow the view only to a caller of one of `roles` ("admin": the admin token or an
    official with the admin role; "official": any official; "signed-in": anyone known);
    sets `g.principal`. Writes made with the session cookie must pass the CSRF check."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                if request.headers.get("Authorization"):
                    raise Problem(401, "The bearer token is not valid.", headers={
                        "WWW-Authenticate": 'Bearer error="invalid_token"'})
                raise Problem(401, "This endpoint needs a bearer token or a signed-in "
                                   "session.", headers={"WWW-Authenticate": "Bearer"})
            problem = csrf_problem(principal)
            if problem is not None:
                raise problem
            if not allows(principal, roles):
                raise Problem(403, f"This endpoint is for: {', '.join(roles)}.",
                              slug="not-allowed")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._congso_roles = roles
        return wrapper

    return decorator


# --- scopes ---------------------------------------------------------------------------


def can_read_unit(principal: Principal, unit: str) -> bool:
    """An administrator, or a manager of `unit` or of a unit above it."""
    if principal.is_admin:
        return True
    store = access_store()
    return bool(principal.official and store and store.unit_in_scope(principal.official, unit))


def require_unit(principal: Principal, unit: str) -> None:
    """Forbidden unless `principal` may read `unit`'s results."""
    if not can_read_unit(principal, unit):
        raise Forbidden(f"Unit {unit!r} is not in your scope.", slug="out-of-scope")


def require_official(principal: Principal, official: str, official_unit: str | None) -> None:
    """Forbidden unless `principal` is that official, an administrator, or a manager in
    scope of the official's unit."""
    if principal.official == official and principal.kind == "official":
        return
    if official_unit is not None and can_read_unit(principal, official_unit):
        return
    if principal.is_admin:
        return
    raise Forbidden(f"Official {official!r} is not in your scope.", slug="out-of-scope")




SECURITY = [{"bearerAuth": []}, {"sessionCookie": []}]
