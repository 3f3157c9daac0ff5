"""Signing in by emailed link: the same answer for every address, limits, one use within
15 minutes, forged links refused by their MAC, nothing secret stored or logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from devkit.apps import ADMIN
from services.survey import signin_links
from services.survey.documents import DOCUMENTS, SignInLink
from services.survey.store import signin as link_store
from shared import sessions, signin
from shared.db import stored_now
from tests.survey.links import add_person, ask, last_link, link_events


def audit(client, action):
    return client.get(f"/api/v1/audit?action={action}", headers=ADMIN).get_json()


def test_the_answer_is_the_same_for_known_unknown_and_inactive_addresses(survey, client):
    add_person(client, "CB1", "known@example.vn")
    add_person(client, "CB2", "gone@example.vn", active=False)
    answers = [ask(client, email) for email in
               ("known@example.vn", "nobody@example.vn", "gone@example.vn", "KNOWN@example.vn")]
    assert {r.status_code for r in answers} == {202}
    assert len({r.get_data() for r in answers}) == 1
    assert {tuple(sorted(r.headers.keys())) for r in answers} == \
        {tuple(sorted(answers[0].headers.keys()))}
    # only the known, active official gets a link (twice: the address in any case)
    events = link_events(survey)
    assert [e.data["official"] for e in events] == ["CB1", "CB1"]
    assert SignInLink._get_collection().count_documents({}) == 2


def test_a_link_is_stored_hashed_and_its_event_carries_a_nonce(survey, client, ctx):
    add_person(client)
    assert ask(client, "cb1@example.vn", next="/audit").status_code == 202
    event = link_events(survey)[-1]
    data = event.data
    assert (data["official"], data["email"], data["full_name"], data["next"]) == \
        ("CB1", "cb1@example.vn", "Cán bộ CB1", "/audit")
    assert data["login_url"] == "http://kiosk.test/login/"
    secret = signin.secret_for(ctx.link_key, data["nonce"])
    assert secret not in event.to_bytes().decode()
    stored = SignInLink._get_collection().find_one()
    assert stored["_id"] == signin.secret_digest(secret)
    expires = stored["expires_at"] - stored["created_at"]
    assert expires == timedelta(minutes=signin.LIFETIME_MINUTES)


def test_a_link_signs_in_once(survey, client, ctx):
    add_person(client)
    ask(client, "cb1@example.vn", next="/audit?page=2")
    link = last_link(survey, ctx)
    r = client.get(link)
    assert r.status_code == 303 and r.headers["Location"] == "/audit?page=2"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{sessions.COOKIE}=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 1790 <= max_age <= 1800  # the session's idle expiry, 30 minutes
    assert "Secure" not in cookie  # http://kiosk.test
    assert r.headers["Referrer-Policy"] == "no-referrer"
    me = client.get("/api/v1/me").get_json()
    assert (me["official"], me["via"]) == ("CB1", "session")
    # the second use: 410, with a form to ask again; the session made by the first stays
    again = client.get(link)
    assert again.status_code == 410 and 'action="/login"' in again.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 200
    [entry] = audit(client, "sign_in")
    assert (entry["actor"], entry["target"]) == ("CB1", "CB1") and entry["address_hash"]
    [failed] = audit(client, "sign_in_failed")
    assert failed["details"] == {"reason": "used"} and failed["address_hash"]


def test_an_expired_link_is_gone(survey, client, ctx, monkeypatch):
    add_person(client)
    ask(client, "cb1@example.vn")
    link = last_link(survey, ctx)
    later = stored_now() + timedelta(minutes=signin.LIFETIME_MINUTES, seconds=1)
    monkeypatch.setattr(signin_links, "stored_now", lambda: later)
    r = client.get(link)
    assert r.status_code == 410 and sessions.COOKIE not in r.headers.get("Set-Cookie", "")
    assert audit(client, "sign_in_failed")[0]["details"] == {"reason": "expired"}


def test_a_link_of_an_official_deactivated_meanwhile_is_gone(survey, client, ctx):
    add_person(client)
    ask(client, "cb1@example.vn")
    add_person(client, active=False)
    assert client.get(last_link(survey, ctx)).status_code == 410


@pytest.mark.parametrize("secret", ["forged", "abc.def", "x" * 500, "a/b/c", "%3Cscript%3E.x"])
def test_a_forged_link_is_gone_without_a_database_look_up(client, secret, monkeypatch):
    def no_look_up(*args, **kwargs):
        raise AssertionError("a forged secret was looked up")

    monkeypatch.setattr(link_store, "claim_link", no_look_up)
    monkeypatch.setattr(link_store, "link", no_look_up)
    r = client.get(f"/login/{secret}")
    assert r.status_code == 410
    assert "Liên kết không còn hiệu lực" in r.get_data(as_text=True)
    assert audit(client, "sign_in_failed")[0]["details"] == {"reason": "forged"}


def test_a_genuine_looking_but_unknown_secret_is_gone(client, ctx):
    secret = signin.secret_for(ctx.link_key, signin.new_nonce())
    assert client.get(f"/login/{secret}").status_code == 410
    assert audit(client, "sign_in_failed")[0]["details"] == {"reason": "unknown"}


def test_limits_per_email_with_retry_after(survey, client):
    add_person(client)
    for email in ("cb1@example.vn", "nobody@example.vn"):  # unknown addresses count alike
        answers = [ask(client, email, address=f"10.0.0.{i}") for i in range(6)]
        assert [r.status_code for r in answers] == [202] * 5 + [429]
        assert 0 < int(answers[-1].headers["Retry-After"]) <= 15 * 60
        assert answers[-1].mimetype == "application/problem+json"
    assert len(link_events(survey)) == 5


def test_limits_per_client_address(survey, client):
    answers = [ask(client, f"person{i}@example.vn", address="10.0.0.9") for i in range(21)]
    assert [r.status_code for r in answers] == [202] * 20 + [429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600
    assert ask(client, "person0@example.vn", address="10.0.0.10").status_code == 202


@pytest.mark.parametrize("body", [
    {"email": "not-an-address"}, {"email": "cb1@exаmple.vn"},  # a Cyrillic 'а'
    {"email": "ｃｂ１@example.vn"}, {"email": "cb1@example.vn\r\nBcc: x@evil.example"},
    {"email": "cb1@example.vn%0d%0aBcc:x@evil.example"}, {"email": ""}, {"email": None},
    {"email": "a" * 300 + "@example.vn"}, {}, {"email": "cb1@example.vn", "role": "admin"},
    {"email": "cb1@example.vn", "next": "//evil.example/x"},
    {"email": "cb1@example.vn", "next": "https://evil.example"},
    {"email": "cb1@example.vn", "next": "/\\evil.example"},
])
def test_bad_input_is_a_clear_4xx_and_nothing_is_sent_or_stored(survey, client, body):
    add_person(client)
    r = client.post("/api/v1/auth/links", json=body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert link_events(survey) == [] and SignInLink._get_collection().count_documents({}) == 0


def test_a_very_long_body_or_the_wrong_type_is_refused(survey, client):
    add_person(client)
    huge = client.post("/api/v1/auth/links", data=b'{"email": "' + b"a" * 70_000 + b'"}',
                       content_type="application/json")
    assert huge.status_code == 413
    form = client.post("/api/v1/auth/links", data={"email": "cb1@example.vn"})
    assert form.status_code == 400
    assert link_events(survey) == []


def test_no_secret_in_any_log_or_record(survey, client, ctx, caplog):
    caplog.set_level(logging.DEBUG)
    add_person(client)
    ask(client, "cb1@example.vn")
    nonce = link_events(survey)[-1].data["nonce"]
    link = last_link(survey, ctx)
    secret = link.rsplit("/", 1)[1]
    client.get(link)
    client.get(link)  # used: 410, audited
    client.get(link + "x")  # forged
    survey.runtime.get("survey.relay").flush()
    assert secret not in caplog.text and nonce not in caplog.text
    stored = "".join(str(list(doc._get_collection().find())) for doc in DOCUMENTS)
    assert secret not in stored and nonce not in stored  # the event left the outbox
