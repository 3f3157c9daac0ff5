"""Notify: reminder sends per second, and rating → alert email latency.

Notify runs in the benchmark process (mongomock store, the real broker) with a local SMTP
server (aiosmtpd). Reminders: one deadline for every unit (`["*"]`), each with one email
address; one reminder run creates, claims and sends an email per unit (eight sending
threads), timed until the SMTP server has them all. Alerts: ratings of 1, one official
each, published one after the other; each timed from its publish to its email arriving
(RabbitMQ → consumer → alert claimed and rendered → sending thread → SMTP). No baseline:
the figures are absolute.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.common import fresh_topology, percentile, store_url
from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.metrics import sample_total
from devkit.receivers import SmtpServer
from shared import events as ev
from shared import topology
from shared.broker import RabbitPublisher
from shared.messages import OutgoingMessage

DEADLINE = "bench"
OFFSET = "P1D"


@dataclass
class NotifyFigures:
    units: int
    reminders: int          # created by the reminder run
    received: int           # of those, emails the SMTP server received
    reminders_per_s: float
    alert_p50_ms: float | None
    alert_p99_ms: float | None
    alerts: int


def _directory(units: int, officials: int) -> list[ev.Event]:
    now = datetime.now(UTC)
    events = [ev.make_event(ev.UNIT_UPSERTED, {
        "code": f"U{i:04d}", "name": f"Đơn vị {i}", "emails": [f"u{i}@example.vn"],
        "version": 1, "updated_at": now}, source="/bench") for i in range(units)]
    return events + [ev.make_event(ev.OFFICIAL_UPSERTED, {
        "code": f"CB{i:04d}", "full_name": f"Cán bộ {i}", "unit": f"U{i % units:04d}",
        "version": 1, "updated_at": now}, source="/bench") for i in range(officials)]


def _low_rating(i: int, units: int) -> ev.Event:
    return ev.make_event(ev.RATING_SUBMITTED, {
        "id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1",
        "unit": f"U{i % units:04d}", "official": f"CB{i:04d}", "overall": 1,
        "comment": "Chờ quá lâu", "submitted_at": datetime.now(UTC)}, source="/bench")


def _acked(client) -> int:
    """Deliveries notify has acked (its /metrics; counted since this process started)."""
    text = client.get("/metrics", headers=ADMIN).get_data(as_text=True)
    return int(sample_total(text, "congso_events_consumed_total", outcome="ack",
                            queue=topology.queue_for("notify").name))


def _wait_acked(client, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _acked(client) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"notify did not ack {expected} events in {timeout}s")
        time.sleep(0.1)


def _pending(client) -> int:
    r = client.get(f"/api/v1/notifications?deadline={DEADLINE}&status=pending&per_page=1",
                   headers=ADMIN)
    return int(r.headers["X-Total-Count"])


def _start_notify(url: str, smtp_url: str):
    """Notify as an in-process app (the service's public factory) on an embedded store."""
    from services.notify.app import create_app
    from shared.bus import RabbitBus
    from shared.config import Settings
    from shared.http import runtime_of

    settings = Settings(service="notify", amqp_url=url, admin_token=ADMIN_TOKEN,
                        smtp_url=smtp_url, webhook_secret="bench",
                        mongodb_url=store_url("notify"))
    app = create_app(settings, bus=RabbitBus(url, name="bench-notify"))
    runtime_of(app).start()
    return app, runtime_of(app).stop


def send_reminders_now(app, due: datetime) -> int:
    """Run the deadline's reminder one day before `due` at once; return the sends created.

    The one place the bench uses notify's internal API (its scheduler's `run`, which
    gives a job its dependencies): the scheduler would only run the reminder at its
    time, and the bench cannot wait a day.
    """
    from services.notify.deadlines import send_reminders

    created = app.extensions["notify"].scheduler.run(
        send_reminders, DEADLINE, OFFSET, now=due - timedelta(days=1))
    return len(created)


def run(url: str, *, units: int, alerts: int) -> NotifyFigures:
    """Reminders to `units` units, then `alerts` alerts one after the other."""
    fresh_topology(url)
    smtp = SmtpServer().start()
    app, stop = _start_notify(url, smtp.url)
    client = app.test_client()
    pub = RabbitPublisher(url, name="bench-feeder")
    try:
        pub.wait_ready(10)
        directory = _directory(units, alerts)
        expected = _acked(client) + len(directory)
        pub.publish_many([OutgoingMessage.from_event(e) for e in directory], timeout=60)
        _wait_acked(client, expected, 120)

        due = datetime.now(UTC) + timedelta(days=2)
        client.put(f"/api/v1/deadlines/{DEADLINE}", headers=ADMIN, json={
            "title": "Báo cáo", "due_at": due.isoformat(), "units": ["*"],
            "remind_before": [OFFSET]})
        started = time.perf_counter()
        created = send_reminders_now(app, due)
        while len(smtp.messages) < created and time.perf_counter() - started < 600:
            time.sleep(0.05)
        reminder_rate = len(smtp.messages) / (time.perf_counter() - started)
        settle_by = time.monotonic() + 60
        while _pending(client) and time.monotonic() < settle_by:
            time.sleep(0.05)
        received = len(smtp.messages)

        latencies = []
        for i in range(alerts):
            before = len(smtp.messages)
            message = OutgoingMessage.from_event(_low_rating(i, units))
            t0 = time.perf_counter()
            pub.publish(message)
            while len(smtp.messages) == before:
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"no alert email 30 s after low rating {i}")
                time.sleep(0.001)
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        pub.close()
        stop()
        smtp.stop()
    latencies.sort()
    return NotifyFigures(units=units, reminders=created, received=received,
                         reminders_per_s=reminder_rate, alert_p50_ms=percentile(latencies, 0.5),
                         alert_p99_ms=percentile(latencies, 0.99), alerts=alerts)
