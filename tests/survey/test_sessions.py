"""Sessions survey issues: its key, renewal while used, the cookie's attributes, sign-out,
and the end of an official's sessions and tokens (revocation, deactivation)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, make_settings, queued_events, start
from devkit.auth import TEST_KEY, TEST_SIGNER, signed_in
from services.survey.app import create_app
from shared import auth_events as auth
from shared import sessions, topology
from shared.memory_bus import MemoryBus
from tests.survey.links import add_person


def cookie_claims(client, ctx):
    cookie = client.get_cookie(sessions.COOKIE)
    return cookie and sessions.verify(cookie.value, ctx.access.public_keys())


def auth_events(survey, *types):
    survey.runtime.get("survey.relay").flush()
    return [e.data for e in queued_events(survey, topology.queue_for("scoring").name, *types)]


def test_survey_announces_its_public_key(survey, ctx):
    [event] = auth_events(survey, auth.KEYS_PUBLISHED)
    assert event["keys"] == [{"kid": ctx.signer.kid, "public_key": ctx.signer.public_text}]


def test_the_generated_key_survives_a_restart(mongo_url):
    kids = []
    for _ in range(2):
        running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
        kids.append(running.app.extensions["survey"].signer.kid)
        running.stop()
    assert kids[0] == kids[1]


def test_the_signing_key_from_the_environment_is_used(mongo_url):
    running = start(create_app, make_settings(
        "survey", mongo_url, session_signing_key=sessions.private_key_text(TEST_KEY)),
        MemoryBus())
    try:
        assert running.app.extensions["survey"].signer.kid == TEST_SIGNER.kid
    finally:
        running.stop()


def test_a_used_session_is_renewed_with_the_same_session(client, ctx):
    add_person(client)
    old = datetime.now(UTC) - sessions.RENEW_AFTER - timedelta(seconds=5)
    token, claims = ctx.signer.issue("CB1", now=old)
    client.set_cookie(sessions.COOKIE, token)
    r = client.get("/api/v1/me")
    assert r.status_code == 200 and sessions.COOKIE in r.headers["Set-Cookie"]
    renewed = cookie_claims(client, ctx)
    assert (renewed.session_id, renewed.auth_time, renewed.csrf) == \
        (claims.session_id, claims.auth_time, claims.csrf)
    assert renewed.expires_at > claims.expires_at


def test_a_fresh_session_is_not_renewed(client, ctx):
    add_person(client)
    signed_in(client, "CB1", ctx.signer)
    assert "Set-Cookie" not in client.get("/api/v1/me").headers


def test_the_cookie_is_secure_behind_https(mongo_url):
    for extra, headers in (({"public_base_url": "https://congso.example.vn"}, {}),
                           ({"trusted_proxies": 1}, {"X-Forwarded-Proto": "https"})):
        settings = dataclasses.replace(make_settings("survey", mongo_url), **extra)
        running = start(create_app, settings, MemoryBus())
        try:
            client = running.client
            ctx = running.app.extensions["survey"]
            add_person(client)
            client.set_cookie(sessions.COOKIE, ctx.signer.issue(
                "CB1", now=datetime.now(UTC) - timedelta(minutes=6))[0])
            cookie = client.get("/api/v1/me", headers=headers).headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie
        finally:
            running.stop()


@pytest.mark.parametrize("next_path, location", [
    ("/audit?page=2", "/audit?page=2"), ("//evil.example/x", "/"),
    ("https://evil.example", "/"), ("/\\evil.example", "/"), (None, "/"),
])
def test_session_renew_goes_back_to_a_local_path_only(client, ctx, next_path, location):
    add_person(client)
    signed_in(client, "CB1", ctx.signer)
    r = client.get("/session/renew", query_string={"next": next_path} if next_path else {})
    assert r.status_code == 303 and r.headers["Location"] == location
    assert sessions.COOKIE in r.headers["Set-Cookie"]


def test_session_renew_without_a_session_signs_in_first(client):
    r = client.get("/session/renew?next=/audit")
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=/audit"


def test_sign_out_ends_the_session_everywhere(survey, client, ctx):
    add_person(client)
    csrf = signed_in(client, "CB1", ctx.signer)[sessions.CSRF_HEADER]
    token = client.get_cookie(sessions.COOKIE).value
    claims = cookie_claims(client, ctx)
    r = client.post("/logout", data={sessions.CSRF_FIELD: csrf})
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert f"{sessions.COOKIE}=;" in r.headers["Set-Cookie"]
    # the same cookie, replayed: refused by the API and the pages
    client.set_cookie(sessions.COOKIE, token)
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/")
    assert page.status_code == 303 and page.headers["Location"] == "/login?next=/"
    [ended] = [e for e in auth_events(survey, auth.REVOKED) if e.get("session")]
    assert ended["session"] == claims.session_id
    assert ended["until"] == (claims.auth_time + sessions.MAX_AGE).isoformat()
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=ADMIN).get_json()]
    assert "sign_out" in actions


@pytest.mark.parametrize("headers, data", [
    ({}, {}), ({}, {sessions.CSRF_FIELD: "wrong"}),
    ({"Sec-Fetch-Site": "cross-site"}, "csrf"),
])
def test_sign_out_needs_the_csrf_value_from_this_site(client, ctx, headers, data):
    add_person(client)
    csrf = signed_in(client, "CB1", ctx.signer)[sessions.CSRF_HEADER]
    data = {sessions.CSRF_FIELD: csrf} if data == "csrf" else data
    assert client.post("/logout", data=data, headers=headers).status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_revoking_tokens_ends_sessions_and_tokens(survey, client, ctx):
    add_person(client)
    token = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    signed_in(client, "CB1", ctx.signer)
    r = client.delete("/api/v1/officials/CB1/tokens", headers=ADMIN)
    assert r.status_code == 200 and r.get_json()["revoked"] == 1
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}) \
        .status_code == 401
    [revoked] = [e for e in auth_events(survey, auth.REVOKED) if e.get("official")]
    assert (revoked["official"], revoked["sessions"], revoked["tokens"]) == ("CB1", True, True)


def test_deactivation_ends_sessions_and_tokens_and_reactivation_brings_none_back(
        survey, client, ctx):
    add_person(client)
    token = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    signed_in(client, "CB1", ctx.signer)
    session = client.get_cookie(sessions.COOKIE).value
    add_person(client, active=False)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    add_person(client, active=True)
    client.set_cookie(sessions.COOKIE, session)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    # what is issued after the reactivation works, at once
    fresh = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}) \
        .status_code == 200
    client.delete_cookie(sessions.COOKIE)
    from services.survey import identity

    new_token, _ = identity.new_session(ctx, "CB1")
    client.set_cookie(sessions.COOKIE, new_token)
    assert client.get("/api/v1/me").status_code == 200
    # the home page lists both tokens, the first revoked
    home = client.get("/").get_data(as_text=True)
    assert home.count("Đã thu hồi lúc") == 1 and home.count("Đang hiệu lực") == 1


def test_writes_with_the_cookie_need_the_csrf_value(client, ctx):
    add_person(client, "CB1", roles=["admin"])
    csrf = signed_in(client, "CB1", ctx.signer)
    body = {"name": "Phường Hai"}
    assert client.put("/api/v1/units/U2", json=body).status_code == 403
    assert client.put("/api/v1/units/U2", json=body,
                      headers={sessions.CSRF_HEADER: "forged"}).status_code == 403
    assert client.put("/api/v1/units/U2", json=body, headers={
        **csrf, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.put("/api/v1/units/U2", json=body, headers=csrf).status_code == 201
    assert client.get("/api/v1/units/U2").status_code == 200  # reads need none


def test_an_official_reviews_colleagues_with_the_session(client, ctx):
    add_person(client, "CB1")
    add_person(client, "CB2", "cb2@example.vn")
    csrf = signed_in(client, "CB1", ctx.signer)
    year = datetime.now(UTC).year
    assert [a["official"] for a in client.get(
        f"/api/v1/peer-reviews/{year}/assignments").get_json()] == ["CB2"]
    scores = dict.fromkeys(("discipline", "conduct", "ethics", "dress", "participation"), 4)
    assert client.put(f"/api/v1/peer-reviews/{year}/CB2", json={"scores": scores},
                      headers=csrf).status_code == 201
    assert client.get("/api/v1/units", headers=csrf).status_code == 403  # not an admin
