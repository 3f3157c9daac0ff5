"""Bearer authentication: the admin token, officials' tokens, and `require(role)`."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request

from shared.problems import Problem


@dataclass(frozen=True)
class Principal:
    role: str  # "admin" or "official"
    subject: str | None = None  # the official's code


TokenResolver = Callable[[str], Principal | None]


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _resolve(token: str) -> Principal | None:
    from flask import current_app

    admin_digest = current_app.config["CONGSO_ADMIN_DIGEST"]
    if hmac.compare_digest(token_digest(token), admin_digest):
        return Principal("admin")
    for resolver in current_app.config["CONGSO_TOKEN_RESOLVERS"]:
        principal = resolver(token)
        if principal is not None:
            return principal
    return None


def current_principal() -> Principal | None:
    """Who the request's bearer token acts as (None: no or invalid token); once per request."""
    if "_principal" in g:
        return g._principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        principal = _resolve(token.strip())
    g._principal = principal
    return principal


def require(*roles: str):
    """Allow the view only to a bearer token of one of `roles`; sets `g.principal`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not request.headers.get("Authorization"):
                raise Problem(401, "This endpoint needs an Authorization: Bearer token.",
                              headers={"WWW-Authenticate": "Bearer"})
            principal = current_principal()
            if principal is None:
                raise Problem(401, "The bearer token is not valid.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if principal.role not in roles:
                raise Problem(403, f"This endpoint is for: {', '.join(roles)}.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._congso_roles = roles
        return wrapper

    return decorator


SECURITY = [{"bearerAuth": []}]
