"""Helpers of the sign-in tests: ask for a link, and read it as notify would write it."""

from __future__ import annotations

from devkit.apps import ADMIN, queued_events
from shared import auth_events as auth
from shared import signin, topology


def add_person(client, code="CB1", email="cb1@example.vn", unit="U1", **fields):
    """An official with an email (the unit U1 created if needed)."""
    client.put(f"/api/v1/units/{unit}", json={"name": "Phường Một"}, headers=ADMIN)
    r = client.put(f"/api/v1/officials/{code}", headers=ADMIN, json={
        "full_name": f"Cán bộ {code}", "unit": unit, "email": email, **fields})
    assert r.status_code in (200, 201), r.get_json()


def ask(client, email, address="127.0.0.1", **body):
    return client.post("/api/v1/auth/links", json={"email": email, **body},
                       environ_base={"REMOTE_ADDR": address})


def link_events(survey) -> list:
    survey.runtime.get("survey.relay").flush()
    return queued_events(survey, topology.queue_for("notify").name, auth.LINK_REQUESTED)


def last_link(survey, ctx) -> str:
    """The path of the last link asked for, as notify turns its nonce into the link."""
    event = link_events(survey)[-1]
    return "/login/" + signin.secret_for(ctx.link_key, event.data["nonce"])
