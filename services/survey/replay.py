"""Replay survey's records as events to one consumer, to fill its database from scratch.

Published with routing keys `replay.<consumer>.<type>`, bound only to that consumer's
queue: a scoring rebuild never makes notify alert again about old ratings. Events keep
the ids of the originals; consumers are idempotent, so a replay over a database that
already has some of them only fills what is missing.
"""

from __future__ import annotations

import logging
import threading
import uuid

from services.survey.documents import Official, PeerReview, Rating, ReplayJob, Unit
from services.survey.ratings import rating_event
from services.survey.reviews import review_event
from shared import events as ev
from shared import topology
from shared.db import stored_now
from shared.messages import OutgoingMessage

logger = logging.getLogger(__name__)
SOURCE = "/congso/survey"
TARGETS = tuple(topology.QUEUES)
BATCH = 1000


def _directory_event(kind: str, doc: dict) -> ev.Event:
    data = {k: v for k, v in doc.items() if k not in ("_id", "outbox_at", "outbox_event")}
    return ev.make_event(kind, {"code": doc["_id"], **data}, source=SOURCE, subject=doc["_id"])


def _rating(doc: dict) -> ev.Event:
    return rating_event({
        "id": doc["_id"], "client_id": doc["client_id"], "counter": doc["counter"],
        "unit": doc["unit"], "official": doc.get("official"), "overall": doc["overall"],
        "factors": doc.get("factors") or {}, "comment": doc.get("comment"),
        "receipt_code": doc.get("receipt_code"), "submitted_at": doc["submitted_at"]})


def _events():
    """Every record, directory first, as events (a generator: nothing is held in memory)."""
    for doc in Unit._get_collection().find():
        yield _directory_event(ev.UNIT_UPSERTED, doc)
    for doc in Official._get_collection().find():
        yield _directory_event(ev.OFFICIAL_UPSERTED, doc)
    for doc in Rating._get_collection().find():
        yield _rating(doc)
    for doc in PeerReview._get_collection().find():
        yield review_event(doc["_id"], doc)


def start_replay(target: str, publisher) -> dict:
    """Record a replay job and run it in the background; return the job."""
    job = {"_id": uuid.uuid4().hex, "target": target, "status": "running", "published": 0,
           "failed_attempts": 0, "started_at": stored_now(), "finished_at": None}
    ReplayJob._get_collection().insert_one(job)
    threading.Thread(target=_run, args=(job["_id"], target, publisher), daemon=True,
                     name=f"replay-{target}").start()
    return job


def _run(job_id: str, target: str, publisher) -> None:
    coll = ReplayJob._get_collection()
    published = 0
    try:
        batch: list[OutgoingMessage] = []
        for event in _events():
            batch.append(OutgoingMessage(topology.replay_key(target, event.type),
                                         event.to_bytes(), event.id, event.type))
            if len(batch) >= BATCH:
                published += _publish(publisher, batch, job_id)
                batch = []
                coll.update_one({"_id": job_id}, {"$set": {"published": published}})
        if batch:
            published += _publish(publisher, batch, job_id)
        coll.update_one({"_id": job_id}, {"$set": {
            "published": published, "status": "done", "finished_at": stored_now()}})
        logger.info("replay %s to %s: %d events", job_id, target, published)
    except Exception as exc:
        logger.exception("replay %s failed", job_id)
        coll.update_one({"_id": job_id}, {"$set": {
            "published": published, "status": "failed", "error": str(exc),
            "finished_at": stored_now()}})


def _publish(publisher, batch: list[OutgoingMessage], job_id: str, attempts: int = 20) -> int:
    """Publish a batch, retrying what the broker did not confirm."""
    todo = batch
    for attempt in range(attempts):
        results = publisher.publish_many(todo, timeout=60)
        todo = [m for m, err in zip(todo, results, strict=True) if err is not None]
        if not todo:
            return len(batch)
        ReplayJob._get_collection().update_one({"_id": job_id},
                                               {"$inc": {"failed_attempts": 1}})
        threading.Event().wait(min(10.0, 0.5 * 2 ** attempt))
    raise RuntimeError(f"{len(todo)} events still not confirmed after {attempts} attempts")


def job(job_id: str) -> dict | None:
    return ReplayJob._get_collection().find_one({"_id": job_id})
