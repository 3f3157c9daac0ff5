"""Held ratings as notify sees them, on values only (no Flask, pika or database): which
state of a rating may alert as a low rating, which rating belongs to a burst, when a
burst's one alert goes, and what it says.

Survey holds a rating for "burst" when one device or address sent more than the limit
of ratings for one official (or one counter) within the window; every rating of one
such run carries the same opaque burst id. Notify alerts a burst once: a few minutes
after it first hears of it (`BURST_ALERT_DELAY`), so the alert can say how many were held
by then, rather than "1". Later ratings of the same burst alert nobody again; they are on
the held-ratings page. Events never carry an address or a device, so no alert can.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from services.notify import domain
from services.notify.notices import local_times
from shared import integrity_events as integrity

KIND = "burst.alert"
# how long after notify first hears of a burst its alert goes: a stuffer's run (a
# hundred taps in two minutes) is in it, named by its number
BURST_ALERT_DELAY = timedelta(minutes=5)


def counts(data: dict) -> bool:
    """Does the rating count in scores in this state (counted or accepted)?"""
    return integrity.counts(data.get("status"))


def burst_of(data: dict) -> str | None:
    """The burst the rating is held in; None unless it is held for "burst"."""
    if (data.get("status") == integrity.HELD and integrity.BURST in (data.get("reasons") or ())
            and data.get("burst")):
        return data["burst"]
    return None


def member(data: dict) -> dict:
    """What a burst keeps of one of its ratings (never where it came from)."""
    return {"id": data["id"], "counter": data["counter"], "label": data.get("counter_label"),
            "unit": data["unit"], "official": data.get("official"),
            "at": as_utc(data.get("given_at") or data["submitted_at"])}


def stale(at: datetime, now: datetime) -> bool:
    """Too old to alert anyone (a replay, or notify long down): as for low ratings."""
    return now - as_utc(at) > domain.STALE_RATING


def held_url(base_url: str, unit: str) -> str:
    """The page of the unit's held ratings (survey's)."""
    return f"{base_url.rstrip('/')}/ratings/held?{urlencode({'unit': unit})}"


def counters_named(counters: list[dict]) -> list[str]:
    """Each counter of the burst once, as alerts name counters ("Quầy 1 - Tư pháp")."""
    named: dict[str, str] = {}
    for c in counters:
        if c.get("label") or c["code"] not in named:
            named[c["code"]] = domain.counter_name(c["code"], c.get("label"))
    return [named[code] for code in sorted(named)]


def alert_context(burst: dict, *, official_name: str | None, unit_name: str, tz: ZoneInfo,
                  base_url: str) -> dict:
    """What a burst's alert says, to a manager of the unit or to the parent unit."""
    official = burst.get("official")
    counters = counters_named(burst.get("counters") or [])
    first_vi, first_en = local_times(burst["first_at"], tz)
    last_vi, last_en = local_times(burst["last_at"], tz)
    if official:
        name = official_name or official
        who = f"{name} ({official})" if name != official else name
        about_vi, about_en = f"cho cán bộ {who}", f"for official {who}"
        subject_about = f"cán bộ {name}"
    else:
        about_vi = f"về {', '.join(counters)} (không nêu tên cán bộ)"
        about_en = f"at {', '.join(counters)} (no official named)"
        subject_about = ", ".join(counters)
    return {"about_unit": burst["unit"], "about_unit_name": unit_name,
            "subject_about": subject_about, "about_vi": about_vi, "about_en": about_en,
            "official": official or "", "counters": ", ".join(counters),
            "held": len(burst.get("held") or []),
            "first_vi": first_vi, "last_vi": last_vi, "first_en": first_en,
            "last_en": last_en, "link": held_url(base_url, burst["unit"]),
            "button": "Xem đánh giá bị tạm giữ / Review held ratings"}


def alert_data(burst_id: str, burst: dict, context: dict) -> dict:
    """The webhook's data of a burst alert."""
    return {"burst": burst_id, "unit": burst["unit"], "official": burst.get("official"),
            "counters": sorted({c["code"] for c in burst.get("counters") or []}),
            "held": context["held"], "first_given_at": as_utc(burst["first_at"]).isoformat(),
            "last_given_at": as_utc(burst["last_at"]).isoformat(), "url": context["link"]}


def as_utc(dt: datetime) -> datetime:
    """A time read from the database as an aware one (UTC when it has no zone)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
