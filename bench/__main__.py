"""`make bench`: measure, against baselines taken in the same run, and write the results.

- HTTP ingest: survey's POST /api/v1/ratings (validation, counter lookup, store with its
  outbox event, relay publishing with confirms to RabbitMQ) against a bare Flask endpoint
  validating the same schema, both served by the same gunicorn setup, loaded by wrk.
- Broker: raw pika with one confirm per message, congso's pipelined publisher, and the
  whole path publisher → RabbitMQ → consumer (manual acks).

Every figure is the median of --runs runs. Results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

import pika
import requests

from devkit import rabbit
from devkit.procs import ServiceProcess, free_port
from shared import events as ev
from shared import topology
from shared.broker import RabbitPublisher, declare_topology
from shared.consumer import RabbitConsumer
from shared.messages import OutgoingMessage

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "bench-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


# --- wrk ---------------------------------------------------------------------------


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, *, duration: int, connections: int, env: dict | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
           "-s", str(ROOT / "bench" / "ratings.lua"), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})}, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps, "p50_ms": _to_ms(*p50.groups()), "p99_ms": _to_ms(*p99.groups()),
        "requests": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


# --- HTTP ingest -------------------------------------------------------------------


def seed_survey(base: str) -> str:
    s = f"{base}/api/v1"
    requests.put(f"{s}/units/U1", json={"name": "Phường Một"}, headers=ADMIN, timeout=5)
    requests.put(f"{s}/officials/CB1", json={"full_name": "Cán bộ Một", "unit": "U1"},
                 headers=ADMIN, timeout=5)
    r = requests.put(f"{s}/counters/Q1", json={"unit": "U1", "label": "Quầy 1",
                                               "officials": ["CB1"]}, headers=ADMIN, timeout=5)
    r.raise_for_status()
    return r.json()["token"]


def accepted_ratings(base: str) -> int:
    """Ratings answered 201 so far, from the service's own metrics."""
    text = requests.get(f"{base}/metrics", timeout=5).text
    pattern = (r'congso_http_requests_total\{endpoint="/api/v1/ratings",method="POST",'
               r'service="survey",status="201"\} ([\d.e+]+)')
    match = re.search(pattern, text)
    return int(float(match.group(1))) if match else 0


