"""HTTP ingest: POST /api/v1/ratings loaded by wrk, ratings per second and latency.

Baseline: a bare Flask endpoint validating the same schema and answering 201
(bench/bare_app.py), served by the same gunicorn setup. Measured against it: survey
(validation, counter lookup, store with its outbox event, relay publishing with confirms
to RabbitMQ), on an empty database, with the burst rule off (RATING_BURST=0: wrk sends
every rating from one address for one official, which the rule would hold). It also
checks that every rating answered 201 reached scoring's queue once, and how long after
the load the relay finished publishing. Then survey again, on a new empty database, with
the held-ratings rules on (RATING_BURST=10, the default): nearly every rating of that
load is held, the rules' worst case; the goal is within 10% of the rules off. Which of the
two goes first alternates from run to run. `python -m bench.rules_ab` measures the same
comparison in process, without the server, the load generator or the broker.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import fresh_topology, service_env, wait_depth
from devkit import rabbit
from devkit.apps import seed_directory
from devkit.metrics import scrape_total
from devkit.procs import ServiceProcess, free_port
from shared import topology

SCRIPT = Path(__file__).with_name("ratings.lua")
_RUNS = itertools.count()  # runs of this scenario in this process


@dataclass
class WrkFigures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: str


@dataclass
class IngestFigures:
    bare: WrkFigures
    survey: WrkFigures
    accepted: int           # answered 201 during the measured load (survey's metrics)
    published: int          # of those, events that reached scoring's queue
    relay_drain_s: float | None  # load stopped → the last of them in the queue
    stored: int             # ratings in survey's database at the end
    ratio: float            # survey / bare, ratings per second
    rules_on: WrkFigures | None = None  # survey with the held-ratings rules on
    rules_ratio: float | None = None    # rules on / rules off, ratings per second


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> WrkFigures:
    """The figures of wrk's report (run with --latency)."""
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return WrkFigures(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_to_ms(*p50.groups()), p99_ms=_to_ms(*p99.groups()),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=errors.group(0) if errors else "")


def run_wrk(base: str, token: str, *, duration: int, connections: int) -> WrkFigures:
    """wrk posting a new valid rating per request to `base` for `duration` seconds."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
           "-s", str(SCRIPT), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60,
                         env={**os.environ, "BENCH_COUNTER_TOKEN": token}).stdout
    return parse_wrk(out)


def accepted_ratings(base: str) -> int:
    """Ratings answered 201 so far, from the service's own metrics."""
    return int(scrape_total(base, "congso_http_requests_total", service="survey",
                            method="POST", endpoint="/api/v1/ratings", status="201"))


def _bare(url: str, *, duration: int, connections: int, warmup: int) -> WrkFigures:
    bare = ServiceProcess("bench.bare_app", service_env(url), free_port())
    try:
        bare.wait_ready()
        if warmup:
            run_wrk(bare.base, "warm", duration=warmup, connections=connections)
        return run_wrk(bare.base, "x", duration=duration, connections=connections)
    finally:
        bare.stop()


def run(url: str, *, duration: int, connections: int, warmup: int = 2,
        settle: float = 1.0) -> IngestFigures:
    """The bare endpoint, then survey with the burst rule off and on, each warmed up for
    `warmup` s (0: not at all) and loaded for `duration` s; `settle` s are left for
    requests in flight and duplicates."""
    bare = _bare(url, duration=duration, connections=connections, warmup=warmup)
    load = {"duration": duration, "connections": connections, "warmup": warmup,
            "settle": settle}
    # which setting goes first alternates from run to run, so that a drift of the machine
    # within a run (RabbitMQ's state, the other process's heap) favours neither
    if next(_RUNS) % 2 == 0:
        off = _survey(url, {"RATING_BURST": "0"}, **load)
        on = _survey(url, {"RATING_BURST": "10"}, **load)
    else:
        on = _survey(url, {"RATING_BURST": "10"}, **load)
        off = _survey(url, {"RATING_BURST": "0"}, **load)
    return IngestFigures(bare=bare, ratio=off["survey"].rps / bare.rps, rules_on=on["survey"],
                         rules_ratio=on["survey"].rps / off["survey"].rps, **off)


def _survey(url: str, env: dict[str, str], *, duration: int, connections: int, warmup: int,
            settle: float) -> dict:
    """Survey (with `env`) on an empty database under wrk's load: its figures and what
    reached scoring's queue."""
    fresh_topology(url)
    queue = topology.queue_for("scoring").name
    # ahead of the ratings: the unit's and the official's events, and the session key
    # survey announces as it starts
    directory = 3
    survey = ServiceProcess("services.survey", service_env(url, **env), free_port())
    try:
        survey.wait_ready()
        token = seed_directory(survey.client, unit="U1", officials=["CB1"], counter="Q1")
        if warmup:
            run_wrk(survey.base, token, duration=warmup, connections=connections)
            time.sleep(settle)
        before = directory + accepted_ratings(survey.base)
        wait_depth(url, queue, before, 60)
        measured = run_wrk(survey.base, token, duration=duration, connections=connections)
        # counted by the server, once the requests in flight when wrk stopped are answered
        time.sleep(settle)
        accepted = directory + accepted_ratings(survey.base) - before
        drained = wait_depth(url, queue, before + accepted, 120)
        time.sleep(settle)  # anything published twice would show up now
        published = rabbit.queue_depth(url, queue) - before
    finally:
        survey.stop()
    return {"survey": measured, "accepted": accepted, "published": published,
            "relay_drain_s": drained, "stored": before - directory + accepted}
