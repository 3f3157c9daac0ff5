"""Events for scoring tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared import events as ev
from shared import topology
from shared.messages import OutgoingMessage

WHEN = datetime(2026, 5, 10, 3, tzinfo=UTC)
CRITERIA5 = {"discipline": 5, "conduct": 5, "ethics": 5, "dress": 5, "participation": 5}


def rating(official="CB1", overall=5, when=WHEN, rid=None, factors=None, unit="U1"):
    rid = rid or uuid.uuid4().hex
    return ev.make_event(ev.RATING_SUBMITTED, {
        "id": rid, "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": unit,
        "official": official, "overall": overall, "factors": factors or {},
        "submitted_at": when}, source="/test", id=f"rating-{rid}")


def review(reviewee="CB1", reviewer="p" * 20, revision=1, scores=None, period="2026",
           unit="U1", rid=None):
    rid = rid or f"rv-{reviewer}-{reviewee}"
    return ev.make_event(ev.PEER_REVIEW_SUBMITTED, {
        "id": rid, "period": period, "unit": unit, "reviewee": reviewee,
        "reviewer": reviewer, "scores": scores or CRITERIA5, "revision": revision,
        "submitted_at": WHEN}, source="/test", id=f"review-{rid}-{revision}")


def official(code="CB1", unit="U1", version=1, name=None, active=True, position=None):
    return ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": code, "full_name": name or f"Cán bộ {code}", "unit": unit, "version": version,
        "active": active, "position": position, "updated_at": datetime.now(UTC)},
        source="/test")


def unit(code="U1", parent=None, version=1, name=None):
    return ev.make_event(ev.UNIT_UPSERTED, {
        "code": code, "name": name or f"Đơn vị {code}", "parent": parent, "version": version,
        "updated_at": datetime.now(UTC)}, source="/test")


def deliver(running, *events):
    pub = running.bus.publisher()
    for e in events:
        pub.publish(OutgoingMessage.from_event(e))
    assert running.bus.drain_wait(20, queues=[topology.queue_for("scoring").name])
