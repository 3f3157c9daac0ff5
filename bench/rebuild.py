"""Rebuilding scoring from survey: seconds until a new scoring holds what survey holds.

Survey (in the benchmark process, mongomock, the real broker) holds n ratings: 50
officials in 5 units, one rating every five minutes from 2026-01-01, one in ten without
an official. Scoring runs as its own process (gunicorn, one worker) on an empty database.
As `python -m services.scoring rebuild` does, the bench holds scoring's score publishing,
asks survey to replay everything to scoring (POST /api/v1/replays), and times two steps:
every event applied (queue empty), then the hold ended and every score derived once; one
unit's count checks the result. Four passes in the same run:
- `batched`: n ratings as a rebuild runs now: survey packs 50 events to a message
  (REPLAY_PACK), scoring applies them in batches of 500 (SCORING_BATCH);
- `per_event`: the same n one event a message, applied one at a time (SCORING_BATCH=1):
  the reference, the path before batches;
- `batched_unpacked`: the same n one event a message, applied in batches (what packs
  add);
- `batched_large`: 3n as `batched` (is memory flat as the data grows?).
Scoring's memory and the progress are sampled every 0.2 s (resident set of its
processes, /proc), which bounds each time's resolution.
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
from shared.config import REPLAY_PACK, SCORING_BATCH

UNITS = 5
OFFICIALS = [f"CB{i:03d}" for i in range(50)]


@dataclass
class RebuildPass:
    label: str              # batched, per_event, batched_unpacked, batched_large
    ratings: int
    batch: int              # SCORING_BATCH
    per_message: int        # events survey packs in one message
    events: int             # published by the replay: the ratings and the directory
    replayed_s: float | None  # survey's replay finished publishing (every event confirmed)
    applied_s: float | None  # every event applied, score publishing held
    scores_s: float         # hold ended, every score derived and queued once
    applied_per_s: float | None
    rss_start_mib: float    # scoring's processes, ready, before the replay
    rss_peak_mib: float     # the most during the rebuild
    unit_U0_count: int      # ratings of unit U0 after the rebuild (n / 5)


@dataclass
class RebuildFigures:
    ratings: int
    large: int
    passes: dict[str, RebuildPass]
    speedup: float | None   # per-event applied_s / batched applied_s (goal: at least 5)


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants (gunicorn's master and worker)."""
    import os

    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as f:
                total += next((int(line.split()[1]) for line in f
                               if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total / 1024


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


def run(url: str, *, ratings: int, large: int, timeout: float = 3600) -> RebuildFigures:
    """Four rebuilds (see the module's text)."""
    passes = {label: one_pass(url, label, n, batch, timeout, per_message)
              for label, n, batch, per_message in (
                  ("batched", ratings, SCORING_BATCH, REPLAY_PACK),
                  ("per_event", ratings, 1, 1),
                  ("batched_unpacked", ratings, SCORING_BATCH, 1),
                  ("batched_large", large, SCORING_BATCH, REPLAY_PACK))}
    fast, slow = passes["batched"].applied_s, passes["per_event"].applied_s
    return RebuildFigures(ratings=ratings, large=large, passes=passes,
                          speedup=slow / fast if fast and slow else None)


def one_pass(url: str, label: str, ratings: int, batch: int, timeout: float,
             per_message: int = REPLAY_PACK) -> RebuildPass:
    """Rebuild a new scoring from a survey holding `ratings` ratings."""
    fresh_topology(url)
    survey, stop_survey = _start_survey(url)
    client = survey.test_client()
    scoring = None
    try:
        _seed(url, client)
        load_ratings(ratings)
        scoring = ServiceProcess("services.scoring",
                                 service_env(url, SCORING_BATCH=str(batch)), free_port())
        scoring.wait_ready()
        rss_start = peak = rss_mib(scoring.proc.pid)
        api = scoring.client
        started = time.perf_counter()
        # as `python -m services.scoring rebuild` does: publishing held during the replay
        api.put("/api/v1/scoring/hold", json={"seconds": 3600}, headers=ADMIN)
        job = client.post("/api/v1/replays", json={
            "target": "scoring", "events_per_message": per_message}, headers=ADMIN).get_json()
        applied, replayed_s, replayed = None, None, {"published": 0}
        while time.perf_counter() - started < timeout:
            peak = max(peak, rss_mib(scoring.proc.pid))
            replayed = client.get(f"/api/v1/replays/{job['id']}", headers=ADMIN).get_json()
            if replayed["status"] == "done" and replayed_s is None:
                replayed_s = time.perf_counter() - started
            # scoring's status only once its queue is empty: on mongomock it scans the
            # buckets (for its pending count), under the store's lock
            done = (replayed["status"] == "done"
                    and rabbit.queue_depth(url, topology.queue_for("scoring").name) == 0
                    and (status := api.get("/api/v1/scoring/status",
                                           headers=ADMIN).json())["inflight"] == 0)
            if done and applied is None:
                applied = time.perf_counter() - started
                api.delete("/api/v1/scoring/hold", headers=ADMIN)
            elif done and status["publishing_held_until"] is None \
                    and not status["catching_up_after_hold"]:
                break
            time.sleep(0.2)
        total = time.perf_counter() - started
        check = api.get("/api/v1/scores/units/U0?period=2026", headers=ADMIN, timeout=60).json()
    finally:
        if scoring is not None:
            scoring.stop()
        stop_survey()
    return RebuildPass(label=label, ratings=ratings, batch=batch, per_message=per_message,
                       events=replayed["published"], replayed_s=replayed_s, applied_s=applied,
                       scores_s=total,
                       applied_per_s=replayed["published"] / applied if applied else None,
                       rss_start_mib=rss_start, rss_peak_mib=peak,
                       unit_U0_count=check["citizen"]["count"])
