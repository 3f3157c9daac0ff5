"""Alerts: low citizen ratings, and scores falling below their thresholds.

- A rating of 1 or 2 in a state that counts (counted, or accepted after being held:
  held.py decides) alerts the official's unit (or, with no official named, the
  counter's unit, about that counter): one alert an hour per official or counter, the
  later ratings kept back and folded into the next (`flush_rating_alerts`, a scheduler
  job).
- A score crossing its threshold (domain.CONDUCT, domain.SATISFACTION, with their re-arm
  band and minimum ratings) is one crossing per subject and period; the crossings of one
  subject within `domain.SCORE_FOLD_WINDOW` go out as one alert naming every period
  (`flush_score_alerts`, a scheduler job). Each alert is claimed by a key made from what
  it folds, so a flush run twice (a crash, the reconcile) still sends it once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import domain
from services.notify.injection import INJECTED
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from shared.events import ScoreChange

logger = logging.getLogger(__name__)


def alert_low_rating(data: dict, *, store: NotifyStore, sender: Sender, scheduler,
                     tz: ZoneInfo, now: datetime | None = None,
                     at: datetime | None = None) -> list[str]:
    """Alert on a rating of 1 or 2, or hold it for the next alert within the hour; `at`:
    when it came to count (its submission, or the decision that accepted it)."""
    if data["overall"] > domain.LOW_RATING:
        return []
    now = now or datetime.now(UTC)
    if now - (at or data["submitted_at"]) > domain.STALE_RATING:
        return []  # an old rating replayed or long delayed: an alert now helps nobody
    official = data.get("official")
    unit = (store.official(official) or {}).get("unit", data["unit"])
    subject = domain.rating_alert_subject(official, data["counter"])
    summary = {"id": data["id"], "counter": data["counter"],
               "counter_label": data.get("counter_label"), "overall": data["overall"],
               "comment": data.get("comment"), "unit": unit,
               "submitted_at": data["submitted_at"].isoformat()}
    window = store.rating_window(subject)
    if data["id"] in window.get("seen", []) or data["id"] in window.get("pending", {}):
        return []  # a redelivery
    last = window.get("last_sent_at")
    if last is not None and now - last < domain.RATING_ALERT_WINDOW:
        store.hold_rating(subject, data["id"], summary)
        scheduler.schedule_flush("rating", subject, last + domain.RATING_ALERT_WINDOW)
        return []
    return flush_rating_alerts(subject, store=store, sender=sender, tz=tz, now=now,
                               extra=summary)


def flush_rating_alerts(subject: str, *, store: NotifyStore = INJECTED,
                        sender: Sender = INJECTED, tz: ZoneInfo = INJECTED,
                        now: datetime | None = None, extra: dict | None = None) -> list[str]:
    """Send one alert with the held low ratings of `subject` (and `extra`), if any."""
    now = now or datetime.now(UTC)
    held = dict(store.rating_window(subject).get("pending") or {})
    ratings = list(held.values()) + ([extra] if extra else [])
    if not ratings:
        return []
    ids = [r["id"] for r in ratings]
    official = None if subject.startswith("counter:") else subject
    record = store.official(official) or {}
    context = domain.rating_alert_context(official, record.get("full_name"), ratings, tz)
    # keyed by the first rating it carries: a retry after a crash makes the same alert
    created = sender.notify_unit(
        f"rating.alert|{subject}|{ids[0]}", "rating.alert", ratings[-1]["unit"], context,
        {"official": official, "counter": ratings[-1]["counter"], "ratings": ratings,
         "window": now.replace(microsecond=0).isoformat()}, wait_for_directory=True)
    store.close_rating_window(subject, ids, [i for i in ids if i in held], now)
    return created


def alert_score(change: ScoreChange, *, store: NotifyStore, scheduler, tz: ZoneInfo,
                now: datetime | None = None) -> list[str]:
    """Judge a changed score against its threshold; a crossing joins its subject's fold,
    sent when the fold window ends. Returns the crossings recorded ("<period>#<n>")."""
    now = now or datetime.now(UTC)
    if not domain.running_now(change.period, now, tz):
        return []
    seen = domain.reading(change)
    unit = change.unit if change.scope == "unit" else (
        (store.official(change.official) or {}).get("unit") or change.unit)
    if unit is None:
        logger.warning("score of %s: no unit to alert", seen.subject)
        return []
    verdict = domain.judge(seen.threshold, seen.value, seen.count)
    crossing = store.judge_score(f"{seen.subject}|{change.period}", verdict, seen.value,
                                 change.computed_at)
    if crossing is None:
        return []
    entry_id = f"{change.period}#{crossing}"
    fold = store.add_to_fold(seen.subject, entry_id, {
        "period": change.period, "value": seen.value, "count": seen.count, "unit": unit,
        "computed_at": change.computed_at.isoformat(), "at": now})
    scheduler.schedule_flush("score", seen.subject,
                             domain.fold_ready_at(fold["entries"], domain.SCORE_FOLD_WINDOW))
    return [entry_id]


def flush_score_alerts(subject: str, *, store: NotifyStore = INJECTED,
                       sender: Sender = INJECTED, scheduler=INJECTED,
                       now: datetime | None = None) -> list[str]:
    """Send the folded crossings of `subject` as one alert, once its window has ended."""
    now = now or datetime.now(UTC)
    entries = store.fold(subject)
    if not entries:
        return []
    ready = domain.fold_ready_at(entries, domain.SCORE_FOLD_WINDOW)
    if now < ready:
        scheduler.schedule_flush("score", subject, ready)
        return []
    scope, code = subject.split(":", 1)
    record = store.official(code) if scope == "official" else None
    rows = sorted(entries.values(), key=lambda e: e["at"])
    unit = code if scope == "unit" else (record or {}).get("unit") or rows[-1]["unit"]
    context = domain.score_alert_context(subject, rows, (record or {}).get("full_name"))
    threshold = domain.CONDUCT if scope == "official" else domain.SATISFACTION
    data = {"scope": scope, "official": code if scope == "official" else None, "unit": unit,
            "threshold": threshold.floor, "rearm": threshold.rearm,
            "computed_at": rows[-1]["computed_at"],
            "periods": [{k: e[k] for k in ("period", "value", "count", "computed_at")}
                        for e in rows]}
    created = sender.notify_unit(domain.score_alert_key(subject, entries), "score.alert",
                                 unit, context, data, wait_for_directory=True)
    store.clear_fold(subject, list(entries))
    return created
