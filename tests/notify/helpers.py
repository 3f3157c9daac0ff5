from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from devkit.apps import Running
from services.notify.app import create_app
from shared import auth_events as auth
from shared import events as ev
from shared import review_events, signin, topology
from shared.auth import token_digest
from shared.http import runtime_of
from shared.memory_bus import MemoryBus
from shared.messages import OutgoingMessage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def start_notify(settings, *, background: bool = True) -> Running:
    """Notify in process on the in-memory bus, with fast retries. Without `background`
    it serves and keeps its job store but never takes the scheduler's lease: its jobs
    do not run (a process that is down, as far as the jobs can tell)."""
    bus = MemoryBus()
    app = create_app(settings, bus=bus)
    runtime_of(app).start(background=background)
    sender = app.extensions["notify"].sender
    sender.initial_delay, sender.max_delay, sender.max_attempts = 0.05, 0.2, 4
    return Running(app, bus, settings)


def ctx(running):
    return running.app.extensions["notify"]


def run_job(running, func, *args, now):
    """Run a scheduler job as the scheduler would, at the given `now`."""
    return ctx(running).scheduler.run(func, *args, now=now)


def unit(code, *, emails=(), webhook=None, parent=None, version=1, name=None, managers=()):
    return ev.make_event(ev.UNIT_UPSERTED, {
        "code": code, "name": name or f"Đơn vị {code}", "parent": parent,
        "emails": list(emails), "webhook_url": webhook, "managers": list(managers),
        "version": version, "updated_at": datetime.now(UTC)}, source="/test")


def official(code, unit_code, name=None, *, email=None, roles=(), active=True, version=1):
    return ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": code, "full_name": name or f"Cán bộ {code}", "unit": unit_code,
        "email": email, "roles": list(roles), "active": active, "version": version,
        "updated_at": datetime.now(UTC)}, source="/test")


LOGIN_URL = "http://kiosk.test/login/"


def link_requested(official_code, email, *, nonce=None, expires_in=timedelta(minutes=15),
                   full_name="Trần Thị Bình", purpose="sign_in", context=None, next="/"):
    """An auth.link_requested as survey publishes it (the nonce, never the link)."""
    return ev.make_event(auth.LINK_REQUESTED, {
        "nonce": nonce or signin.new_nonce(), "official": official_code, "email": email,
        "full_name": full_name, "expires_at": datetime.now(UTC) + expires_in,
        "login_url": LOGIN_URL, "next": next, "purpose": purpose,
        "context": context or {}}, source=ev.SOURCES["survey"])


def review_link(official_code, email, kind="review.invitation", *, year="2026", assigned=7,
                done=0, closes_at=None, extra=False, **options):
    """The link survey asks notify to send with a review invitation or reminder."""
    closes_at = closes_at or datetime.now(UTC) + timedelta(days=10)
    return link_requested(official_code, email, purpose=kind, next=f"/reviews/{year}",
                          expires_in=options.pop("expires_in", timedelta(hours=72)),
                          context={"year": year, "assigned": assigned, "done": done,
                                   "pending": assigned - done,
                                   "closes_at": closes_at.isoformat(), "extra": extra},
                          **options)


def window_set(year, opens_at, closes_at, remind_before=(), version=1):
    """A review_window.set as survey publishes it."""
    return ev.make_event(review_events.WINDOW_SET, {
        "year": year, "opens_at": opens_at, "closes_at": closes_at,
        "remind_before": list(remind_before), "version": version},
        source=ev.SOURCES["survey"])


def account_notice(official_code, emails, notice="token_issued", *, by="admin",
                   details=None, full_name="Trần Thị Bình"):
    return ev.make_event(auth.ACCOUNT_NOTICE, {
        "official": official_code, "full_name": full_name, "emails": list(emails),
        "notice": notice, "at": datetime.now(UTC), "by": by, "details": details or {}},
        source=ev.SOURCES["survey"])


def token_issued(official_code, token):
    """The event that tells notify an official's bearer token (by its digest)."""
    return ev.make_event(auth.TOKEN_ISSUED, {
        "official": official_code, "digest": token_digest(token),
        "issued_at": datetime.now(UTC)}, source=ev.SOURCES["survey"])


def rating(official_code, overall, *, unit_code="U1", comment=None, when=None, rid=None,
           counter="Q1"):
    rid = rid or uuid.uuid4().hex
    return ev.make_event(ev.RATING_SUBMITTED, {
        "id": rid, "client_id": str(uuid.uuid4()), "counter": counter, "unit": unit_code,
        "official": official_code, "overall": overall, "comment": comment,
        "submitted_at": when or datetime.now(UTC)}, source="/test", id=f"rating-{rid}")


def this_year() -> str:
    return str(datetime.now(TZ).year)


def this_quarter() -> str:
    now = datetime.now(TZ)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def this_month() -> str:
    return datetime.now(TZ).strftime("%Y-%m")


def score(official_code=None, *, conduct=None, unit_code=None, satisfaction=None,
          count=30, period=None, computed_at=None):
    """A score.updated as scoring publishes it: an official's (conduct index) or a
    unit's (citizen satisfaction over `count` ratings)."""
    satisfied = None if satisfaction is None else round(count * satisfaction / 100)
    citizen = {"count": count, "mean": 3.5 if count else None,
               "satisfaction_rate": satisfaction, "factors": {},
               "index": None if satisfied is None else round(
                   100 * (satisfied + 8) / (count + 10), 2)}
    if official_code:
        data = {"scope": "official", "official": official_code, "unit": unit_code,
                "score": {"citizen": citizen,
                          "peer": {"count": 0, "criteria": None, "index": None},
                          "conduct_index": conduct, "band": None}}
    else:
        data = {"scope": "unit", "official": None, "unit": unit_code,
                "score": {"citizen": citizen}}
    return ev.make_event(ev.SCORE_UPDATED, {
        **data, "period": period or this_year(),
        "computed_at": computed_at or datetime.now(UTC)}, source="/test")


def deliver(running, *events):
    pub = running.bus.publisher()
    for e in events:
        pub.publish(OutgoingMessage.from_event(e))
    assert running.bus.drain_wait(20, queues=[topology.queue_for("notify").name])


def notifications(**where):
    from services.notify.documents import Notification

    return list(Notification._get_collection().find(where).sort("created_at", 1))


def settled(timeout: float = 10.0) -> None:
    """Wait until no notification is pending (every delivery has its final status)."""
    from services.notify.sender import wait_until_settled

    assert wait_until_settled(None, timeout), "notifications still pending"
