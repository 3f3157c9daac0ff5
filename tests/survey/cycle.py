"""Helpers of the review-cycle tests: a ward with colleagues, its window, and what survey
sends notify when an invitation or a reminder is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devkit.apps import ADMIN, queued_events
from shared import auth_events as auth
from shared import events as ev
from shared import review_events as review
from shared import topology

YEAR = str(datetime.now(UTC).year)
SCORES = {"discipline": 5, "conduct": 4, "ethics": 5, "dress": 3, "participation": 4}
# (code, unit, email, active): A, B, C review each other (C has no address); OFF is
# inactive; X is alone in U2; M manages U1 from the department D above it
PEOPLE = [("A", "U1", "a@example.vn", True), ("B", "U1", "b@example.vn", True),
          ("C", "U1", None, True), ("OFF", "U1", "off@example.vn", False),
          ("X", "U2", "x@example.vn", True), ("M", "D", "m@example.vn", True)]


def ward(client) -> None:
    """The department D (managed by M) above U1 and U2, and PEOPLE."""
    for code, body in (("D", {"name": "Sở D"}), ("U1", {"name": "Phường Một", "parent": "D"}),
                       ("U2", {"name": "Phường Hai", "parent": "D"})):
        assert client.put(f"/api/v1/units/{code}", json=body, headers=ADMIN).status_code == 201
    for code, unit, email, active in PEOPLE:
        r = client.put(f"/api/v1/officials/{code}", headers=ADMIN, json={
            "full_name": f"Cán bộ {code}", "unit": unit, "active": active, "email": email,
            "position": f"Chức vụ {code}"})
        assert r.status_code == 201, r.get_json()
    assert client.put("/api/v1/units/D", json={"name": "Sở D", "managers": ["M"]},
                      headers=ADMIN).status_code == 200


def bearer(client, code: str) -> dict:
    token = client.post(f"/api/v1/officials/{code}/tokens", headers=ADMIN).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def open_window(client, *, days_left: float = 10, remind_before=("P3D",),
                year: str = YEAR) -> dict:
    now = datetime.now(UTC)
    r = client.put(f"/api/v1/review-windows/{year}", headers=ADMIN, json={
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=days_left)).isoformat(),
        "remind_before": list(remind_before)})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def flushed(survey) -> None:
    survey.runtime.get("survey.relay").flush()


def window_events(survey, consumer: str = "notify") -> list:
    flushed(survey)
    return queued_events(survey, topology.queue_for(consumer).name, review.WINDOW_SET)


def review_links(survey) -> list:
    """The review invitations and reminders survey asked notify to send."""
    flushed(survey)
    return [e for e in queued_events(survey, topology.queue_for("notify").name,
                                     auth.LINK_REQUESTED)
            if e.data["purpose"] != "sign_in"]


def due(kind: str, version: int, offset: str | None = None, year: str = YEAR) -> dict:
    """The data of notify's `review.cycle_due`."""
    return {"year": year, "kind": kind, "offset": offset, "window_version": version,
            "due_at": datetime.now(UTC)}


def due_event(kind: str, version: int, offset: str | None = None) -> ev.Event:
    return ev.make_event(review.CYCLE_DUE, due(kind, version, offset),
                         source=ev.SOURCES["notify"])