def wait_depth(url: str, queue: str, expected: int, timeout: float) -> float | None:
    """Seconds until `queue` holds `expected` messages (None if it never does)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if rabbit.queue_depth(url, queue) >= expected:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def bench_http(amqp_url: str, *, duration: int, connections: int) -> dict:
    env = {"AMQP_URL": amqp_url, "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "WARNING",
           "RATINGS_PER_MINUTE": "100000"}
    bare = ServiceProcess("bench.bare_app", env, free_port())
    try:
        bare.wait_ready()
        run_wrk(bare.base, duration=2, connections=connections,
                env={"BENCH_COUNTER_TOKEN": "warm"})
        bare_result = run_wrk(bare.base, duration=duration, connections=connections,
                              env={"BENCH_COUNTER_TOKEN": "x"})
    finally:
        bare.stop()

    rabbit.delete_topology(amqp_url)
    declare_topology(amqp_url)
    queue = topology.queue_for("scoring").name
    survey = ServiceProcess("services.survey", env, free_port())
    try:
        survey.wait_ready()
        token = seed_survey(survey.base)
        wrk_env = {"BENCH_COUNTER_TOKEN": token}
        run_wrk(survey.base, duration=2, connections=connections, env=wrk_env)
        time.sleep(1)
        before = 2 + accepted_ratings(survey.base)  # unit and official events, warm-up
        wait_depth(amqp_url, queue, before, 60)
        survey_result = run_wrk(survey.base, duration=duration, connections=connections,
                                env=wrk_env)
        # counted by the server, once the requests in flight when wrk stopped are answered
        time.sleep(1)
        accepted = 2 + accepted_ratings(survey.base) - before
        drained = wait_depth(amqp_url, queue, before + accepted, 120)
        time.sleep(1)  # anything published twice would show up now
        in_queue = rabbit.queue_depth(amqp_url, queue) - before
    finally:
        survey.stop()
    return {
        "bare": bare_result, "survey": survey_result, "accepted": accepted,
        "published": in_queue, "relay_drain_s": drained, "stored": before - 2 + accepted,
        "ratio": survey_result["rps"] / bare_result["rps"],
    }


# --- broker ------------------------------------------------------------------------


def _events(n: int) -> list[OutgoingMessage]:
    now = datetime.now(UTC)
    return [OutgoingMessage.from_event(ev.make_event(ev.RATING_SUBMITTED, {
        "id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": "U1",
        "official": "CB1", "overall": 4, "factors": {"access": 5}, "submitted_at": now,
    }, source="/bench")) for _ in range(n)]


def _purge(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        for spec in topology.QUEUES.values():
            ch.queue_purge(spec.name)
    finally:
        conn.close()


def bench_raw_pika(url: str, n: int) -> float:
    """Raw pika, BlockingChannel in confirm mode: one round trip per message."""
    msgs = _events(n)
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        started = time.perf_counter()
        for m in msgs:
            ch.basic_publish(topology.EXCHANGE, m.routing_key, m.body, props, mandatory=True)
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    _purge(url)
    return n / elapsed


def bench_publisher(url: str, n: int, batch: int = 1000) -> float:
    """congso's RabbitPublisher: pipelined confirms, batches of `batch`."""
    msgs = _events(n)
    pub = RabbitPublisher(url, name="bench-publisher")
    try:
        pub.wait_ready(10)
        started = time.perf_counter()
        for i in range(0, n, batch):
            results = pub.publish_many(msgs[i:i + batch], timeout=60)
            if any(r is not None for r in results):
                raise RuntimeError(f"publish failed: {next(r for r in results if r)}")
        elapsed = time.perf_counter() - started
    finally:
        pub.close()
    _purge(url)
    return n / elapsed


def bench_end_to_end(url: str, n: int, batch: int = 1000) -> float:
    """Publisher → RabbitMQ → consumer (load, validate, ack), events per second."""
    msgs = _events(n)
    done = threading.Event()
    count = [0]

    def handler(event):
        count[0] += 1
        if count[0] == n:
            done.set()

    consumer = RabbitConsumer(url, topology.queue_for("scoring"), handler, prefetch=256,
                              name="bench-consumer")
    consumer.start()
    pub = RabbitPublisher(url, name="bench-publisher")
    try:
        pub.wait_ready(10)
        while not consumer.ready:
            time.sleep(0.05)
        started = time.perf_counter()
        for i in range(0, n, batch):
            pub.publish_many(msgs[i:i + batch], timeout=60)
        if not done.wait(300):
            raise RuntimeError(f"only {count[0]} of {n} consumed")
        elapsed = time.perf_counter() - started
    finally:
        pub.close()
        consumer.stop()
    _purge(url)
    return n / elapsed


# --- scoring: consume → store → ack ------------------------------------------------


class _NoRefresh:
    def hint(self, *ids):
        pass


