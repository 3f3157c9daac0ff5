"""Sign-in links, stored by the SHA-256 of their secret (the secret itself is nowhere but
in the email), each with its `auth.link_requested` event in the same write."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument

from services.survey.documents import SignInLink
from services.survey.store import Notify, notify_of
from shared.events import Event
from shared.outbox import outbox_fields

KEEP_SECONDS = 86400  # a used or expired link is kept a day (to say why it no longer works)


def ensure_indexes() -> None:
    SignInLink._get_collection().create_index(
        [("expires_at", ASCENDING)], name="expires_ttl", expireAfterSeconds=KEEP_SECONDS)


def add_link(digest: str, *, official: str, created_at: datetime, expires_at: datetime,
             next_path: str, event: Event | None, notify: Notify | None = None) -> None:
    """Store a link; with its `auth.link_requested` event, or without when another write
    carries the event (an invitation's or a reminder's, claimed once)."""
    SignInLink._get_collection().insert_one(
        {"_id": digest, "official": official, "created_at": created_at,
         "expires_at": expires_at, "used_at": None, "next": next_path,
         **(outbox_fields(event) if event is not None else {})})
    if event is not None:
        notify_of(notify, SignInLink, digest)


def drop_link(digest: str) -> None:
    """Forget a link never sent (its invitation was claimed by another process)."""
    SignInLink._get_collection().delete_one({"_id": digest, "outbox_event": None})


def claim_link(digest: str, now: datetime) -> dict | None:
    """Mark the unused, unexpired link `digest` used and return it; None otherwise (two
    clicks at once: exactly one gets it)."""
    return SignInLink._get_collection().find_one_and_update(
        {"_id": digest, "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}}, projection={"official": 1, "next": 1},
        return_document=ReturnDocument.AFTER)


def link(digest: str) -> dict | None:
    """The link `digest` as stored (to tell a used link from an expired one)."""
    return SignInLink._get_collection().find_one(
        {"_id": digest}, {"official": 1, "used_at": 1, "expires_at": 1})
