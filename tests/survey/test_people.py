"""The directory's people: officials' email and roles, units' managers, over the API; the
events carry them and survey's own access copy knows them at once."""

from __future__ import annotations

import pytest

from devkit.apps import ADMIN, queued_events
from services.survey.documents import Official
from shared import events as ev
from shared import topology


def put_official(client, code, **fields):
    body = {"full_name": f"Cán bộ {code}", "unit": "U1", **fields}
    return client.put(f"/api/v1/officials/{code}", json=body, headers=ADMIN)


def official_events(survey, code):
    survey.runtime.get("survey.relay").flush()
    return [e.data for e in queued_events(survey, topology.queue_for("scoring").name,
                                          ev.OFFICIAL_UPSERTED) if e.data["code"] == code]


def bearer(client, code):
    token = client.post(f"/api/v1/officials/{code}/tokens", headers=ADMIN).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_email_is_stored_lower_case_and_unique_in_any_case(survey, client, token):
    r = put_official(client, "CB1", email="  Lan.NT@HaiChau.Example.VN ")
    assert r.status_code == 200 and r.get_json()["email"] == "lan.nt@haichau.example.vn"
    r = put_official(client, "CB2", email="LAN.nt@haichau.example.vn")
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert "email" in r.get_json()["errors"] and "CB1" in r.get_json()["detail"]
    # a new official with it: 409 too, and nothing stored
    assert put_official(client, "CB9", email="lan.nt@haichau.example.vn").status_code == 409
    assert Official._get_collection().count_documents({"_id": "CB9"}) == 0
    # the holder keeps it when saved again; officials without one are many
    assert put_official(client, "CB1", email="lan.nt@haichau.example.vn").status_code == 200
    assert put_official(client, "CB2").status_code == 200
    assert put_official(client, "CB3").status_code == 201


def test_an_address_given_up_may_be_taken(survey, client, token):
    put_official(client, "CB1", email="a@example.vn")
    assert put_official(client, "CB1", email="b@example.vn").status_code == 200
    assert put_official(client, "CB2", email="a@example.vn").status_code == 200


@pytest.mark.parametrize("email", [
    "not-an-address", "a@b@example.vn", "lan@exаmple.vn",  # a Cyrillic 'а'
    "ｌａｎ@example.vn", "lan@example.vn\r\nBcc: x@evil.example", "lan@example.vn\n",
    "lan\u200b@example.vn", "a" * 250 + "@example.vn", 42, ["lan@example.vn"],
])
def test_a_bad_email_is_422(survey, client, token, email):
    r = put_official(client, "CB1", email=email)
    assert r.status_code == 422 and "email" in r.get_json()["errors"], r.get_json()


def test_roles_are_admin_or_none(survey, client, token):
    assert put_official(client, "CB1", roles=["admin", "admin"]).get_json()["roles"] == \
        ["admin"]
    r = put_official(client, "CB1", roles=["root"])
    assert r.status_code == 422 and "roles" in str(r.get_json()["errors"])


def test_managers_must_be_officials(survey, client, token):
    r = client.put("/api/v1/units/U1", json={"name": "Phường Một", "managers": ["CB1", "NOBODY"]},
                   headers=ADMIN)
    assert r.status_code == 422 and "NOBODY" in r.get_json()["errors"]["managers"][0]
    r = client.put("/api/v1/units/U1", json={"name": "Phường Một", "managers": ["CB1", "CB1"]},
                   headers=ADMIN)
    assert r.status_code == 200 and r.get_json()["managers"] == ["CB1"]


def test_events_carry_email_roles_and_managers(survey, client, token):
    put_official(client, "CB1", email="cb1@example.vn", roles=["admin"])
    client.put("/api/v1/units/U1", json={"name": "Phường Một", "managers": ["CB2"]},
               headers=ADMIN)
    latest = official_events(survey, "CB1")[-1]
    assert (latest["email"], latest["roles"]) == ("cb1@example.vn", ["admin"])
    units = [e.data for e in queued_events(survey, topology.queue_for("notify").name,
                                           ev.UNIT_UPSERTED)]
    assert units[-1]["managers"] == ["CB2"]


def test_survey_knows_roles_and_managers_at_once(survey, client, token):
    """Survey applies its own writes to its access copy as it makes them: no lag."""
    client.put("/api/v1/units/Q", json={"name": "Quận"}, headers=ADMIN)
    client.put("/api/v1/units/U1", json={"name": "Phường Một", "parent": "Q"}, headers=ADMIN)
    put_official(client, "CB9")
    headers = bearer(client, "CB9")
    assert client.get("/api/v1/me", headers=headers).get_json()["manages"] == []
    client.put("/api/v1/units/Q", json={"name": "Quận", "managers": ["CB9"]}, headers=ADMIN)
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["manages"] == ["Q"] and me["roles"] == [] and me["via"] == "token"
    assert survey.app.extensions["survey"].access.scope("CB9") == {"Q", "U1"}
    # an official with the admin role is an administrator, like the admin token
    assert client.get("/api/v1/units", headers=headers).status_code == 403
    put_official(client, "CB9", roles=["admin"])
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).get_json()["roles"] == ["admin"]


def test_a_saved_official_without_email_or_roles_loses_them(survey, client, token):
    """PUT replaces the whole record: what the body leaves out is not kept."""
    put_official(client, "CB1", email="cb1@example.vn", roles=["admin"])
    body = put_official(client, "CB1").get_json()
    assert (body["email"], body["roles"]) == (None, [])


def test_an_earlier_releases_directory_and_tokens_are_known_after_an_upgrade(mongo_url):
    """A database written before survey kept an access copy: at start survey copies its
    directory and live tokens in, so officials' tokens keep working."""
    from devkit.apps import make_settings, seed_directory, start
    from services.survey.app import create_app
    from shared import access
    from shared.memory_bus import MemoryBus

    running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    seed_directory(running.client)
    token = running.client.post("/api/v1/officials/CB1/tokens", headers=ADMIN) \
        .get_json()["token"]
    database = running.app.extensions["survey"].access._database()
    running.stop()
    for name in (access.UNITS, access.OFFICIALS, access.TOKENS, access.KEYS):
        database[name].drop()  # as the earlier release left it: no copy at all

    running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    try:
        me = running.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.get_json()["unit"] == "U1"
    finally:
        running.stop()
