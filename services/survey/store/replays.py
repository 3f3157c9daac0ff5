"""Replay jobs: what each replay has published, and how it ended."""

from __future__ import annotations

import uuid

from services.survey.documents import ReplayJob
from shared.db import stored_now


def start_job(target: str, events_per_message: int) -> dict:
    """Record a new running replay to `target`; return it."""
    job = {"_id": uuid.uuid4().hex, "target": target, "events_per_message": events_per_message,
           "status": "running", "published": 0,
           "failed_attempts": 0, "started_at": stored_now(), "finished_at": None}
    ReplayJob._get_collection().insert_one(job)
    return job


def progress(job_id: str, published: int) -> None:
    ReplayJob._get_collection().update_one({"_id": job_id}, {"$set": {"published": published}})


def failed_attempt(job_id: str) -> None:
    ReplayJob._get_collection().update_one({"_id": job_id}, {"$inc": {"failed_attempts": 1}})


def finish(job_id: str, published: int, error: str | None = None) -> None:
    """Mark a job done (or failed, with `error`)."""
    ReplayJob._get_collection().update_one({"_id": job_id}, {"$set": {
        "published": published, "status": "failed" if error else "done",
        "finished_at": stored_now(), **({"error": error} if error else {})}})


def job(job_id: str) -> dict | None:
    return ReplayJob._get_collection().find_one({"_id": job_id})
