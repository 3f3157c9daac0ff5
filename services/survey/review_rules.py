"""The review cycle's rules, pure: values in, values out (no Flask, pika or database).

When a window's reminders go, how far each official has got with their reviews (counted
from keys only survey can compute, never from who reviewed whom), who is invited or
reminded, how long the link sent to them lasts, and a unit's response counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import isodate

from shared.schemas import CRITERIA

INVITATION, REMINDER = "invitation", "reminder"
PURPOSES = {INVITATION: "review.invitation", REMINDER: "review.reminder"}
LINK_LIFETIME = timedelta(hours=72)  # a link sent with an invitation or a reminder
EXTRA_REMINDER_EVERY = timedelta(days=1)  # a manager's "send a reminder now", per unit
NOT_STARTED, SAVED, DONE = "not_started", "saved", "done"
FINISHED, IN_PROGRESS = "finished", "in_progress"
SCORES = ("1", "2", "3", "4", "5")


# --- the window's reminders ---------------------------------------------------------------


def reminder_times(opens_at: datetime, closes_at: datetime,
                   offsets: Iterable[str]) -> tuple[dict[str, datetime], list[str]]:
    """When each reminder goes (`closes_at` − offset), and what is wrong with the offsets:
    not an ISO 8601 duration, not positive, not shorter than the window, given twice, or
    of the same length as another (P7D and P1W would remind at one instant)."""
    times: dict[str, datetime] = {}
    problems: list[str] = []
    for text in offsets:
        when = _minus(closes_at, text)
        if when is None:
            problems.append(f"{text!r} is not an ISO 8601 duration (e.g. P7D, PT12H)")
        elif text in times:
            problems.append(f"{text!r} is given twice")
        elif when >= closes_at:
            problems.append(f"{text!r} must be a positive duration")
        elif when <= opens_at:
            problems.append(f"{text!r} must be shorter than the window")
        elif when in times.values():
            same = next(t for t, w in times.items() if w == when)
            problems.append(f"{text!r} is the same length as {same!r}")
        else:
            times[text] = when
    return times, problems


def _minus(moment: datetime, text: str) -> datetime | None:
    try:
        return moment - isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
        return None


# --- how far an official has got ------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """One official's reviews of a year: colleagues to review, reviews finished, drafts
    saved (of colleagues not yet reviewed)."""

    assigned: int
    done: int = 0
    saved: int = 0

    @property
    def pending(self) -> int:
        return self.assigned - self.done

    @property
    def state(self) -> str:
        """finished, in_progress (something finished or saved) or not_started."""
        if self.done >= self.assigned:
            return FINISHED
        return IN_PROGRESS if self.done or self.saved else NOT_STARTED


def colleague_status(done: bool, saved: bool) -> str:
    """A colleague on the reviewer's list: done, saved (a draft) or not started."""
    return DONE if done else SAVED if saved else NOT_STARTED


def response_counts(progress: Iterable[Progress]) -> dict[str, int]:
    """A unit's response: officials invited (who have colleagues to review), finished,
    in progress, not started. Counts only: never who."""
    counts = {"invited": 0, FINISHED: 0, IN_PROGRESS: 0, NOT_STARTED: 0}
    for one in progress:
        if one.assigned:
            counts["invited"] += 1
            counts[one.state] += 1
    return counts


def is_concerned(kind: str, progress: Progress, email: str | None) -> bool:
    """Does an invitation (everyone with colleagues) or a reminder (those with reviews
    still pending) go to this official? Only to an address."""
    if not email or not progress.assigned:
        return False
    return kind == INVITATION or progress.pending > 0


def link_expiry(now: datetime, closes_at: datetime) -> datetime | None:
    """Until when a link sent now lasts: 72 hours, never past the close (None: closed)."""
    if closes_at <= now:
        return None
    return min(now + LINK_LIFETIME, closes_at)


def notice_key(year: str, official: str, kind: str, offset: str | None) -> str:
    """One invitation or reminder per (year, official, kind, offset)."""
    return f"{year}|{official}|{kind}|{offset or '-'}"


def link_context(year: str, progress: Progress, closes_at: datetime, *,
                 extra: bool = False) -> dict:
    """What the email says beside the link: the counts and the close."""
    return {"year": year, "assigned": progress.assigned, "done": progress.done,
            "pending": progress.pending, "closes_at": closes_at, "extra": extra}


def extra_reminder_wait(last: datetime | None, now: datetime) -> int:
    """Seconds until a unit may be sent another extra reminder (0: now)."""
    if last is None:
        return 0
    left = last + EXTRA_REMINDER_EVERY - now
    return max(0, -(-int(left.total_seconds() * 1000) // 1000))


# --- the form -----------------------------------------------------------------------------


def read_review_form(form: Mapping[str, str], *, finishing: bool,
                     max_comment: int) -> tuple[dict, dict[str, str]]:
    """A posted review form as {scores, comment} and its problems by field (`missing`,
    `invalid`, `too_long`). Saving keeps what is given; finishing needs all five."""
    scores: dict[str, int] = {}
    problems: dict[str, str] = {}
    for criterion in CRITERIA:
        value = (form.get(criterion) or "").strip()
        if value in SCORES:
            scores[criterion] = int(value)
        elif value:
            problems[criterion] = "invalid"
        elif finishing:
            problems[criterion] = "missing"
    comment = (form.get("comment") or "").replace("\r\n", "\n").strip()
    if len(comment) > max_comment:
        problems["comment"] = "too_long"
    return {"scores": scores, "comment": comment or None}, problems


def time_left(now: datetime, until: datetime) -> tuple[int, str]:
    """How long until `until` as (number, unit): minutes (rounded up) below an hour,
    hours below two days, else days (each to the nearest)."""
    seconds = max(0, int((until - now).total_seconds()))
    minutes = max(1, -(-seconds // 60))
    if minutes < 60:
        return minutes, "minutes"
    hours = (seconds + 1800) // 3600
    if hours < 48:
        return hours, "hours"
    return (seconds + 43200) // 86400, "days"
