"""Event handlers of scoring: plain functions with explicit dependencies.

Each stores the event's contribution (idempotently) and tells the refresher which
buckets changed; the contribution and the bucket's dirty mark are one write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from shared import dashboard_events, integrity_events, review_events
from shared import events as ev
from shared.events import Event
from shared.integrity_events import COUNTED
from shared.messages import make_dispatcher as shared_dispatcher

logger = logging.getLogger(__name__)


def _rating_of(data: dict, tz: ZoneInfo) -> dict:
    """A rating as the store records it: its buckets' day, local hour, state."""
    local = data["submitted_at"].astimezone(tz)
    return {"id": data["id"], "official": data.get("official"), "unit": data["unit"],
            "day": local.date().isoformat(), "hour": local.hour, "overall": data["overall"],
            "factors": data.get("factors") or {}, "status": data.get("status") or COUNTED,
            "version": data.get("status_version") or 0}


def _keep_comment(data: dict, rating: dict, *, store, tz: ZoneInfo) -> None:
    text = (data.get("comment") or "").strip()
    if text:
        local = data["submitted_at"].astimezone(tz)
        store.add_comment(data["id"], unit=data["unit"], counter=data.get("counter"),
                          counter_label=data.get("counter_label"),
                          official=data.get("official"), overall=data["overall"],
                          at=data["submitted_at"], local=local.strftime("%Y-%m-%d %H:%M"),
                          text=text, status=rating["status"], version=rating["version"])


def apply_rating(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Count a citizen rating for its official and its counter's unit, once, with its
    local hour and its state; keep its comment, if any, for the dashboards.

    `rating.submitted` and `rating.status_changed` alike: each carries the rating whole,
    and the higher `status_version` wins wherever it is stored (the bucket rows, the
    comment), so the order of arrival and redeliveries change nothing."""
    data = event.loaded_data()
    rating = _rating_of(data, tz)
    written = store.add_rating(rating.pop("id"), **rating)
    _keep_comment(data, {**rating}, store=store, tz=tz)
    if written:
        refresher.hint(*written)


def apply_review(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Count a peer review with its comment; an edit (higher revision) replaces both."""
    data = event.loaded_data()
    store.add_review(data["id"], reviewee=data["reviewee"], year=data["period"],
                     revision=data["revision"], scores=data["scores"],
                     comment=data.get("comment"))
    refresher.hint(f"{data['reviewee']}:{data['period']}")


def apply_window_set(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Keep a year's review window at its newest version: it decides when the year's peer
    results are published (reads follow at once; the refresher's next scan publishes
    the scores a close, or a window re-opened, changes)."""
    data = event.loaded_data()
    if store.save_window(data["year"], opens_at=data["opens_at"], closes_at=data["closes_at"],
                         version=data["version"]):
        refresher.scan_soon()


def apply_review_response(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Keep a unit's peer-review response counts of a year (the newest `at` wins)."""
    data = event.loaded_data()
    store.save_response(data["year"], data["unit"], {
        k: data[k] for k in ("invited", "finished", "in_progress", "not_started")}, data["at"])


def apply_deadline_status(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Keep a deadline as it stands (the newest version wins; deleted drops it from
    every read)."""
    data = event.loaded_data()
    store.save_deadline(data["id"], {
        "title": data["title"], "due_at": data["due_at"], "units": data["units"],
        "submitted": data["submitted"], "deleted": data["deleted"]}, data["version"])


def apply_unit_upserted(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Keep scoring's copy of a unit at its newest version."""
    data = event.loaded_data()
    store.upsert_directory_record("unit", {
        "code": data["code"], "name": data["name"], "parent": data.get("parent"),
        "version": data["version"],
    })


def apply_official_upserted(event: Event, *, store, tz: ZoneInfo, refresher) -> None:
    """Keep scoring's copy of an official at its newest version."""
    data = event.loaded_data()
    store.upsert_directory_record("official", {
        "code": data["code"], "full_name": data["full_name"], "unit": data["unit"],
        "position": data.get("position"), "active": data.get("active", True),
        "version": data["version"],
    })


HANDLERS: dict[str, Callable[..., None]] = {
    ev.RATING_SUBMITTED: apply_rating,
    integrity_events.RATING_STATUS_CHANGED: apply_rating,
    ev.PEER_REVIEW_SUBMITTED: apply_review,
    review_events.WINDOW_SET: apply_window_set,
    dashboard_events.REVIEW_RESPONSE: apply_review_response,
    dashboard_events.DEADLINE_STATUS: apply_deadline_status,
    ev.UNIT_UPSERTED: apply_unit_upserted,
    ev.OFFICIAL_UPSERTED: apply_official_upserted,
}


def make_dispatcher(**deps) -> Callable[[Event], None]:
    """Route each event of the queue to its handler."""
    return shared_dispatcher(HANDLERS, **deps)


RATING_TYPES = frozenset({ev.RATING_SUBMITTED, integrity_events.RATING_STATUS_CHANGED})


def make_batch_handler(*, store, tz: ZoneInfo, refresher, before=None
                       ) -> Callable[[list[Event]], None]:
    """Apply a batch of the queue's events: the ratings' rows together, each bucket read
    and written once (`store.add_ratings`), every other event by its handler, in order.
    Safe to repeat whole or in part (every write is idempotent): the consumer hands a
    failed batch's events over one by one."""

    def apply(events: list[Event]) -> None:
        ratings = []
        for event in events:
            if before is not None:
                before(event)
            if event.type in RATING_TYPES:
                data = event.loaded_data()
                ratings.append(_rating_of(data, tz))
                _keep_comment(data, ratings[-1], store=store, tz=tz)
                continue
            handler = HANDLERS.get(event.type)
            if handler is not None:
                handler(event, store=store, tz=tz, refresher=refresher)
        written = store.add_ratings(ratings) if ratings else []
        if written:
            refresher.hint(*written)

    return apply
