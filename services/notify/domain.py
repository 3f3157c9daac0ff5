"""What notify decides, on values only (no Flask, pika or database): when reminders go,
which units a deadline may name and who an overdue unit escalates to, when a score has
crossed its threshold, how crossings and low ratings are folded into one alert, and what
each reminder and alert says (the templates only lay it out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import isodate

from shared.events import ScoreChange
from shared.periods import FIRST_YEAR, LAST_YEAR, parse_period
from shared.web import messages

SCALE = messages.SCALE["vi"]
LOW_RATING = 2  # overall 1 or 2 ("Rất không hài lòng", "Không hài lòng") alerts
RATING_ALERT_WINDOW = timedelta(hours=1)  # one rating alert an hour per official or counter
STALE_RATING = timedelta(days=1)  # an older rating (replayed, long delayed) alerts nobody
# Scoring publishes one score.updated per period (year, quarter, month) for one change, a
# moment apart: the crossings of one subject arriving within this window are one alert.
SCORE_FOLD_WINDOW = timedelta(seconds=10)
# A reminder more than a year before its deadline reminds nobody of anything.
LONGEST_REMINDER = timedelta(days=366)


@dataclass(frozen=True)
class Threshold:
    """Alert when a value falls below `floor`; alert again only after it has come back to
    `rearm` or more (a few ratings moving it around the floor must not alert each time),
    and judge nothing while the period has fewer than `min_count` ratings."""

    floor: float
    rearm: float
    min_count: int = 0


# An official's conduct index under 50 is "không hoàn thành" (Decree 335/2025, reference).
CONDUCT = Threshold(floor=50.0, rearm=55.0)
# A unit's citizen satisfaction under the government's 80% target. With fewer ratings one
# rating moves the rate by more than the 5-point re-arm band (1 in 19 is 5.3 points), so a
# handful of citizens could flip it back and forth; 20 also matches what a unit's counters
# see in a few days, so a real fall is still reported within the month.
MIN_RATINGS_FOR_UNIT_ALERT = 20
SATISFACTION = Threshold(floor=80.0, rearm=85.0, min_count=MIN_RATINGS_FOR_UNIT_ALERT)


def judge(threshold: Threshold, value: float | None, count: int) -> bool | None:
    """True: below the floor; False: back at or above the re-arm level; None: no verdict
    (no value, too few ratings, or inside the band: the alert state stays as it is)."""
    if value is None or count < threshold.min_count:
        return None
    if value < threshold.floor:
        return True
    if value >= threshold.rearm:
        return False
    return None


@dataclass(frozen=True)
class ScoreReading:
    subject: str  # "official:<code>" or "unit:<code>"
    threshold: Threshold
    value: float | None
    count: int


def reading(change: ScoreChange) -> ScoreReading:
    """The figure of a score change that alerts, with its threshold."""
    if change.scope == "unit":
        return ScoreReading(f"unit:{change.unit}", SATISFACTION,
                            change.citizen.satisfaction_rate, change.citizen.count)
    return ScoreReading(f"official:{change.official}", CONDUCT, change.conduct_index,
                        change.citizen.count)


def running_now(period: str, now: datetime, tz: ZoneInfo) -> bool:
    """Only the periods running now alert: a past one moved by a late event, or a later
    month the year's peer reviews already fill, is reported in the scores, not alerted."""
    start, end = parse_period(period).bounds(tz)
    return start <= now < end


# --- folding ----------------------------------------------------------------------------


def first_entry(entries: Mapping[str, dict]) -> str:
    """The id of the entry that opened a fold (earliest arrival; ties by id)."""
    return min(entries, key=lambda eid: (entries[eid]["at"], eid))


def fold_ready_at(entries: Mapping[str, dict], window: timedelta) -> datetime:
    """When a fold of score crossings goes out: `window` after its first crossing."""
    return _aware(entries[first_entry(entries)]["at"]) + window


def score_alert_key(subject: str, entries: Mapping[str, dict]) -> str:
    """The claim key of a folded score alert: its first crossing, so a flush run again
    after a crash makes the same alert, never a second one."""
    return f"score.alert|{subject}|{first_entry(entries)}"


_PERIOD_ORDER = {"year": 0, "quarter": 1, "month": 2}


def period_label(period: str) -> str:
    p = parse_period(period)
    if p.month:
        return f"tháng {p.month:02d}/{p.year}"
    if p.quarter:
        return f"quý {p.quarter}/{p.year}"
    return f"năm {p.year}"


def score_alert_context(subject: str, entries: Iterable[dict], official_name: str | None
                        ) -> dict:
    """What a folded score alert says: who, and each period that crossed, year first."""
    scope, code = subject.split(":", 1)
    rows = sorted(entries, key=lambda e: (_PERIOD_ORDER[parse_period(e["period"]).kind],
                                          e["period"]))
    return {"scope": scope, "official": code if scope == "official" else "",
            "official_name": official_name or code,
            "floor": _figure(CONDUCT.floor if scope == "official" else SATISFACTION.floor),
            "periods": [{**e, "label": period_label(e["period"]), "value": _figure(e["value"])}
                        for e in rows]}


def rating_alert_subject(official: str | None, counter: str) -> str:
    """Whose low ratings fold together: the official's, or the counter's when the citizen
    named no official."""
    return official if official else f"counter:{counter}"


def counter_name(code: str, label: str | None) -> str:
    """How an alert names a counter: its label ("Quầy 1 - Tư pháp"), else "quầy <code>"."""
    if not label:
        return f"quầy {code}"
    return label if label.casefold().startswith("quầy") else f"quầy {label}"


