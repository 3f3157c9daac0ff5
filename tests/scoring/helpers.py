"""Events and callers for scoring tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from devkit.apps import ADMIN
from devkit.auth import signed_in
from shared import auth_events, review_events, topology
from shared import events as ev
from shared.auth import token_digest
from shared.integrity_events import BURST, COUNTED, RATING_STATUS_CHANGED
from shared.messages import OutgoingMessage

WHEN = datetime(2026, 5, 10, 3, tzinfo=UTC)
CRITERIA5 = {"discipline": 5, "conduct": 5, "ethics": 5, "dress": 5, "participation": 5}


def rating(official="CB1", overall=5, when=WHEN, rid=None, factors=None, unit="U1",
           comment=None):
    """`rating.submitted` as survey sent it before ratings had states (counted)."""
    rid = rid or uuid.uuid4().hex
    data = {"id": rid, "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": unit,
            "official": official, "overall": overall, "factors": factors or {},
            "submitted_at": when}
    if comment is not None:
        data["comment"] = comment
    return ev.make_event(ev.RATING_SUBMITTED, data, source="/test", id=f"rating-{rid}")


def rated(event, status: str, version: int, *, changed: bool | None = None,
          reasons=None, burst=None):
    """The rating of `event` (from `rating`) with a state: `rating.submitted` (the state
    it was stored in, or its current one in a replay) or, `changed`, survey's
    `rating.status_changed` (the default from version 2 on)."""
    changed = version > 1 if changed is None else changed
    if reasons is None:
        reasons = [] if status == COUNTED else [BURST]
    data = {**event.data, "given_at": event.data["submitted_at"], "status": status,
            "reasons": reasons, "burst": burst, "status_version": version}
    rid = data["id"]
    if changed:
        return ev.make_event(RATING_STATUS_CHANGED, data, source="/test",
                             id=f"rating-status-{rid}-{version}")
    return ev.make_event(ev.RATING_SUBMITTED, data, source="/test", id=f"rating-{rid}")


def review(reviewee="CB1", reviewer="p" * 20, revision=1, scores=None, period="2026",
           unit="U1", rid=None, comment=None):
    rid = rid or f"rv-{reviewer}-{reviewee}"
    return ev.make_event(ev.PEER_REVIEW_SUBMITTED, {
        "id": rid, "period": period, "unit": unit, "reviewee": reviewee,
        "reviewer": reviewer, "scores": scores or CRITERIA5, "revision": revision,
        "comment": comment, "submitted_at": WHEN}, source="/test",
        id=f"review-{rid}-{revision}")


def window(year="2026", *, opens_at, closes_at, version=1):
    """Survey's `review_window.set` for a year."""
    return ev.make_event(review_events.WINDOW_SET, {
        "year": year, "opens_at": opens_at, "closes_at": closes_at, "remind_before": [],
        "version": version}, source="/test")


def closed_window(year="2026", version=1):
    """A window of `year` that closed an hour ago: its peer results are published."""
    now = datetime.now(UTC)
    return window(year, opens_at=now - timedelta(days=30), closes_at=now - timedelta(hours=1),
                  version=version)


def open_window(year="2026", version=1):
    """A window of `year` open until a month from now: only `peer.count` is given."""
    now = datetime.now(UTC)
    return window(year, opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                  version=version)


def official(code="CB1", unit="U1", version=1, name=None, active=True, position=None,
             roles=()):
    return ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": code, "full_name": name or f"Cán bộ {code}", "unit": unit, "version": version,
        "active": active, "position": position, "roles": list(roles),
        "email": f"{code.lower()}@example.vn", "updated_at": datetime.now(UTC)},
        source="/test")


def unit(code="U1", parent=None, version=1, name=None, managers=()):
    return ev.make_event(ev.UNIT_UPSERTED, {
        "code": code, "name": name or f"Đơn vị {code}", "parent": parent, "version": version,
        "managers": list(managers), "updated_at": datetime.now(UTC)}, source="/test")


def deliver(running, *events):
    pub = running.bus.publisher()
    for e in events:
        pub.publish(OutgoingMessage.from_event(e))
    assert running.bus.drain_wait(20, queues=[topology.queue_for("scoring").name])


# The office of the scope tests: P above U1 and U2; MP manages P, M1 U1, M2 U2; ADM has
# the role admin; every official has the bearer token "cso_<code>".
PEOPLE = {"CB1": "U1", "CB2": "U1", "M1": "U1", "M2": "U2", "MP": "P", "ADM": "U2"}


def office_events() -> list:
    return [unit("P", managers=["MP"]), unit("U1", parent="P", managers=["M1"]),
            unit("U2", parent="P", managers=["M2"]),
            *(official(code, where, roles=["admin"] if code == "ADM" else [])
              for code, where in PEOPLE.items()),
            *(token_issued(code) for code in PEOPLE),
            rating("CB1", unit="U1"), rating("M2", unit="U2")]


def token_issued(code: str):
    return ev.make_event(auth_events.TOKEN_ISSUED, {
        "official": code, "digest": token_digest(f"cso_{code}"),
        "issued_at": datetime.now(UTC)}, source="/test")


def revoked(code: str, *, tokens=False, sessions=False):
    return ev.make_event(auth_events.REVOKED, {
        "at": datetime.now(UTC), "official": code, "tokens": tokens, "sessions": sessions},
        source="/test")


def as_caller(running, caller: str):
    """(a test client, headers) acting as `caller`: "anonymous", "admin" (ADMIN_TOKEN),
    an official's code (their bearer token) or "<code>-session" (a session cookie)."""
    client = running.app.test_client()
    if caller == "anonymous":
        return client, {}
    if caller == "admin":
        return client, ADMIN
    if caller.endswith("-session"):
        return client, signed_in(client, caller.removesuffix("-session"))
    return client, {"Authorization": f"Bearer cso_{caller}"}
