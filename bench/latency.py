"""Submit to score: how long after survey answers 201 scoring has applied the rating.

Ratings are posted to survey at a steady rate (four client threads, 20 officials); survey
and scoring run as their own processes on the real broker. A rating counts as applied
when scoring has acked it, read from scoring's /metrics every 10 ms; the latency is the
time from the k-th 201 to the k-th ack (p50, p99). No baseline: the figure is absolute.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import requests

from bench.common import fresh_topology, percentile, service_env
from devkit.apps import seed_directory
from devkit.metrics import scrape_total
from devkit.procs import start_ready
from shared import topology

OFFICIALS = [f"CB{i:02d}" for i in range(20)]
CLIENTS = 4


@dataclass
class LatencyFigures:
    rate: int
    seconds: int
    ratings: int        # answered 201
    applied: int        # acked by scoring
    p50_ms: float | None
    p99_ms: float | None


def acked(base: str) -> int:
    """Deliveries scoring has acked so far, from its own metrics."""
    return int(scrape_total(base, "congso_events_consumed_total", outcome="ack",
                            queue=topology.queue_for("scoring").name))


def _wait_acked(base: str, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (count := acked(base)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def _settled_acks(base: str, at_least: int, timeout: float, quiet: float = 0.5) -> int:
    """The ack count once it has reached `at_least` and not moved for `quiet` s."""
    count = _wait_acked(base, at_least, timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = acked(base)
        if now == count:
            return count
        count = now
    return count


class _Producer(threading.Thread):
    """Posts every `step`-th rating of the schedule from `offset`; notes each 201's time."""

    def __init__(self, url: str, token: str, rate: int, total: int, offset: int, step: int,
                 sent: list[float], lock: threading.Lock):
        super().__init__(daemon=True)
        self.url, self.token, self.rate, self.total = url, token, rate, total
        self.offset, self.step, self.sent, self.lock = offset, step, sent, lock

    def run(self) -> None:
        session = requests.Session()
        start = time.perf_counter()
        for k in range(self.offset, self.total, self.step):
            pause = start + k / self.rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            r = session.post(self.url, timeout=10, json={
                "counter_token": self.token, "official": OFFICIALS[k % len(OFFICIALS)],
                "overall": k % 5 + 1, "client_id": str(uuid.uuid4())})
            if r.status_code == 201:
                with self.lock:
                    self.sent.append(time.perf_counter())


def latencies_ms(sent: list[float], seen: list[tuple[float, int]]) -> list[float]:
    """Match the k-th 201 (ascending times) to the first poll that saw k acks."""
    out, j = [], 0
    for k, t_sent in enumerate(sorted(sent), start=1):
        while j < len(seen) and seen[j][1] < k:
            j += 1
        if j < len(seen):
            out.append((seen[j][0] - t_sent) * 1000)
    return sorted(out)


def run(url: str, *, rate: int, seconds: int) -> LatencyFigures:
    """`rate` ratings a second for `seconds` s; p50 and p99 of submit → applied."""
    fresh_topology(url)
    survey, scoring = start_ready(service_env(url), "services.survey", "services.scoring")
    try:
        token = seed_directory(survey.client, unit="U1", officials=OFFICIALS, counter="Q")
        # what came before the ratings (the unit, its officials, the session key survey
        # announced at its start) applied, and nothing more arriving, before the clock starts
        base_acks = _settled_acks(scoring.base, 2 + len(OFFICIALS), 30)
        sent: list[float] = []
        lock = threading.Lock()
        producers = [_Producer(f"{survey.base}/api/v1/ratings", token, rate, rate * seconds,
                               i, CLIENTS, sent, lock) for i in range(CLIENTS)]
        for p in producers:
            p.start()
        seen: list[tuple[float, int]] = []
        deadline = time.perf_counter() + seconds + 60
        while time.perf_counter() < deadline:
            seen.append((time.perf_counter(), acked(scoring.base) - base_acks))
            if not any(p.is_alive() for p in producers) and seen[-1][1] >= len(sent):
                break
            time.sleep(0.01)
        for p in producers:
            p.join()
    finally:
        survey.stop()
        scoring.stop()
    applied = latencies_ms(sent, seen)
    return LatencyFigures(rate=rate, seconds=seconds, ratings=len(sent),
                          applied=seen[-1][1] if seen else 0,
                          p50_ms=percentile(applied, 0.5), p99_ms=percentile(applied, 0.99))
