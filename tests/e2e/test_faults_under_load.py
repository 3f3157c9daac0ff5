"""Faults under a steady rating load, three services as OS processes over the real broker:
RabbitMQ unreachable while survey accepts 200 ratings (10 s at 20 ratings/s), then
scoring killed (SIGKILL) and rebuilt. Every rating accepted is counted, exactly once, and
every official with a low rating gets exactly one alert (the later ones fold into the
next hour's). Each phase waits for what it needs, not for a fixed time."""

from __future__ import annotations

import collections
import random
import subprocess
import sys
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from devkit import rabbit
from devkit.apps import ADMIN, ADMIN_TOKEN
from devkit.procs import ServiceProcess, free_port
from devkit.receivers import SmtpServer
from devkit.tcpproxy import TcpProxy
from shared import topology
from tests.conftest import wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]
OFFICIALS = ["A", "B", "C", "D"]
PER_SECOND = 20
DURING_OUTAGE = 200  # ratings survey accepts while RabbitMQ is away: 10 s of load


class Load(threading.Thread):
    """Ratings at a steady rate; remembers which were accepted (201)."""

    def __init__(self, base: str, token: str, per_second: float):
        super().__init__(daemon=True)
        self.base, self.token, self.interval = base, token, 1 / per_second
        self.accepted: collections.Counter = collections.Counter()
        self.low: set[str] = set()
        self.refused = 0
        self.stopping = threading.Event()
        self.session = requests.Session()
        self.total = 0  # accepted so far, read by the test while this runs

    def run(self):
        rng = random.Random(7)
        while not self.stopping.is_set():
            official, overall = rng.choice(OFFICIALS), rng.randint(1, 5)
            r = self.session.post(f"{self.base}/api/v1/ratings", timeout=10, json={
                "counter_token": self.token, "official": official,
                "overall": overall, "client_id": str(uuid.uuid4())})
            if r.status_code == 201:
                self.accepted[official] += 1
                self.total += 1
                if overall <= 2:
                    self.low.add(official)
            else:
                self.refused += 1
            self.stopping.wait(self.interval)


def through(url: str, proxy: TcpProxy) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, f"{p.username}:{p.password}@127.0.0.1:{proxy.port}", p.path,
                       p.query, ""))


def counts(base: str) -> dict[str, int] | None:
    """Each official's ratings in scoring, counted or held (a run of identical top ratings
    from the load's one address is held: it is in `suspect`, once, not lost)."""
    year = str(datetime.now(UTC).year)
    r = requests.get(f"{base}/api/v1/scores/units/U1?period={year}", headers=ADMIN, timeout=10)
    if r.status_code != 200:
        return None
    return {o["official"]: o["citizen"]["count"] + o["citizen"].get("suspect", 0)
            for o in r.json()["officials"]}


def counted(base: str) -> int:
    return sum((counts(base) or {}).values())


def inflight(base: str) -> int:
    return requests.get(f"{base}/api/v1/scoring/status", headers=ADMIN,
                        timeout=10).json()["inflight"]


def settled(url: str, queue: str, inflight=lambda: 0) -> bool:
    """Nothing waits in `queue` and nothing is in hand, twice in a row (a message between
    the broker and the consumer is in neither count)."""
    return all(rabbit.queue_depth(url, queue) == 0 and inflight() == 0 for _ in range(2))


def consumer_state(service: ServiceProcess, url: str, queue: str) -> str:
    """What to show when a service's queue does not drain: the queue, the consumer's own
    gauges and counters, the end of its log."""
    text = requests.get(f"{service.base}/metrics", headers=ADMIN, timeout=5).text
    metrics = [line for line in text.splitlines()
               if line.startswith(("congso_consumer", "congso_events_consumed"))]
    return (f"{queue}: {rabbit.queue_depth(url, queue)} messages waiting, "
            f"{rabbit.consumer_count(url, queue)} consumers\n" + "\n".join(metrics)
            + "\n" + service.output()[-4000:])


