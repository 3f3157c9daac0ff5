"""Event handlers of notify: plain functions with explicit dependencies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from services.notify import alerts, held, people, reviews
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from shared import auth_events as auth
from shared import events as ev
from shared import integrity_events, review_events
from shared.events import Event
from shared.messages import make_dispatcher as shared_dispatcher

logger = logging.getLogger(__name__)


def apply_unit_upserted(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                        tz: ZoneInfo) -> None:
    """Keep notify's copy of a unit's contacts at the newest version; send what waited
    for the unit."""
    d = event.loaded_data()
    store.upsert_unit(d["code"], d["version"], {
        "name": d["name"], "parent": d.get("parent"), "emails": d["emails"],
        "webhook_url": d.get("webhook_url"), "managers": list(d.get("managers") or []),
        "updated_at": d["updated_at"]})
    sender.resolve_waiting(d["code"])


def apply_official_upserted(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                            tz: ZoneInfo) -> None:
    """Keep notify's copy of an official (name, unit) at the newest version."""
    d = event.loaded_data()
    store.upsert_official(d["code"], d["version"], {
        "full_name": d["full_name"], "unit": d["unit"], "active": d.get("active", True),
        "email": d.get("email")})


def apply_rating(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                 tz: ZoneInfo) -> None:
    """A rating as stored, or in its new state: one of 1 or 2 that counts alerts the unit
    (folded to one an hour per official or counter); one held for a burst joins the
    burst's one alert to the unit's managers and the parent unit."""
    data = event.loaded_data()
    # when it came to be in this state: stored, or changed (a decision, a re-judging)
    at = data["submitted_at"] if event.type == ev.RATING_SUBMITTED else event.time
    held.apply_rating(data, at=at, store=store, sender=sender, scheduler=scheduler, tz=tz)


def judge_score(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                tz: ZoneInfo) -> None:
    """A changed score: a crossing of its threshold joins the subject's next alert."""
    alerts.alert_score(event.loaded_data(), store=store, scheduler=scheduler, tz=tz)


def email_signin_link(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                      tz: ZoneInfo) -> None:
    """A sign-in link was asked for, on /login or with a review invitation or reminder:
    email it to the official (once per link)."""
    people.send_signin_link(event.loaded_data(), store=store, sender=sender, tz=tz)


def email_account_notice(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                         tz: ZoneInfo) -> None:
    """Something was done to an official's account: tell them at once, at each address."""
    people.send_account_notice(event.loaded_data(), event.id, store=store, sender=sender,
                               tz=tz)


def schedule_review_window(event: Event, *, store: NotifyStore, sender: Sender, scheduler,
                           tz: ZoneInfo) -> None:
    """A year's review window was set or changed: (re)schedule its invitation and
    reminders (the newest version only)."""
    reviews.save_window(event.loaded_data(), store=store, scheduler=scheduler)


HANDLERS: dict[str, Callable[..., None]] = {
    ev.UNIT_UPSERTED: apply_unit_upserted,
    ev.OFFICIAL_UPSERTED: apply_official_upserted,
    ev.RATING_SUBMITTED: apply_rating,
    integrity_events.RATING_STATUS_CHANGED: apply_rating,
    ev.SCORE_UPDATED: judge_score,
    auth.LINK_REQUESTED: email_signin_link,
    auth.ACCOUNT_NOTICE: email_account_notice,
    review_events.WINDOW_SET: schedule_review_window,
}


def make_dispatcher(*, before: Callable[[Event], None] | None = None,
                    **deps) -> Callable[[Event], None]:
    """Route each event of the queue to its handler (each first to `before`: the access
    copy)."""
    return shared_dispatcher(HANDLERS, before=before, **deps)