def bench_scoring_consume(url: str, n: int) -> dict:
    """Scoring's handler behind the real consumer vs the same handler in a plain loop."""
    from zoneinfo import ZoneInfo

    from services.scoring import documents
    from services.scoring.handlers import make_dispatcher
    from services.scoring.store import MongoScoringStore
    from shared import db

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    now = datetime.now(UTC)
    events = [ev.make_event(ev.RATING_SUBMITTED, {
        "id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1",
        "unit": f"U{i % 5}", "official": f"CB{i % 50}", "overall": i % 5 + 1,
        "factors": {"access": 4}, "submitted_at": now}, source="/bench") for i in range(n)]
    loaded = [ev.load_event(e.to_bytes()) for e in events]

    stores = []

    def fresh_store():
        # the previous run's data is dropped first: both runs start on the same empty
        # store and the same heap (a larger heap makes every garbage collection slower)
        for url_used in stores:
            db.forget_mock_store(url_used)
        stores.append(f"mongomock://localhost/bench_scoring_{uuid.uuid4().hex[:8]}")
        db.connect(stores[-1], alias=documents.ALIAS, default_db="bench")
        documents.ensure_indexes()
        gc.collect()
        return MongoScoringStore()

    dispatch = make_dispatcher(store=fresh_store(), tz=tz, refresher=_NoRefresh())
    started = time.perf_counter()
    for e in loaded:
        dispatch(e)
    plain = n / (time.perf_counter() - started)

    dispatch = make_dispatcher(store=fresh_store(), tz=tz, refresher=_NoRefresh())
    _purge(url)
    pub = RabbitPublisher(url, name="bench-publisher")
    try:
        pub.wait_ready(10)
        msgs = [OutgoingMessage.from_event(e) for e in events]
        for i in range(0, n, 1000):
            pub.publish_many(msgs[i:i + 1000], timeout=60)
    finally:
        pub.close()
    done = threading.Event()
    count = [0]

    def handler(event):
        dispatch(event)
        count[0] += 1
        if count[0] == n:
            done.set()

    consumer = RabbitConsumer(url, topology.queue_for("scoring"), handler, prefetch=256,
                              name="bench-scoring")
    started = time.perf_counter()
    consumer.start()
    try:
        if not done.wait(600):
            raise RuntimeError(f"only {count[0]} of {n} consumed")
        consumed = n / (time.perf_counter() - started)
    finally:
        consumer.stop()
    _purge(url)
    return {"plain_loop": plain, "through_consumer": consumed, "ratio": consumed / plain}


# --- scoring rebuild ----------------------------------------------------------------


