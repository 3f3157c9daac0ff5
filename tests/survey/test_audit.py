"""The audit log survey keeps (its own entries, and the other services' from its queue),
the notices that make acting on someone's account never silent, and what admin
endpoints never show."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from devkit.apps import ADMIN, queued_events
from devkit.auth import signed_in
from services.survey.documents import AuditEntry
from shared import audit, topology
from shared import auth_events as auth
from shared import events as ev
from shared.messages import OutgoingMessage
from tests.conftest import wait_for
from tests.survey.links import add_person
from tests.survey.test_contract_auth import concrete, operations


def entries(client, **query):
    r = client.get("/api/v1/audit", query_string=query, headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    return r


def notices(survey):
    survey.runtime.get("survey.relay").flush()
    return [e.data for e in queued_events(survey, topology.queue_for("notify").name,
                                          auth.ACCOUNT_NOTICE)]


def test_the_log_is_for_administrators(client, ctx):
    add_person(client, "CB1")
    add_person(client, "CB2", "cb2@example.vn", roles=["admin"])
    assert client.get("/api/v1/audit").status_code == 401
    token = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"}) \
        .status_code == 403
    signed_in(client, "CB2", ctx.signer)
    assert client.get("/api/v1/audit").status_code == 200  # an official with the role


def test_entries_newest_first_filtered_and_paged(client):
    add_person(client, "CB1")
    for _ in range(3):
        client.post("/api/v1/officials/CB1/tokens", headers=ADMIN)
    r = entries(client, per_page=2)
    assert r.headers["X-Total-Count"] == "5"  # the unit, the official, three tokens
    first = r.get_json()
    assert [e["action"] for e in first] == ["token_issued", "token_issued"]
    assert set(first[0]) == {"id", "at", "service", "actor", "action", "target", "details",
                             "address_hash"}
    assert first[0]["at"] >= first[1]["at"] and first[0]["actor"] == "admin"
    assert re.fullmatch(r"[0-9a-f]{24}", first[0]["address_hash"])
    second = entries(client, per_page=2, page=2).get_json()
    assert [e["action"] for e in second] == ["token_issued", "official_saved"]
    assert [e["action"] for e in entries(client, per_page=2, page=3).get_json()] == \
        ["unit_saved"]
    assert entries(client, action="unit_saved").headers["X-Total-Count"] == "1"
    assert entries(client, actor="CB1").get_json() == []
    assert client.get("/api/v1/audit?page=0", headers=ADMIN).status_code == 422


def test_an_officials_entries_are_found_by_code_however_they_signed_in(client, ctx):
    add_person(client, "CB1", roles=["admin"])
    csrf = signed_in(client, "CB1", ctx.signer)
    client.put("/api/v1/units/U2", json={"name": "Hai"}, headers=csrf)
    client.delete_cookie("congso_session")
    found = entries(client, actor="CB1").get_json()
    assert [(e["actor"], e["action"]) for e in found] == [("CB1 (session)", "unit_saved")]


def test_other_services_records_arrive_once(survey, client):
    record = audit.entry("scoring", "admin", "report_exported", target="units/U1",
                         details={"period": "2026", "format": "csv"})
    event = ev.make_event(auth.AUDIT_RECORDED, record, source=ev.SOURCES["scoring"])
    publisher = survey.bus.publisher()
    for _ in range(2):  # delivered twice: one entry
        publisher.publish(OutgoingMessage.from_event(event))
    wait_for(lambda: AuditEntry._get_collection().count_documents({"service": "scoring"}),
             message="scoring's record in survey's log")
    assert survey.bus.drain_wait(timeout=10, queues=[topology.queue_for("survey").name])
    [found] = entries(client, action="report_exported").get_json()
    assert (found["id"], found["service"], found["target"]) == \
        (record["id"], "scoring", "units/U1")


def test_a_token_is_audited_and_told_to_the_official(survey, client):
    add_person(client, "CB1", "cb1@example.vn")
    client.post("/api/v1/officials/CB1/tokens", headers=ADMIN)
    client.delete("/api/v1/officials/CB1/tokens", headers=ADMIN)
    told = [(n["notice"], n["emails"], n["official"], n["by"]) for n in notices(survey)]
    assert told == [("token_issued", ["cb1@example.vn"], "CB1", "admin"),
                    ("tokens_revoked", ["cb1@example.vn"], "CB1", "admin")]
    assert [e["action"] for e in entries(client).get_json()][:2] == \
        ["tokens_revoked", "token_issued"]


def test_an_email_change_is_told_to_both_addresses(survey, client):
    add_person(client, "CB1", "old@example.vn")
    add_person(client, "CB1", "new@example.vn")
    [notice] = notices(survey)
    assert (notice["notice"], notice["emails"]) == \
        ("email_changed", ["new@example.vn", "old@example.vn"])
    assert notice["details"] == {"previous": "old@example.vn", "new": "new@example.vn"}
    [entry] = entries(client, action="email_changed").get_json()
    assert entry["target"] == "CB1" and entry["details"]["previous"] == "old@example.vn"


def test_without_an_address_it_is_audited_and_nobody_is_mailed(survey, client):
    add_person(client, "CB1", None)
    client.post("/api/v1/officials/CB1/tokens", headers=ADMIN)
    assert notices(survey) == []
    assert [e["target"] for e in entries(client, action="token_issued").get_json()] == ["CB1"]


def test_directory_and_window_changes_are_audited(client, token):
    year = datetime.now(UTC).year
    client.put(f"/api/v1/review-windows/{year}", headers=ADMIN, json={
        "opens_at": f"{year}-11-01T00:00:00+07:00", "closes_at": f"{year}-12-01T00:00:00+07:00"})
    client.post("/api/v1/counters/Q1/token", headers=ADMIN)
    actions = {e["action"] for e in entries(client, per_page=100).get_json()}
    assert actions >= {"unit_saved", "official_saved", "counter_saved", "counter_token_rotated",
                       "review_window_saved"}


SECRET_COMMENT = "Nhận xét kín của đồng nghiệp"


@pytest.fixture
def reviewed(client, token):
    """CB2 has reviewed CB1 with a comment only CB2 may read again."""
    year = datetime.now(UTC).year
    reviewer = client.post("/api/v1/officials/CB2/tokens", headers=ADMIN).get_json()["token"]
    r = client.put(f"/api/v1/peer-reviews/{year}/CB1", headers={
        "Authorization": f"Bearer {reviewer}"}, json={"scores": dict.fromkeys(
            ("discipline", "conduct", "ethics", "dress", "participation"), 2),
            "comment": SECRET_COMMENT})
    assert r.status_code == 201
    return year


def test_no_admin_endpoint_shows_a_reviews_scores_or_comment(client, reviewed):
    for method, path in operations(client):
        if method != "get":
            continue
        r = client.get(concrete(path).replace("2026", str(reviewed)), headers=ADMIN)
        body = r.get_data(as_text=True)
        assert SECRET_COMMENT not in body and '"scores"' not in body, (path, r.status_code)
    for page in ("/api/v1/audit?per_page=500", "/api/v1/officials", "/api/v1/units"):
        assert SECRET_COMMENT not in client.get(page, headers=ADMIN).get_data(as_text=True)
