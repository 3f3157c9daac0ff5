"""Rebuilding scoring from survey: seconds until a new scoring holds what survey holds.

Survey (in the benchmark process, mongomock, the real broker) holds n ratings: 50
officials in 5 units, one rating every five minutes from 2026-01-01, one in ten without
an official. Scoring runs as its own process (gunicorn, one worker) on an empty database.
As `python -m services.scoring rebuild` does, the bench holds scoring's score publishing,
asks survey to replay everything to scoring (POST /api/v1/replays), and times two steps:
every event applied (queue empty), then the hold ended and every score derived once. No
baseline: the figures are absolute, and one unit's count checks the result.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.common import fresh_topology, service_env, store_url, wait_depth
from devkit import rabbit
from devkit.apps import ADMIN, ADMIN_TOKEN, seed_directory
from devkit.procs import ServiceProcess, free_port
from shared import topology

UNITS = 5
OFFICIALS = [f"CB{i:03d}" for i in range(50)]


@dataclass
class RebuildFigures:
    ratings: int
    events: int             # published by the replay: the ratings and the directory
    applied_s: float | None  # every event applied, score publishing held
    scores_s: float         # hold ended, every score derived and queued once
    unit_U0_count: int      # ratings of unit U0 after the rebuild (n / 5)


def _start_survey(url: str):
    """Survey as an in-process app (the service's public factory) on an embedded store."""
    from services.survey.app import create_app
    from shared.bus import RabbitBus
    from shared.config import Settings
    from shared.http import runtime_of

    settings = Settings(service="survey", amqp_url=url, admin_token=ADMIN_TOKEN,
                        mongodb_url=store_url("survey"))
    app = create_app(settings, bus=RabbitBus(url, name="bench-survey"))
    runtime_of(app).start()
    return app, runtime_of(app).stop


def load_ratings(n: int) -> None:
    """Put `n` ratings straight into survey's database, without events.

    The one place the bench uses survey's internal API (its Rating document): posting n
    ratings over HTTP would take minutes and publish each live. If survey's storage
    changes, this function is what follows it.
    """
    from services.survey.documents import Rating

    base = datetime(2026, 1, 1, tzinfo=UTC)
    Rating._get_collection().insert_many([{
        "_id": uuid.uuid4().hex, "client_id": str(uuid.uuid4()), "counter": f"Q{i % UNITS}",
        "unit": f"U{i % UNITS}", "official": OFFICIALS[i % 50] if i % 10 else None,
        "overall": i % 5 + 1, "factors": {"access": (i % 4) + 2},
        "submitted_at": base + timedelta(minutes=5 * i)} for i in range(n)])


def _seed(url: str, client) -> None:
    """The directory over survey's API; its events are dropped once published (the replay
    sends them again)."""
    for u in range(UNITS):
        seed_directory(client, unit=f"U{u}", officials=OFFICIALS[u::UNITS], counter=f"Q{u}")
    wait_depth(url, topology.queue_for("scoring").name, UNITS + len(OFFICIALS), 30)
    rabbit.purge_queues(url)


def run(url: str, *, ratings: int, timeout: float = 3600) -> RebuildFigures:
    """Rebuild a new scoring from a survey holding `ratings` ratings."""
    fresh_topology(url)
    survey, stop_survey = _start_survey(url)
    client = survey.test_client()
    scoring = None
    try:
        _seed(url, client)
        load_ratings(ratings)
        scoring = ServiceProcess("services.scoring", service_env(url), free_port())
        scoring.wait_ready()
        api = scoring.client
        started = time.perf_counter()
        # as `python -m services.scoring rebuild` does: publishing held during the replay
        api.put("/api/v1/scoring/hold", json={"seconds": 3600}, headers=ADMIN)
        job = client.post("/api/v1/replays", json={"target": "scoring"},
                          headers=ADMIN).get_json()
        applied, replayed = None, {"published": 0}
        while time.perf_counter() - started < timeout:
            status = api.get("/api/v1/scoring/status", headers=ADMIN).json()
            replayed = client.get(f"/api/v1/replays/{job['id']}", headers=ADMIN).get_json()
            done = (replayed["status"] == "done" and status["inflight"] == 0
                    and rabbit.queue_depth(url, topology.queue_for("scoring").name) == 0)
            if done and applied is None:
                applied = time.perf_counter() - started
                api.delete("/api/v1/scoring/hold", headers=ADMIN)
            elif done and status["publishing_held_until"] is None \
                    and not status["catching_up_after_hold"]:
                break
            time.sleep(0.5)
        total = time.perf_counter() - started
        check = api.get("/api/v1/scores/units/U0?period=2026", headers=ADMIN, timeout=60).json()
    finally:
        if scoring is not None:
            scoring.stop()
        stop_survey()
    return RebuildFigures(ratings=ratings, events=replayed["published"], applied_s=applied,
                          scores_s=total, unit_U0_count=check["citizen"]["count"])
