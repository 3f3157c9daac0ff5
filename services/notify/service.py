"""What notify does: deadline reminders and overdue escalations, rating and score alerts."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import isodate
from pymongo.errors import DuplicateKeyError

from services.notify.documents import (
    AlertState,
    Deadline,
    OfficialContact,
    RatingAlertWindow,
    Submission,
    UnitContact,
)
from services.notify.sender import Sender
from shared.periods import parse_period
from shared.web import messages

logger = logging.getLogger(__name__)

SCALE = messages.SCALE["vi"]
LOW_RATING = 2
ALERT_WINDOW = timedelta(hours=1)
STALE_RATING = timedelta(days=1)
CONDUCT_FLOOR = 50.0
SATISFACTION_TARGET = 80.0


def parse_duration(text: str):
    """An ISO 8601 duration (P30D, PT2H, P1M); ValueError if it is not one or not positive."""
    try:
        value = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise ValueError(f"{text!r} is not an ISO 8601 duration (e.g. P7D, PT12H)") from None
    probe = datetime(2026, 1, 1, tzinfo=UTC)
    if probe - value >= probe:
        raise ValueError(f"{text!r} must be a positive duration")
    return value


def local(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


class NotifyService:
    def __init__(self, sender: Sender, tz: ZoneInfo):
        self.sender = sender
        self.tz = tz
        # set by the scheduler: schedule_flush(subject, when) sends the folded alerts later
        self.schedule_flush = None

    # --- deadlines --------------------------------------------------------------------

    def target_units(self, deadline: dict) -> list[str]:
        units = deadline.get("units") or []
        if "*" in units:
            return sorted(d["_id"] for d in UnitContact._get_collection().find({}, {"_id": 1}))
        return list(dict.fromkeys(units))

    def submitted(self, deadline_id: str) -> set[str]:
        return {d["unit"] for d in Submission._get_collection().find({"deadline": deadline_id},
                                                                     {"unit": 1})}

    def send_reminders(self, deadline_id: str, offset: str, now: datetime | None = None
                       ) -> list[str]:
        """Remind every listed unit not yet submitted (once per unit, offset, channel)."""
        now = now or datetime.now(UTC)
        deadline = Deadline._get_collection().find_one({"_id": deadline_id, "deleted": False})
        if deadline is None or offset not in deadline.get("remind_before", []):
            return []
        due = deadline["due_at"]
        if now >= due:
            logger.info("reminder %s %s skipped: the deadline has passed", deadline_id, offset)
            return []
        done = self.submitted(deadline_id)
        created = []
        remaining = due - now
        for unit in self.target_units(deadline):
            if unit in done:
                continue
            context = {"title": deadline["title"], "due_local": local(due, self.tz),
                       "remaining": _human(remaining)}
            data = {"deadline": deadline_id, "due_at": due.isoformat(), "offset": offset}
            created += self.sender.notify_unit(
                f"deadline.reminder|{deadline_id}|{unit}|{offset}", "deadline.reminder", unit,
                context, data, deadline=deadline_id)
        # every unit's reminder is claimed: the scheduler's reconcile leaves this one alone
        Deadline._get_collection().update_one({"_id": deadline_id},
                                              {"$addToSet": {"reminders_done": offset}})
        return created

    def send_overdue(self, deadline_id: str, now: datetime | None = None) -> list[str]:
        """Once a day after the deadline: each unit not submitted, and its escalation."""
        now = now or datetime.now(UTC)
        deadline = Deadline._get_collection().find_one({"_id": deadline_id, "deleted": False})
        if deadline is None or now < deadline["due_at"]:
            return []
        day = now.astimezone(self.tz).date().isoformat()
        done = self.submitted(deadline_id)
        due = deadline["due_at"]
        created = []
        for unit in self.target_units(deadline):
            if unit in done:
                continue
            contact = UnitContact._get_collection().find_one({"_id": unit}) or {}
            context = {"title": deadline["title"], "due_local": local(due, self.tz),
                       "overdue_days": max(1, (now - due).days + 1), "escalated": False}
            data = {"deadline": deadline_id, "due_at": due.isoformat(), "day": day}
            key = f"deadline.overdue|{deadline_id}|{unit}|{day}"
            created += self.sender.notify_unit(key, "deadline.overdue", unit, context, data,
                                               deadline=deadline_id)
            escalate = deadline.get("escalate_to") or contact.get("parent")
            if escalate and escalate != unit:
                created += self.sender.notify_unit(
                    f"{key}|to:{escalate}", "deadline.overdue", escalate,
                    {**context, "escalated": True, "unit_name": contact.get("name", unit),
                     "recipient_name": self._name(escalate)},
                    {**data, "escalated_to": escalate}, deadline=deadline_id, about_unit=unit)
        return created

    def _name(self, unit: str) -> str:
        return (UnitContact._get_collection().find_one({"_id": unit}, {"name": 1}) or {}).get(
            "name", unit)

    # --- alerts -----------------------------------------------------------------------

    def on_rating(self, data: dict, now: datetime | None = None) -> list[str]:
        """A rating of 1 or 2 alerts the official's unit: one alert an hour at most, the
        later ones folded into the next. Returns the notifications created now."""
        if data["overall"] > LOW_RATING:
            return []
        now = now or datetime.now(UTC)
        if now - data["submitted_at"] > STALE_RATING:
            return []  # an old rating replayed or long delayed: an alert now helps nobody
        official = data.get("official")
        unit = data["unit"]
        if official:
            record = OfficialContact._get_collection().find_one({"_id": official}) or {}
            unit = record.get("unit", unit)
        subject = official or f"unit:{unit}"
        summary = {"id": data["id"], "counter": data["counter"], "overall": data["overall"],
                   "comment": data.get("comment"), "unit": unit,
                   "submitted_at": data["submitted_at"].isoformat()}
        coll = RatingAlertWindow._get_collection()
        coll.update_one({"_id": subject}, {"$setOnInsert": {"pending": {}, "seen": []}},
                        upsert=True)
        state = coll.find_one({"_id": subject})
        if data["id"] in state.get("seen", []) or data["id"] in state.get("pending", {}):
            return []  # a redelivery
        last = state.get("last_sent_at")
        if last is not None and now - last < ALERT_WINDOW:
            coll.update_one({"_id": subject}, {"$set": {f"pending.{data['id']}": summary}})
            if self.schedule_flush is not None:
                self.schedule_flush(subject, last + ALERT_WINDOW)
            return []
        return self.flush_rating_alerts(subject, extra=summary, now=now)

    def flush_rating_alerts(self, subject: str, extra: dict | None = None,
                            now: datetime | None = None) -> list[str]:
        """Send one alert with the folded ratings of `subject` (and `extra`), if any."""
        now = now or datetime.now(UTC)
        coll = RatingAlertWindow._get_collection()
        state = coll.find_one({"_id": subject}) or {}
        ratings = list((state.get("pending") or {}).values()) + ([extra] if extra else [])
        if not ratings:
            return []
        window = now.replace(microsecond=0).isoformat()
        ids = [r["id"] for r in ratings]
        # the window start in the key: a retry after a crash makes the same alert, not another
        key_base = f"rating.alert|{subject}|{ids[0]}"
        unit = ratings[-1]["unit"]
        official = None if subject.startswith("unit:") else subject
        record = OfficialContact._get_collection().find_one({"_id": official}) if official else None
        ratings.sort(key=lambda r: r["submitted_at"])
        context = {
            "official": official or "", "official_name": (record or {}).get("full_name",
                                                                             official or ""),
            "ratings": [{**r, "label": SCALE.get(r["overall"], ""),
                         "time_local": local(datetime.fromisoformat(r["submitted_at"]), self.tz)}
                        for r in ratings],
        }
        created = self.sender.notify_unit(key_base, "rating.alert", unit, context,
                                          {"official": official, "ratings": ratings,
                                           "window": window}, wait_for_directory=True)
        coll.update_one({"_id": subject}, {
            "$set": {"last_sent_at": now},
            "$unset": {f"pending.{i}": "" for i in ids if i in (state.get("pending") or {})},
            "$push": {"seen": {"$each": ids, "$slice": -500}}})
        return created

    def on_score(self, data: dict, now: datetime | None = None) -> list[str]:
        """Alert a unit when an official's conduct index falls below 50, or the unit's citizen
        satisfaction below 80%: once per crossing, again only after a recovery.

        Only for the periods running now (this month, quarter and year): a score of a past
        period that moves with a late event, or of a later month of the year that the
        year's peer reviews already fill, is reported, not alerted."""
        start, end = parse_period(data["period"]).bounds(self.tz)
        if not start <= (now or datetime.now(UTC)) < end:
            return []
        score = data["score"]
        if data.get("scope") == "unit":
            value = (score.get("citizen") or {}).get("satisfaction_rate")
            subject, threshold, unit = f"unit:{data['unit']}", SATISFACTION_TARGET, data["unit"]
        else:
            value = score.get("conduct_index")
            subject, threshold = f"official:{data['official']}", CONDUCT_FLOOR
            record = OfficialContact._get_collection().find_one({"_id": data["official"]}) or {}
            unit = record.get("unit") or data.get("unit")
        if value is None or unit is None:
            return []
        key = f"{subject}|{data['period']}"
        below = value < threshold
        coll = AlertState._get_collection()
        with contextlib.suppress(DuplicateKeyError):
            coll.insert_one({"_id": key, "below": False})
        # flip the state atomically: only the one update that flips it sends the alert
        flipped = coll.find_one_and_update(
            {"_id": key, "below": not below},
            {"$set": {"below": below, "value": {"v": value}}, "$inc": {"crossings": int(below)}},
            return_document=True)
        if flipped is None or not below:
            return []
        official = data.get("official")
        record = OfficialContact._get_collection().find_one({"_id": official}) if official else {}
        context = {"scope": data.get("scope", "official"), "official": official or "",
                   "official_name": (record or {}).get("full_name", official or ""),
                   "period": data["period"], "value": value}
        # the n-th fall below the threshold: a redelivered event cannot make it n+1
        return self.sender.notify_unit(f"score.alert|{key}|{flipped['crossings']}",
                                       "score.alert", unit,
                                       context, {**data, "threshold": threshold},
                                       wait_for_directory=True)


def _human(delta: timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} ngày"
    hours = delta.seconds // 3600
    if hours >= 1:
        return f"{hours} giờ"
    return f"{max(1, delta.seconds // 60)} phút"