def rating_alert_context(official: str | None, official_name: str | None,
                         ratings: list[dict], tz: ZoneInfo) -> dict:
    """What a rating alert says: about the official, or about the counter when the
    citizen named nobody, then each rating, oldest first."""
    ratings = sorted(ratings, key=lambda r: r["submitted_at"])
    if official:
        name = official_name or official
        about = f"với cán bộ {name}"
        detail = f"về cán bộ {name} ({official})" if name != official else f"về cán bộ {name}"
    else:
        where = counter_name(ratings[-1]["counter"], ratings[-1].get("counter_label"))
        about = f"tại {where}"
        detail = f"tại {where} (người dân không nêu tên cán bộ)"
    return {"about": about, "about_detail": detail, "official": official or "",
            "ratings": [{**r, "label": SCALE.get(r["overall"], ""),
                         "time_local": local(datetime.fromisoformat(r["submitted_at"]), tz)}
                        for r in ratings]}


# --- deadlines --------------------------------------------------------------------------


def parse_duration(text: str) -> timedelta | isodate.Duration | None:
    """An ISO 8601 duration (P30D, PT2H, P1M); None if it is one too long to compute with;
    ValueError if it is not one."""
    try:
        return isodate.parse_duration(text)
    except OverflowError:
        return None
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise ValueError(f"{text!r} is not an ISO 8601 duration (e.g. P7D, PT12H)") from None


def due_problem(due: datetime) -> str | None:
    """Why `due` cannot be a deadline's time, if it cannot (judged in its own offset, as
    the caller wrote it: year 1 or 9999 would leave the calendar once moved to UTC)."""
    if not FIRST_YEAR <= due.year <= LAST_YEAR:
        return f"the year must be between {FIRST_YEAR} and {LAST_YEAR}"
    return None


def reminder_times(due: datetime, offsets: list[str]) -> tuple[dict[str, datetime], list[str]]:
    """When each reminder of a deadline due at `due` goes, and what is wrong with them:
    not a duration, not positive, longer than a year, or the same length as another
    (P7D and P1W remind at one instant: one reminder, not two)."""
    times: dict[str, datetime] = {}
    problems: list[str] = []
    seen: dict[datetime, str] = {}
    for text in offsets:
        try:
            when = _before(due, text)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if when is not None and when >= due:
            problems.append(f"{text!r} must be a positive duration")
        elif when is None or due - when > LONGEST_REMINDER:
            problems.append(f"{text!r} is longer than a year")
        elif when in seen:
            problems.append(f"{text!r} is the same duration as {seen[when]!r}")
        else:
            seen[when] = text
            times[text] = when
    return times, problems


def _before(due: datetime, text: str) -> datetime | None:
    """`due` minus the duration `text`; None when that is off the calendar."""
    duration = parse_duration(text)
    if duration is None:
        return None
    try:
        return due - duration
    except (OverflowError, ValueError):
        return None  # far longer than a year: out of datetime's range


def planned_reminders(due: datetime, offsets: list[str], after: datetime
                      ) -> dict[str, datetime]:
    """The reminders a deadline saved at `after` plans: those still to come then (one
    whose time had passed is not sent late)."""
    times, _ = reminder_times(due, offsets)
    return {offset: when for offset, when in times.items() if when > after}


def unknown_units(codes: Iterable[str], known: Iterable[str]) -> dict[str, str | None]:
    """Each code that is not a known unit, with the known code it differs from only by
    case, if any ("u1" for "U1"): codes are case-sensitive, as everywhere in congso."""
    known = set(known)
    by_lower = {k.lower(): k for k in known}
    return {c: by_lower.get(c.lower()) for c in codes if c != "*" and c not in known}


def describe_unknown(unknown: Mapping[str, str | None]) -> str:
    return ", ".join(f"{c!r} (did you mean {hint!r}?)" if hint else repr(c)
                     for c, hint in unknown.items())


def escalation_target(unit: str, escalate_to: str | None, parent: str | None) -> str | None:
    """Who else hears that `unit` is overdue: the deadline's `escalate_to`, else the unit's
    parent; never the unit itself."""
    target = escalate_to or parent
    return target if target and target != unit else None


def reminder_context(title: str, due: datetime, now: datetime, tz: ZoneInfo) -> dict:
    return {"title": title, "due_local": local(due, tz), "remaining": human(due - now)}


def overdue_context(title: str, due: datetime, now: datetime, tz: ZoneInfo) -> dict:
    return {"title": title, "due_local": local(due, tz),
            "overdue_days": max(1, (now - due).days + 1), "escalated": False}


def local(dt: datetime, tz: ZoneInfo) -> str:
    return _aware(dt).astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def local_day(dt: datetime, tz: ZoneInfo) -> str:
    return _aware(dt).astimezone(tz).date().isoformat()


def human(delta: timedelta) -> str:
    """A time left in words, to the nearest minute: a reminder runs a moment after
    `due - offset`, and "P2D" must still read "2 ngày", not "1 ngày"."""
    minutes = max(1, round(delta.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "ngày"), (hours, "giờ"), (minutes, "phút")]
    first = next(i for i, (n, _) in enumerate(parts) if n)
    return " ".join(f"{n} {word}" for n, word in parts[first:first + 2] if n)


def _figure(value: float | None) -> str:
    """A figure as Vietnamese readers write it: 62,5 and 80 (decimal comma, no ",0")."""
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