def bench_rebuild(url: str, n: int) -> dict:
    """Seconds for scoring (its own process) to rebuild from a survey holding n ratings."""
    from services.survey import documents as sdocs
    from services.survey.app import create_app as create_survey
    from shared.bus import RabbitBus
    from shared.config import Settings
    from shared.http import runtime_of

    rabbit.delete_topology(url)
    declare_topology(url)
    settings = Settings(service="survey", amqp_url=url, admin_token=ADMIN_TOKEN,
                        mongodb_url=f"mongomock://localhost/bench_survey_{uuid.uuid4().hex[:8]}")
    survey = create_survey(settings, bus=RabbitBus(url, name="bench-survey"))
    runtime_of(survey).start()
    client = survey.test_client()
    officials = [f"CB{i:03d}" for i in range(50)]
    for u in range(5):
        client.put(f"/api/v1/units/U{u}", json={"name": f"Đơn vị {u}"}, headers=ADMIN)
    for i, code in enumerate(officials):
        client.put(f"/api/v1/officials/{code}", json={"full_name": code, "unit": f"U{i % 5}"},
                   headers=ADMIN)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    from datetime import timedelta

    docs = [{"_id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1",
             "unit": f"U{i % 5}", "official": officials[i % 50] if i % 10 else None,
             "overall": i % 5 + 1, "factors": {"access": (i % 4) + 2},
             "submitted_at": base + timedelta(minutes=5 * i)} for i in range(n)]
    sdocs.Rating._get_collection().insert_many(docs)
    runtime_of(survey).get("survey.relay").flush(30)
    time.sleep(1)
    _purge(url)

    env = {"AMQP_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "WARNING"}
    scoring = ServiceProcess("services.scoring", env, free_port())
    try:
        scoring.wait_ready()
        hold = f"{scoring.base}/api/v1/scoring/hold"
        started = time.perf_counter()
        # as `python -m services.scoring rebuild` does: publishing held during the replay
        requests.put(hold, json={"seconds": 3600}, headers=ADMIN, timeout=10)
        job = client.post("/api/v1/replays", json={"target": "scoring"},
                          headers=ADMIN).get_json()
        applied = None
        while time.perf_counter() - started < 3600:
            status = requests.get(f"{scoring.base}/api/v1/scoring/status", headers=ADMIN,
                                  timeout=10).json()
            replayed = client.get(f"/api/v1/replays/{job['id']}", headers=ADMIN).get_json()
            done = (replayed["status"] == "done" and status["inflight"] == 0
                    and rabbit.queue_depth(url, topology.queue_for("scoring").name) == 0)
            if done and applied is None:
                applied = time.perf_counter() - started
                requests.delete(hold, headers=ADMIN, timeout=10)
            elif done and status["publishing_held_until"] is None \
                    and not status["catching_up_after_hold"]:
                break
            time.sleep(0.5)
        total = time.perf_counter() - started
        check = requests.get(f"{scoring.base}/api/v1/scores/units/U0?period=2026",
                             headers=ADMIN, timeout=60).json()
    finally:
        scoring.stop()
        runtime_of(survey).stop()
    return {"ratings": n, "events": replayed["published"], "applied_s": applied,
            "scores_s": total, "unit_U0_count": check["citizen"]["count"]}


# --- notify -------------------------------------------------------------------------


def bench_notify(url: str, units: int, alerts: int) -> dict:
    """Reminders to a local SMTP server for many units; rating → alert email latency."""
    from datetime import timedelta

    from devkit.receivers import SmtpServer
    from services.notify.app import create_app as create_notify
    from services.notify.sender import wait_until_settled
    from shared.bus import RabbitBus
    from shared.config import Settings
    from shared.http import runtime_of

    rabbit.delete_topology(url)
    declare_topology(url)
    smtp = SmtpServer().start()
    settings = Settings(service="notify", amqp_url=url, admin_token=ADMIN_TOKEN,
                        smtp_url=smtp.url, webhook_secret="bench",
                        mongodb_url=f"mongomock://localhost/bench_notify_{uuid.uuid4().hex[:8]}")
    app = create_notify(settings, bus=RabbitBus(url, name="bench-notify"))
    runtime_of(app).start()
    ctx = app.extensions["notify"]
    pub = RabbitPublisher(url, name="bench-feeder")
    try:
        pub.wait_ready(10)
        now = datetime.now(UTC)
        directory = [ev.make_event(ev.UNIT_UPSERTED, {
            "code": f"U{i:04d}", "name": f"Đơn vị {i}", "emails": [f"u{i}@example.vn"],
            "version": 1, "updated_at": now}, source="/bench") for i in range(units)]
        directory += [ev.make_event(ev.OFFICIAL_UPSERTED, {
            "code": f"CB{i:04d}", "full_name": f"Cán bộ {i}", "unit": f"U{i % units:04d}",
            "version": 1, "updated_at": now}, source="/bench") for i in range(alerts)]
        pub.publish_many([OutgoingMessage.from_event(e) for e in directory], timeout=60)
        while ctx.consumer.inflight or rabbit.queue_depth(url, topology.queue_for("notify").name):
            time.sleep(0.2)
        time.sleep(0.5)

        client = app.test_client()
        due = now + timedelta(days=2)
        client.put("/api/v1/deadlines/bench", headers=ADMIN, json={
            "title": "Báo cáo", "due_at": due.isoformat(), "units": ["*"],
            "remind_before": ["P1D"]})
        started = time.perf_counter()
        created = ctx.service.send_reminders("bench", "P1D", now=due - timedelta(days=1))
        while len(smtp.messages) < len(created) and time.perf_counter() - started < 600:
            time.sleep(0.05)
        reminder_rate = len(smtp.messages) / (time.perf_counter() - started)
        wait_until_settled(created, 60)
        received = len(smtp.messages)

        latencies = []
        for i in range(alerts):
            before = len(smtp.messages)
            event = ev.make_event(ev.RATING_SUBMITTED, {
                "id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": "Q1",
                "unit": f"U{i % units:04d}", "official": f"CB{i:04d}", "overall": 1,
                "comment": "Chờ quá lâu", "submitted_at": datetime.now(UTC)}, source="/bench")
            t0 = time.perf_counter()
            pub.publish(OutgoingMessage.from_event(event))
            while len(smtp.messages) == before and time.perf_counter() - t0 < 30:
                time.sleep(0.001)
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        pub.close()
        runtime_of(app).stop()
        smtp.stop()
    latencies.sort()
    return {"units": units, "reminders": len(created), "received": received,
            "reminders_per_s": reminder_rate,
            "alert_p50_ms": latencies[len(latencies) // 2],
            "alert_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "alerts": alerts}


# --- submit-to-score latency --------------------------------------------------------


def _acked(base: str) -> int:
    text = requests.get(f"{base}/metrics", timeout=5).text
    m = re.search(r'congso_events_consumed_total\{outcome="ack",queue="congso.scoring"\} '
                  r'([\d.e+]+)', text)
    return int(float(m.group(1))) if m else 0


def bench_latency(url: str, rate: int, seconds: int) -> dict:
    """Ratings posted at a steady rate; time until scoring has applied each (p50, p99)."""
    rabbit.delete_topology(url)
    declare_topology(url)
    env = {"AMQP_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "WARNING",
           "RATINGS_PER_MINUTE": "100000"}
    survey = ServiceProcess("services.survey", env, free_port())
    scoring = ServiceProcess("services.scoring", env, free_port())
    try:
        survey.wait_ready()
        scoring.wait_ready()
        s = f"{survey.base}/api/v1"
        requests.put(f"{s}/units/U1", json={"name": "U1"}, headers=ADMIN, timeout=5)
        officials = [f"CB{i:02d}" for i in range(20)]
        for code in officials:
            requests.put(f"{s}/officials/{code}", json={"full_name": code, "unit": "U1"},
                         headers=ADMIN, timeout=5)
        token = requests.put(f"{s}/counters/Q", json={"unit": "U1", "label": "Q",
                                                      "officials": officials},
                             headers=ADMIN, timeout=5).json()["token"]
        time.sleep(2)
        base_acks = _acked(scoring.base)
        sent: list[float] = []
        lock = threading.Lock()
        total = rate * seconds

        def producer(offset: int, step: int) -> None:
            session = requests.Session()
            start = time.perf_counter()
            for k in range(offset, total, step):
                due = start + k / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                r = session.post(f"{s}/ratings", timeout=10, json={
                    "counter_token": token, "official": officials[k % 20],
                    "overall": k % 5 + 1, "client_id": str(uuid.uuid4())})
                if r.status_code == 201:
                    with lock:
                        sent.append(time.perf_counter())

        threads = [threading.Thread(target=producer, args=(i, 4)) for i in range(4)]
        for t in threads:
            t.start()
        seen: list[tuple[float, int]] = []
        deadline = time.perf_counter() + seconds + 60
        while time.perf_counter() < deadline:
            seen.append((time.perf_counter(), _acked(scoring.base) - base_acks))
            if not any(t.is_alive() for t in threads) and seen[-1][1] >= len(sent):
                break
            time.sleep(0.01)
        for t in threads:
            t.join()
    finally:
        survey.stop()
        scoring.stop()
    sent.sort()
    latencies = []
    j = 0
    for k, t_sent in enumerate(sent, start=1):
        while j < len(seen) and seen[j][1] < k:
            j += 1
        if j < len(seen):
            latencies.append((seen[j][0] - t_sent) * 1000)
    latencies.sort()
    return {"rate": rate, "seconds": seconds, "ratings": len(sent),
            "applied": seen[-1][1] if seen else 0,
            "p50_ms": latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else None}


# --- report ------------------------------------------------------------------------


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    try:
        rmq = rabbit.ctl("version").strip()
    except Exception:
        rmq = "?"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 1024 / 1024),
        "python": platform.python_version(), "rabbitmq": rmq, "wrk": wrk,
        "flask": version("flask"), "gunicorn": version("gunicorn"), "pika": version("pika"),
        "mongomock": version("mongomock"),
    }


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(args, info: dict, http_runs: list[dict], broker_runs: list[dict],
           rebuild: dict, notify: dict, latency: dict) -> str:
    h = {
        "bare_rps": med([r["bare"]["rps"] for r in http_runs]),
        "bare_p50": med([r["bare"]["p50_ms"] for r in http_runs]),
        "bare_p99": med([r["bare"]["p99_ms"] for r in http_runs]),
        "survey_rps": med([r["survey"]["rps"] for r in http_runs]),
        "survey_p50": med([r["survey"]["p50_ms"] for r in http_runs]),
        "survey_p99": med([r["survey"]["p99_ms"] for r in http_runs]),
        "ratio": med([r["ratio"] for r in http_runs]),
        "drain": med([r["relay_drain_s"] for r in http_runs]),
        "size": med([r["stored"] for r in http_runs]),
    }
    lost = sum(r["accepted"] - r["published"] for r in http_runs)
    b = {k: med([r[k] for r in broker_runs]) for k in broker_runs[0]}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""# Benchmarks

Written by `make bench` (`python -m bench --runs {args.runs} --duration {args.duration}
--connections {args.connections}`) on {when}. Every figure is the median of {args.runs} runs;
baselines are measured in the same run on the same machine.

Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python {info['python']},
RabbitMQ {info['rabbitmq']} on 127.0.0.1, wrk {info['wrk']}, Flask {info['flask']},
gunicorn {info['gunicorn']} (1 worker, 8 threads, gthread), pika {info['pika']},
mongomock {info['mongomock']}. Load generator and servers share the 2 cores.

## HTTP ingest: POST /api/v1/ratings

wrk, 2 threads, {args.connections} connections, {args.duration} s, each request a new
valid rating (`bench/ratings.lua`).

| endpoint | ratings/s | p50 | p99 |
|---|---:|---:|---:|
| bare Flask endpoint, same schema, returns 201 | {h['bare_rps']:.0f} | \
{h['bare_p50']:.1f} ms | {h['bare_p99']:.1f} ms |
| survey: validate, look up counter, store with outbox event, relay publishes with \
confirms | {h['survey_rps']:.0f} | {h['survey_p50']:.1f} ms | {h['survey_p99']:.1f} ms |
| **ratio survey / bare** | **{h['ratio']:.0%}** | | |

Every accepted rating reached RabbitMQ: {sum(r['published'] for r in http_runs)} events in
the queue for {sum(r['accepted'] for r in http_runs)} ratings accepted over the
{len(http_runs)} runs (difference {lost}). The outbox relay finished publishing
{h['drain'] if h['drain'] is not None else float("nan"):.2f} s after the load stopped
(median).

Survey runs on mongomock here (MongoDB cannot be installed on this machine): the store
part of these figures is mongomock's in-process dictionaries, not a MongoDB round trip.
Each run starts survey on an empty database, which holds about {h['size']:.0f} ratings at
its end (median); every lookup on the rating path is by key, so the figures do not fall
as the collection grows (mongomock scans a collection for any other query).

## Broker: events per second

| path | events/s |
|---|---:|
| raw pika, one confirm per message (BlockingChannel) | {b['raw_pika_confirm_each']:.0f} |
| congso RabbitPublisher, pipelined confirms, batches of 1000 | {b['publisher_pipelined']:.0f} |
| publisher → RabbitMQ (quorum queue) → RabbitConsumer (load, validate, ack) | \
{b['end_to_end']:.0f} |

## Submit to score

Ratings posted to survey at a steady {latency['rate']} per second for
{latency['seconds']} s (four client threads, 20 officials); survey and scoring as their
own processes on the real broker. Latency: from survey's 201 to scoring having applied
the rating (its ack, read from scoring's metrics every 10 ms).

| figure | value |
|---|---:|
| ratings accepted / applied | {latency['ratings']} / {latency['applied']} |
| submit → applied, p50 | {latency['p50_ms']:.0f} ms |
| submit → applied, p99 | {latency['p99_ms']:.0f} ms |

## Scoring: consume → store → ack

{args.scoring_events} `rating.submitted` events (50 officials, 5 units) through scoring's
handler: once in a plain loop calling the handler on already-parsed events (the store
writes alone), once published to its quorum queue and taken by the real consumer (parse
and validate the envelope, the same handler, acks). Each pass starts on an empty store,
with the other pass's data dropped, so both run on the same heap.

| path | events/s |
|---|---:|
| the handler's store writes in a plain loop | {b['scoring_plain_loop']:.0f} |
| RabbitMQ → RabbitConsumer → the same handler → ack | {b['scoring_through_consumer']:.0f} |
| **messaging kept** | **{b['scoring_ratio']:.0%}** |

## Rebuilding scoring from survey

Survey holding {rebuild['ratings']} ratings (50 officials in 5 units, one rating every
five minutes through the year, one in ten without an official) replays its records
({rebuild['events']} events with the directory) to scoring, which runs as its own process
(gunicorn, one worker) on an empty database:

| step | seconds |
|---|---:|
| every event applied, score publishing held (queue empty) | {rebuild['applied_s']:.1f} |
| hold ended: every score derived and queued for publishing, once | {rebuild['scores_s']:.1f} |

(one run; check: unit U0 counts {rebuild['unit_U0_count']} ratings after the rebuild.)
Scoring's store is mongomock here too: each rating is one `$set` into its official's
month bucket and its unit's day bucket, and mongomock copies a whole document on every
update, so these figures grow with bucket size (here about 150 ratings per official and
month); MongoDB updates a field in place.

## Notify

Reminders: one deadline for {notify['units']} units (`["*"]`), each with one email
address; the reminder run creates, claims and sends one email per unit to a local SMTP
server (aiosmtpd, in the benchmark process), eight sending threads.

| figure | value |
|---|---:|
| reminders sent per second (the SMTP server received {notify['received']} of \
{notify['reminders']}) | {notify['reminders_per_s']:.0f} |
| rating with overall 1 published → alert email received, p50 | \
{notify['alert_p50_ms']:.1f} ms |
| same, p99 ({notify['alerts']} ratings, one official each, one after the other) | \
{notify['alert_p99_ms']:.1f} ms |

The alert path: RabbitMQ → notify's consumer → alert claimed and rendered → sending
thread → SMTP. Notify's store is mongomock (one run).

Raw runs, for the record:

```json
{json.dumps({"http": http_runs, "broker": broker_runs, "rebuild": rebuild,
             "notify": notify}, indent=1)}
```
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--scoring-events", type=int, default=10000)
    parser.add_argument("--rebuild-ratings", type=int, default=100_000)
    parser.add_argument("--notify-units", type=int, default=2000)
    parser.add_argument("--latency-rate", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args()

    vhost = f"congso-bench-{uuid.uuid4().hex[:8]}"
    rabbit.ctl("add_vhost", vhost)
    rabbit.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    url = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    http_runs, broker_runs = [], []
    try:
        for i in range(args.runs):
            print(f"run {i + 1}/{args.runs}: broker", file=sys.stderr, flush=True)
            rabbit.delete_topology(url)
            declare_topology(url)
            scoring = bench_scoring_consume(url, args.scoring_events)
            broker_runs.append({
                "raw_pika_confirm_each": bench_raw_pika(url, 3000),
                "publisher_pipelined": bench_publisher(url, args.events),
                "end_to_end": bench_end_to_end(url, args.events),
                "scoring_plain_loop": scoring["plain_loop"],
                "scoring_through_consumer": scoring["through_consumer"],
                "scoring_ratio": scoring["ratio"],
            })
            print(f"  {broker_runs[-1]}", file=sys.stderr)
            print(f"run {i + 1}/{args.runs}: HTTP", file=sys.stderr, flush=True)
            http_runs.append(bench_http(url, duration=args.duration,
                                        connections=args.connections))
            print(f"  survey {http_runs[-1]['survey']['rps']:.0f}/s, bare "
                  f"{http_runs[-1]['bare']['rps']:.0f}/s", file=sys.stderr)
        print("submit-to-score latency", file=sys.stderr, flush=True)
        latency = bench_latency(url, args.latency_rate, 10)
        print(f"  {latency}", file=sys.stderr)
        print("notify", file=sys.stderr, flush=True)
        notify = bench_notify(url, args.notify_units, args.alerts)
        print(f"  {notify}", file=sys.stderr)
        print(f"rebuild of {args.rebuild_ratings} ratings", file=sys.stderr, flush=True)
        rebuild = bench_rebuild(url, args.rebuild_ratings)
        print(f"  {rebuild}", file=sys.stderr)
    finally:
        rabbit.ctl("delete_vhost", vhost)
    text = report(args, machine(), http_runs, broker_runs, rebuild, notify, latency)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
