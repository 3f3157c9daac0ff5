"""Who reads what in notify: the notification log and deadlines by scope (a manager of a
unit reads that unit and every unit below it), writes for administrators only, sessions
and tokens known from events, and every write audited to survey's log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, make_settings
from devkit.auth import pinned_settings, signed_in
from services.notify.deadlines import send_overdue
from shared import auth_events
from tests.conftest import wait_for
from tests.notify.conftest import SECRET
from tests.notify.helpers import (
    account_notice,
    deliver,
    link_requested,
    official,
    rating,
    review_link,
    run_job,
    settled,
    start_notify,
    token_issued,
    unit,
)

# TINH > U1, U2; X elsewhere. M_TINH manages TINH, M1 U1, MX X; CB1 manages nothing;
# ADM is an official with the admin role.
TOKENS = {code: f"cso_{code.lower()}-token-0123456789" for code in
          ("M_TINH", "M1", "MX", "CB1", "ADM")}


def bearer(code: str) -> dict:
    return {"Authorization": f"Bearer {TOKENS[code]}"}


@pytest.fixture
def tree(mongo_url, smtp):
    running = start_notify(make_settings("notify", mongo_url, smtp_url=smtp.url,
                                         webhook_secret=SECRET, **pinned_settings()))
    deliver(running,
            unit("TINH", emails=["tinh@example.vn"], managers=["M_TINH"]),
            unit("U1", parent="TINH", emails=["u1@example.vn"], managers=["M1"]),
            unit("U2", parent="TINH", emails=["u2@example.vn"]),
            unit("X", emails=["x@example.vn"], managers=["MX"]),
            official("M_TINH", "TINH"), official("M1", "U1"), official("MX", "X"),
            official("CB1", "U1", email="cb1@example.vn"), official("CB2", "U2"),
            official("CBX", "X"), official("ADM", "TINH", roles=["admin"]),
            *(token_issued(code, token) for code, token in TOKENS.items()))
    # an alert for each of U1, U2 and X, and four messages to CB1 of unit U1
    deliver(running, rating("CB1", 1), rating("CB2", 1, unit_code="U2"),
            rating("CBX", 1, unit_code="X"), link_requested("CB1", "cb1@example.vn"),
            account_notice("CB1", ["cb1@example.vn"]),
            review_link("CB1", "cb1@example.vn", "review.invitation"),
            review_link("CB1", "cb1@example.vn", "review.reminder", done=2))
    settled()
    yield running
    running.stop()


def log(client, headers=None, **query):
    return client.get("/api/v1/notifications", query_string=query, headers=headers or {})


def seen(r) -> list[tuple[str, str]]:
    assert r.status_code == 200, r.get_json()
    return sorted((n["kind"], n["unit"]) for n in r.get_json())


ALERTS = {"U1": ("rating.alert", "U1"), "U2": ("rating.alert", "U2"),
          "X": ("rating.alert", "X")}
PERSONAL = [("account.notice", "U1"), ("auth.link", "U1"), ("review.invitation", "U1"),
            ("review.reminder", "U1")]


def test_a_manager_reads_the_notifications_of_their_units_only(tree):
    client = tree.client
    assert seen(log(client, bearer("M1"))) == [ALERTS["U1"]]  # never CB1's own messages
    assert seen(log(client, bearer("M1"), unit="U1")) == [ALERTS["U1"]]
    assert log(client, bearer("M1"), unit="U2").status_code == 403
    assert log(client, bearer("M1"), unit="X").status_code == 403
    assert log(client, bearer("M1"), official="CB1").status_code == 403
    # not the review cycle's either: who had reviews pending is no manager's to read
    assert seen(log(client, bearer("M1"), kind="review.reminder")) == []


def test_the_manager_of_a_parent_reads_every_unit_below_it(tree):
    client = tree.client
    assert seen(log(client, bearer("M_TINH"))) == [ALERTS["U1"], ALERTS["U2"]]
    assert seen(log(client, bearer("M_TINH"), unit="U2")) == [ALERTS["U2"]]
    assert seen(log(client, bearer("MX"))) == [ALERTS["X"]]
    assert log(client, bearer("MX"), unit="TINH").status_code == 403


def test_an_official_who_manages_nothing_reads_no_log_and_anonymous_is_401(tree):
    client = tree.client
    assert log(client, bearer("CB1")).status_code == 403
    assert log(client, bearer("CB1"), unit="U1").status_code == 403
    assert log(client).status_code == 401
    assert log(client, {"Authorization": "Bearer cso_unknown-token-000000"}).status_code == 401


def test_administrators_read_everything_including_messages_to_one_person(tree):
    everything = sorted([*ALERTS.values(), *PERSONAL])
    assert seen(log(tree.client, ADMIN)) == everything
    assert seen(log(tree.client, bearer("ADM"))) == everything
    r = log(tree.client, ADMIN, official="CB1")
    assert sorted((n["kind"], n["official"]) for n in r.get_json()) == [
        ("account.notice", "CB1"), ("auth.link", "CB1"), ("review.invitation", "CB1"),
        ("review.reminder", "CB1")]
    assert {n["official"] for n in log(tree.client, ADMIN, kind="rating.alert").get_json()} \
        == {None}


def test_a_session_reads_by_the_same_scope(tree):
    client = tree.client
    signed_in(client, "M1")
    assert seen(log(client)) == [ALERTS["U1"]]
    assert log(client, unit="U2").status_code == 403
    r = client.get("/api/v1/me")
    assert r.get_json()["manages"] == ["U1"] and r.get_json()["via"] == "session"


def test_a_deactivated_manager_is_refused_at_once(tree):
    deliver(tree, official("M1", "U1", active=False, version=2))
    assert log(tree.client, bearer("M1")).status_code == 401


def deadline(due=None, units=("U1",)):
    due = due or datetime.now(UTC) + timedelta(days=10)
    return {"title": "Báo cáo quý", "due_at": due.isoformat(), "units": list(units),
            "remind_before": ["P1D"]}


@pytest.fixture
def deadlines(tree):
    for deadline_id, units in (("d-u1", ["U1"]), ("d-u2", ["U2"]), ("d-x", ["X"]),
                               ("d-all", ["*"]), ("d-u1-x", ["U1", "X"])):
        r = tree.client.put(f"/api/v1/deadlines/{deadline_id}", json=deadline(units=units),
                            headers=ADMIN)
        assert r.status_code == 201, r.get_json()
    for unit_code in ("U1", "X"):
        tree.client.post(f"/api/v1/deadlines/d-u1-x/submissions/{unit_code}", headers=ADMIN)
    return tree


def listed(client, headers) -> dict:
    r = client.get("/api/v1/deadlines", headers=headers)
    assert r.status_code == 200, r.get_json()
    return {d["id"]: (d["units"], d["submitted"]) for d in r.get_json()}


def test_a_manager_reads_the_deadlines_naming_units_in_scope_and_only_those_units(deadlines):
    client = deadlines.client
    assert listed(client, bearer("M1")) == {
        "d-u1": (["U1"], []), "d-all": (["*"], []), "d-u1-x": (["U1"], ["U1"])}
    assert listed(client, bearer("M_TINH")).keys() == {"d-u1", "d-u2", "d-all", "d-u1-x"}
    assert client.get("/api/v1/deadlines/d-u1", headers=bearer("M1")).status_code == 200
    assert client.get("/api/v1/deadlines/d-u2", headers=bearer("M1")).status_code == 403
    assert listed(client, ADMIN)["d-u1-x"] == (["U1", "X"], ["U1", "X"])
    assert client.get("/api/v1/deadlines", headers=bearer("CB1")).status_code == 403


def test_deadline_and_calendar_writes_are_for_administrators_only(deadlines):
    client = deadlines.client
    for headers in (bearer("M_TINH"), bearer("M1"), bearer("CB1")):
        assert client.put("/api/v1/deadlines/d-u1", json=deadline(),
                          headers=headers).status_code == 403
        assert client.delete("/api/v1/deadlines/d-u1", headers=headers).status_code == 403
        assert client.post("/api/v1/deadlines/d-u1/submissions/U1",
                           headers=headers).status_code == 403
        assert client.post("/api/v1/calendar", json={"year": 2030},
                           headers=headers).status_code == 403
    assert client.put("/api/v1/deadlines/d-new", json=deadline(),
                      headers=bearer("ADM")).status_code == 201


def test_a_cookie_write_needs_the_csrf_value(tree):
    client = tree.client
    csrf = signed_in(client, "ADM")
    assert client.put("/api/v1/deadlines/d1", json=deadline()).status_code == 403
    assert client.put("/api/v1/deadlines/d1", json=deadline(), headers=csrf).status_code == 201


def audit_records(running) -> list[dict]:
    events = [json.loads(m.body) for m in running.bus.waiting("congso.survey")]
    assert {e["type"] for e in events} <= {auth_events.AUDIT_RECORDED}
    return [e["data"] for e in events]


def test_every_write_is_audited_to_survey(tree):
    client = tree.client
    client.put("/api/v1/deadlines/d1", json=deadline(), headers=ADMIN)
    client.put("/api/v1/deadlines/d1", json=deadline(units=["U1", "U2"]),
               headers=bearer("ADM"))
    client.post("/api/v1/deadlines/d1/submissions/U2", headers=ADMIN,
                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    client.delete("/api/v1/deadlines/d1", headers=ADMIN)
    client.delete("/api/v1/deadlines/d1", headers=ADMIN)  # 404: nothing done, no record
    client.post("/api/v1/calendar", json={"year": 2030}, headers=ADMIN)
    records = wait_for(lambda: (r := audit_records(tree)) and len(r) >= 5 and r,
                       message="the audit records published")
    assert [(r["action"], r["actor"], r["target"]) for r in records] == [
        ("deadline_created", "admin", "deadlines/d1"),
        ("deadline_changed", "ADM (token)", "deadlines/d1"),
        ("submission_marked", "admin", "deadlines/d1/submissions/U2"),
        ("deadline_deleted", "admin", "deadlines/d1"),
        ("calendar_loaded", "admin", "calendar/2030")]
    assert {r["service"] for r in records} == {"notify"}
    changed = records[1]["details"]
    assert changed["units"] == ["U1", "U2"] and changed["previous"]["units"] == ["U1"]
    assert records[2]["address_hash"] and "203.0.113.9" not in json.dumps(records)
    assert records[4]["details"]["deadlines"]


def test_refused_writes_and_reads_are_not_audited(tree):
    tree.client.put("/api/v1/deadlines/d1", json=deadline(), headers=bearer("M1"))
    tree.client.get("/api/v1/notifications", headers=ADMIN)
    tree.runtime.get("notify.relay").flush(5)
    assert audit_records(tree) == []


def test_an_escalated_overdue_notice_is_read_by_the_scope_of_the_unit_it_is_about(tree):
    due = datetime.now(UTC) + timedelta(days=2)
    tree.client.put("/api/v1/deadlines/d1", json={**deadline(due, units=["U2"]),
                                                  "escalate_to": "X"}, headers=ADMIN)
    run_job(tree, send_overdue, "d1", now=due + timedelta(hours=1))
    settled()
    overdue = [("deadline.overdue", "U2")] * 2  # to U2, and to X about U2
    assert seen(log(tree.client, bearer("M_TINH"), kind="deadline.overdue")) == overdue
    assert seen(log(tree.client, bearer("MX"), kind="deadline.overdue")) == []
