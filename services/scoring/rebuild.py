"""`python -m services.scoring rebuild`: fill scoring's database again from survey's records.

1. (with --wipe) empty scoring's contributions and scores, keeping its parameters;
2. hold scoring's `score.updated` events: the replay walks through history, and its
   passing states would reach notify as fresh threshold crossings (alerts again); its
   outbox and its refresher wait (scores are still read live from the data);
3. ask survey to replay its directory, ratings and reviews to scoring's queue only;
4. wait until survey has published everything and scoring's queue is drained;
5. end the hold: each score that changed is derived and published once, at its final
   value; return when every bucket changed before the end has its scores derived.
The running scoring service applies the replay; being idempotent, it counts each rating
and review once whether or not it already had it. Survey replays each rating with its
current state and `status_version` (held, accepted, rejected...), so every hold and every
decision comes back as it stands: a stored row of a lower version is replaced, one of the
same version is left as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pika
import requests

from shared import topology
from shared.config import ConfigError, Settings


def queue_depth(amqp_url: str, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def wipe(settings: Settings) -> None:
    from services.scoring import documents
    from shared import db

    db.connect(settings.mongodb_url, alias=documents.ALIAS, default_db="congso_scoring")
    # the comments come back with the ratings; the review response and the deadlines are
    # not survey's records: they stay, and are told again when they next change
    for doc in (documents.CitizenMonth, documents.PeerYear, documents.Score,
                documents.RatingComment):
        doc._get_collection().delete_many({})


def rebuild(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.scoring rebuild")
    parser.add_argument("--survey-url", default=os.environ.get("SURVEY_URL",
                                                               "http://127.0.0.1:8001"))
    parser.add_argument("--scoring-url", default=os.environ.get("SCORING_URL",
                                                                "http://127.0.0.1:8002"))
    parser.add_argument("--wipe", action="store_true",
                        help="empty scoring's contributions and scores first")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env("scoring")
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.admin_token_generated:
        print("ADMIN_TOKEN must be set (survey's admin token)", file=sys.stderr)
        return 2
    if settings.uses_memory_bus:
        print("AMQP_URL must name the broker the services use", file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.wipe:
        wipe(settings)
        print("scoring's contributions and scores emptied")
    headers = {"Authorization": f"Bearer {settings.admin_token}"}
    hold = Hold(args.scoring_url, headers)
    try:
        hold.renew()
    except requests.RequestException as exc:
        print(f"scoring refused the publishing hold: {exc}", file=sys.stderr)
        return 1
    try:
        code = _replay(args, settings, headers, hold, started)
    finally:
        hold.release()
    if code == 0:
        code = _wait_for_scores(args, headers, started)
    return code


def _wait_for_scores(args, headers: dict, started: float) -> int:
    """Until every score changed before the hold ended is derived (and queued for
    publishing). Not until no bucket at all is marked: ratings keep coming meanwhile."""
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            status = requests.get(f"{args.scoring_url}/api/v1/scoring/status",
                                  headers=headers, timeout=30).json()
        except requests.RequestException as exc:
            print(f"scoring unreachable: {exc}", file=sys.stderr)
        else:
            if status["publishing_held_until"] is None and not status["catching_up_after_hold"]:
                print(f"scores derived and published in {time.monotonic() - started:.1f} s")
                return 0
        time.sleep(0.5)
    print("timed out waiting for the scores", file=sys.stderr)
    return 1


class Hold:
    """Scoring's publishing hold, renewed while the rebuild runs; it ends by itself
    (HOLD_SECONDS) if this command dies."""

    HOLD_SECONDS = 300

    def __init__(self, scoring_url: str, headers: dict):
        self.url = f"{scoring_url}/api/v1/scoring/hold"
        self.headers = headers
        self.renewed = 0.0

    def renew(self) -> None:
        if time.monotonic() - self.renewed < self.HOLD_SECONDS / 5:
            return
        requests.put(self.url, json={"seconds": self.HOLD_SECONDS}, headers=self.headers,
                     timeout=30).raise_for_status()
        self.renewed = time.monotonic()

    def release(self) -> None:
        try:
            requests.delete(self.url, headers=self.headers, timeout=30).raise_for_status()
        except requests.RequestException as exc:
            print(f"could not end the publishing hold ({exc}); it ends by itself",
                  file=sys.stderr)
        else:
            print("scores that changed are being published")


class Progress:
    """What the replay has done so far: events applied (published, less those still
    queued or in scoring's hands), how many a second lately, and the time left at that
    rate for those published and not applied yet (while survey still publishes, more
    will come)."""

    def __init__(self):
        self.last: tuple[float, int] | None = None
        self.rate = 0.0

    def line(self, job: dict, depth: int, inflight: int) -> str:
        """`depth` and `inflight` count messages; a replay's carry `events_per_message`
        events each (the last one fewer), so the events they hold are estimated."""
        now = time.monotonic()
        per_message = job.get("events_per_message") or 1
        applied = max(0, job["published"] - (depth + inflight) * per_message)
        if self.last is not None and now > self.last[0]:
            recent = (applied - self.last[1]) / (now - self.last[0])
            self.rate = recent if not self.rate else 0.5 * self.rate + 0.5 * recent
        self.last = (now, applied)
        behind = job["published"] - applied
        left = f"{behind / self.rate:.0f} s" if self.rate > 0 else "?"
        more = "" if job["status"] == "done" else " (survey still publishing)"
        held = "" if per_message == 1 else f" messages of up to {per_message} events"
        return (f"published {job['published']}, applied {applied} ({self.rate:.0f}/s), "
                f"waiting {depth}, in hand {inflight}{held}, about {left} left{more}")


def _replay(args, settings: Settings, headers: dict, hold: Hold, started: float) -> int:
    r = requests.post(f"{args.survey_url}/api/v1/replays", json={"target": "scoring"},
                      headers=headers, timeout=30)
    if r.status_code != 202:
        print(f"survey refused the replay: {r.status_code} {r.text}", file=sys.stderr)
        return 1
    job = r.json()
    queue = topology.queue_for("scoring").name
    deadline = started + args.timeout
    quiet = 0
    progress = Progress()
    while time.monotonic() < deadline:
        job = requests.get(f"{args.survey_url}/api/v1/replays/{job['id']}", headers=headers,
                           timeout=30).json()
        if job["status"] == "failed":
            print(f"replay failed: {job.get('error')}", file=sys.stderr)
            return 1
        depth = queue_depth(settings.amqp_url, queue)
        status = requests.get(f"{args.scoring_url}/api/v1/scoring/status", headers=headers,
                              timeout=30).json()
        print(progress.line(job, depth, status["inflight"]), flush=True)
        # done when survey has sent everything and scoring has settled all of it, twice
        # in a row (a message between the broker and the consumer is in neither count)
        caught_up = job["status"] == "done" and depth == 0 and status["inflight"] == 0
        quiet = quiet + 1 if caught_up else 0
        if quiet >= 2:
            print(f"rebuilt from {job['published']} events in "
                  f"{time.monotonic() - started:.1f} s")
            return 0
        try:
            hold.renew()
        except requests.RequestException as exc:  # the hold outlives a few missed renewals
            print(f"publishing hold not renewed this time: {exc}", file=sys.stderr)
        time.sleep(0.5)
    print("timed out", file=sys.stderr)
    return 1
