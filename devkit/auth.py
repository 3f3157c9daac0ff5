"""Signing in for tests: sessions signed with a test key that a service under test is told
to trust (`SESSION_PUBLIC_KEYS`), and the directory facts its access copy needs, applied
as the events would apply them."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import sessions
from shared.auth import token_digest

# A fixed test key: services built with `pinned_settings()` trust sessions it signs.
TEST_KEY = sessions.private_key_from_text("n0x5oO0Qc2j2f7sGd1hS8i3W2b5kL9pQ4rT6vY8zA1c=")
TEST_SIGNER = sessions.SessionSigner(TEST_KEY)


def pinned_settings() -> dict:
    """Settings fields for `devkit.apps.make_settings(...)`: trust the test key."""
    return {"session_public_keys": (TEST_SIGNER.public_text,)}


def session_cookie(official: str, signer: sessions.SessionSigner = TEST_SIGNER
                   ) -> tuple[str, sessions.SessionClaims]:
    """A session token for `official` and its claims (the CSRF value is `claims.csrf`)."""
    return signer.issue(official)


def signed_in(client, official: str, signer: sessions.SessionSigner = TEST_SIGNER) -> dict:
    """Put a session cookie for `official` on a Flask test client; return the header a
    write needs (`X-CSRF-Token`)."""
    token, claims = session_cookie(official, signer)
    client.set_cookie(sessions.COOKIE, token)
    return {sessions.CSRF_HEADER: claims.csrf}


def grant(app, *, units: dict[str, dict] | None = None,
          officials: dict[str, dict] | None = None, tokens: dict[str, str] | None = None,
          version: int = 1) -> None:
    """Tell an app's access copy about units ({code: {parent, managers}}), officials
    ({code: {unit, roles, active, full_name}}) and bearer tokens ({token: official}), as
    the directory and token events would."""
    store = app.config["CONGSO_ACCESS"]
    for code, unit in (units or {}).items():
        store.apply_unit({"code": code, "parent": unit.get("parent"),
                          "managers": unit.get("managers", []), "version": version})
    for code, person in (officials or {}).items():
        store.apply_official({"code": code, "unit": person["unit"],
                              "full_name": person.get("full_name", code),
                              "roles": person.get("roles", []),
                              "active": person.get("active", True), "version": version})
    for token, official in (tokens or {}).items():
        store.apply_token(token_digest(token), official, datetime.now(UTC))
    store._tree = None
