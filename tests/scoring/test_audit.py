"""What scoring audits (report exports, configuration changes, publishing holds) reaches
survey's audit log as `audit.recorded`, through an outbox that a hold never pauses."""

from __future__ import annotations

import json

from devkit.apps import ADMIN, ADMIN_TOKEN, queued_events
from services.scoring.documents import database
from shared import audit, auth_events, topology
from shared import events as ev
from tests.conftest import wait_for
from tests.scoring.helpers import as_caller, deliver, rating

CONFIG = {"citizen_weight": 1, "peer_weight": 0, "prior_weight": 10, "prior_rate": 0.8,
          "min_peer_reviewers": 3}
DEFAULTS = {"citizen_weight": 0.5, "peer_weight": 0.5, "prior_weight": 10, "prior_rate": 0.8,
            "min_peer_reviewers": 3}


def records(running, action: str) -> list[dict]:
    """The audit records of `action` published so far (they wait in survey's queue)."""
    return [e.data for e in queued_events(running, topology.queue_for("survey").name,
                                          auth_events.AUDIT_RECORDED)
            if e.data["action"] == action]


def published(running, action: str, n: int = 1) -> list[dict]:
    return wait_for(lambda: len(found := records(running, action)) >= n and found,
                    timeout=15, message=f"{n} audit record(s) of {action}")


def test_a_report_export_is_audited_with_who_what_and_from_where(office):
    client, headers = as_caller(office, "M1")
    r = client.get("/api/v1/reports/units/U1.xlsx?period=2026", headers=headers)
    assert r.status_code == 200
    [record] = published(office, "report_exported")
    assert record["service"] == "scoring" and record["actor"] == "M1 (token)"
    assert record["target"] == "units/U1"
    assert record["details"] == {"unit": "U1", "period": "2026", "format": "xlsx"}
    assert record["address_hash"] == audit.address_hash(ADMIN_TOKEN, "127.0.0.1")
    envelopes = [m.body.decode() for m in office.bus.waiting(topology.queue_for("survey").name)]
    assert not any("127.0.0.1" in e or "cso_M1" in e for e in envelopes)
    # stored in scoring's own database first, its event cleared once confirmed
    stored = wait_for(lambda: (d := database()[audit.OUTBOX].find_one({"_id": record["id"]}))
                      and "outbox_event" not in d and d, timeout=15)
    assert stored["action"] == "report_exported"


def test_only_exports_that_happen_are_audited(office):
    client, headers = as_caller(office, "M2")
    assert client.get("/api/v1/reports/units/U1.csv", headers=headers).status_code == 403
    assert office.client.get("/api/v1/reports/units/NOPE.csv",
                             headers=ADMIN).status_code == 404
    assert office.client.get("/api/v1/reports/units/U1.csv?period=2026-05",
                             headers=ADMIN).status_code == 422
    assert office.client.get("/api/v1/reports/units/U1.csv?period=2025",
                             headers=ADMIN).status_code == 200
    [record] = published(office, "report_exported")
    assert record["actor"] == "admin"
    assert record["details"] == {"unit": "U1", "period": "2025", "format": "csv"}
    office.runtime.get("scoring.audit-relay").flush()
    assert len(records(office, "report_exported")) == 1


def test_a_configuration_change_is_audited_old_and_new(office):
    assert office.client.put("/api/v1/scoring/config", json=CONFIG,
                             headers=ADMIN).status_code == 200
    [first] = published(office, "config_changed")
    assert first["actor"] == "admin" and first["target"] == "scoring/config"
    assert first["details"] == {"old": DEFAULTS, "new": CONFIG, "version": 1}
    bad = {**CONFIG, "min_peer_reviewers": 2}
    assert office.client.put("/api/v1/scoring/config", json=bad,
                             headers=ADMIN).status_code == 422
    client, csrf = as_caller(office, "ADM-session")
    again = {**CONFIG, "prior_rate": 0.5}
    assert client.put("/api/v1/scoring/config", json=again, headers=csrf).status_code == 200
    second = published(office, "config_changed", 2)[-1]
    assert second["actor"] == "ADM (session)"
    assert second["details"] == {"old": CONFIG, "new": again, "version": 2}
    office.runtime.get("scoring.audit-relay").flush()
    assert len(records(office, "config_changed")) == 2  # not the refused one


def test_audit_records_are_published_while_a_hold_keeps_scores_back(office):
    refresher = office.runtime.get("scoring.refresher")
    refresher.run_once(full_scan=True)
    office.runtime.get("scoring.relay").flush()
    scores_before = len(queued_events(office, topology.queue_for("notify").name,
                                      ev.SCORE_UPDATED))
    r = office.client.put("/api/v1/scoring/hold", json={"seconds": 600}, headers=ADMIN)
    assert r.status_code == 200
    [held] = published(office, "publishing_held")  # published though the hold is on
    assert held["details"]["seconds"] == 600
    assert held["details"]["until"] == r.get_json()["publishing_held_until"]

    deliver(office, rating("CB1", 1, unit="U1"))
    refresher.run_once(full_scan=True)
    client, headers = as_caller(office, "MP")
    assert client.get("/api/v1/reports/units/P.csv?period=2026",
                      headers=headers).status_code == 200
    [export] = published(office, "report_exported")
    assert export["actor"] == "MP (token)" and export["details"]["unit"] == "P"
    assert len(queued_events(office, topology.queue_for("notify").name,
                             ev.SCORE_UPDATED)) == scores_before  # still held

    assert office.client.delete("/api/v1/scoring/hold", headers=ADMIN).status_code == 204
    [ended] = published(office, "publishing_resumed")
    assert ended["actor"] == "admin" and ended["details"]["held_until"] == held["details"]["until"]


def test_audit_events_carry_no_secret_and_no_score(office):
    """A configuration or export record says what was done, never a token or a result."""
    office.client.put("/api/v1/scoring/config", json=CONFIG, headers=ADMIN)
    client, headers = as_caller(office, "M1")
    client.get("/api/v1/reports/units/U1.csv?period=2026", headers=headers)
    published(office, "report_exported")
    published(office, "config_changed")
    text = json.dumps([m.body.decode() for m in
                       office.bus.waiting(topology.queue_for("survey").name)])
    assert ADMIN_TOKEN not in text and "cso_" not in text and "citizen_own" not in text