def test_broker_outage_and_scoring_crash_under_load_lose_and_double_nothing(fresh_rabbit_url):
    proxy = TcpProxy()
    smtp = SmtpServer().start()
    env = {"AMQP_URL": through(fresh_rabbit_url, proxy), "ADMIN_TOKEN": ADMIN_TOKEN,
           "LOG_LEVEL": "WARNING", "RATINGS_PER_MINUTE": "100000",  # one address, one counter
           "RATING_BURST": "0",  # the load's one address would be held as a burst
           "SMTP_URL": smtp.url}
    survey = ServiceProcess("services.survey", env, free_port())
    scoring = ServiceProcess("services.scoring", env, free_port())
    notify = ServiceProcess("services.notify", env, free_port())
    load = None
    try:
        survey.wait_ready()
        scoring.wait_ready()
        notify.wait_ready()
        s = f"{survey.base}/api/v1"
        requests.put(f"{s}/units/U1", json={"name": "Phường", "emails": ["u1@example.vn"]},
                     headers=ADMIN, timeout=5)
        for code in OFFICIALS:
            requests.put(f"{s}/officials/{code}", json={"full_name": code, "unit": "U1"},
                         headers=ADMIN, timeout=5)
        token = requests.put(f"{s}/counters/Q", headers=ADMIN, timeout=5, json={
            "unit": "U1", "label": "Q", "officials": OFFICIALS}).json()["token"]
        load = Load(survey.base, token, per_second=PER_SECOND)
        load.start()
        wait_for(lambda: counted(scoring.base) > 0, timeout=30, message="ratings scored")

        proxy.cut()  # RabbitMQ unreachable while survey accepts DURING_OUTAGE ratings
        during = load.total
        wait_for(lambda: load.total >= during + DURING_OUTAGE, timeout=60,
                 message="survey accepting ratings while the broker is away")
        proxy.restore()
        # the outage's backlog reaches scoring again
        wait_for(lambda: counted(scoring.base) > during, timeout=60,
                 message="ratings of the outage scored")

        scoring.kill()  # mid-load: its in-memory database dies with it
        scoring = ServiceProcess("services.scoring", env, free_port())
        scoring.wait_ready()
        with tempfile.TemporaryFile("w+") as out:  # kept whole, to show if it fails
            rebuild = subprocess.Popen(
                [sys.executable, "-m", "services.scoring", "rebuild", "--survey-url",
                 survey.base, "--scoring-url", scoring.base, "--timeout", "150"],
                env={**env, "PATH": "/usr/bin:/bin"}, stdout=out, stderr=subprocess.STDOUT,
                text=True)
            try:
                code = rebuild.wait(180)
            except subprocess.TimeoutExpired:
                rebuild.kill()
                code = rebuild.wait()
            out.seek(0)
            assert code == 0, out.read()[-4000:] + scoring.output()[-4000:]
        rebuilt = load.total  # and ratings keep coming to the rebuilt scoring
        wait_for(lambda: load.total >= rebuilt + PER_SECOND, timeout=30)
        load.stopping.set()
        load.join(20)

        expected = dict(load.accepted)
        assert load.refused == 0
        wait_for(lambda: counts(scoring.base) == expected, timeout=60,
                 message=f"scores equal to the accepted ratings {expected}")
        # nothing more arrives late: whatever was still on its way is settled, and no
        # rating counted twice
        wait_for(lambda: settled(fresh_rabbit_url, topology.queue_for("scoring").name,
                                 lambda: inflight(scoring.base)), timeout=30)
        assert counts(scoring.base) == expected

        # notify: one rating alert per official rated 1 or 2, through the outage and all
        def alerts():
            r = requests.get(f"{notify.base}/api/v1/notifications?kind=rating.alert"
                             "&per_page=500", headers=ADMIN, timeout=10)
            return r.json() if r.status_code == 200 else None

        wait_for(lambda: (a := alerts()) is not None and len(a) == len(load.low)
                 and all(n["status"] == "sent" for n in a), timeout=60,
                 message=f"one alert for each of {sorted(load.low)}")
        notify_queue = topology.queue_for("notify").name
        try:
            wait_for(lambda: settled(fresh_rabbit_url, notify_queue), timeout=60)
        except pytest.fail.Exception:
            pytest.fail(consumer_state(notify, fresh_rabbit_url, notify_queue))
        assert len(alerts()) == len(load.low) > 0
        subjects = [m["Subject"] for m in smtp.messages if "Người dân" in m["Subject"]]
        assert len(subjects) == len(load.low)
    finally:
        if load is not None:
            load.stopping.set()
        for p in (survey, scoring, notify):
            p.stop()
        proxy.close()
        smtp.stop()
