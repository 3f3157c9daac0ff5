from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared import events as ev
from shared import topology
from shared.messages import OutgoingMessage


def unit(code, *, emails=(), webhook=None, parent=None, version=1, name=None):
    return ev.make_event(ev.UNIT_UPSERTED, {
        "code": code, "name": name or f"Đơn vị {code}", "parent": parent,
        "emails": list(emails), "webhook_url": webhook, "version": version,
        "updated_at": datetime.now(UTC)}, source="/test")


def official(code, unit_code, name=None):
    return ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": code, "full_name": name or f"Cán bộ {code}", "unit": unit_code, "version": 1,
        "updated_at": datetime.now(UTC)}, source="/test")


def rating(official_code, overall, *, unit_code="U1", comment=None, when=None, rid=None):
    rid = rid or uuid.uuid4().hex
    return ev.make_event(ev.RATING_SUBMITTED, {
        "id": rid, "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": unit_code,
        "official": official_code, "overall": overall, "comment": comment,
        "submitted_at": when or datetime.now(UTC)}, source="/test", id=f"rating-{rid}")


def this_year() -> str:
    return str(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year)


def score(official_code=None, *, conduct=None, unit_code=None, satisfaction=None,
          period=None):
    period = period or this_year()
    if official_code:
        data = {"scope": "official", "official": official_code, "unit": unit_code,
                "period": period, "score": {"conduct_index": conduct}}
    else:
        data = {"scope": "unit", "official": None, "unit": unit_code, "period": period,
                "score": {"citizen": {"satisfaction_rate": satisfaction}}}
    return ev.make_event(ev.SCORE_UPDATED, {**data, "computed_at": datetime.now(UTC)},
                         source="/test")


def deliver(running, *events):
    pub = running.bus.publisher()
    for e in events:
        pub.publish(OutgoingMessage.from_event(e))
    assert running.bus.drain_wait(20, queues=[topology.queue_for("notify").name])


def notifications(**where):
    from services.notify.documents import Notification

    return list(Notification._get_collection().find(where).sort("created_at", 1))
