"""Every database access of survey, and nothing else: views, the kiosk, the importer,
replays and the demo read and write only through these modules.

- `directory`: units, officials and counters (versioned, optimistic upserts, each with
  its `directory.*.upserted` event in the same write), counter tokens.
- `ratings`: citizen ratings and the receipt codes they claimed.
- `reviews`: review windows and peer reviews.
- `access`: survey's keys, officials' bearer tokens, announced session keys, revocations.
- `signin`: sign-in links (by the digest of their secret).
- `audit`: the audit log (append-only).
- `replays`: replay jobs.

A write that stores an event takes `notify(collection, key)` (the outbox relay's), called
once the write is done, so the relay publishes it at once instead of at its next scan.
Refusals are `shared.errors` (a conflict is a 409, never an unhandled exception).
"""

from __future__ import annotations

from collections.abc import Callable

from services.survey.documents import DOCUMENTS, OUTBOX_DOCUMENTS
from shared import outbox

Notify = Callable[[str, str], None]


def ensure_indexes() -> None:
    """Create survey's indexes (idempotent; run at start)."""
    for doc in DOCUMENTS:
        doc.ensure_indexes()
    for doc in OUTBOX_DOCUMENTS:
        outbox.ensure_outbox_index(doc._get_collection())
    from services.survey.store import access, audit, directory, signin

    for module in (access, audit, directory, signin):
        module.ensure_indexes()


def outbox_collections() -> list[Callable]:
    """The collections whose documents may hold a pending event, for the outbox relay."""
    return [doc._get_collection for doc in OUTBOX_DOCUMENTS]


def as_record(doc: dict | None) -> dict | None:
    """A stored directory document as the API shows it: `_id` named `code`, no outbox."""
    if doc is None:
        return None
    return {"code": doc["_id"], **{k: v for k, v in doc.items()
                                   if k not in ("_id", outbox.PENDING_AT, outbox.PENDING_EVENT)}}


def notify_of(notify: Notify | None, document, key: str) -> None:
    if notify is not None:
        notify(document._get_collection().name, key)
