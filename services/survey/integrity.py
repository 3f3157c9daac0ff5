"""Held ratings: the rules that hold a citizen rating as suspect, pure (values in, reasons
out; no database). This docstring is the reference the README quotes.

Every rating is stored and published. One that a rule below flags is **held**: kept out
of every score (counted only in `citizen.suspect`) until an administrator or a manager
in scope accepts it (it counts from then on) or rejects it (it never counts). A rating's
state is a pure function of the ratings stored (the history), whatever the order they
arrived in: `counted`, `held` with its reasons, or the decision taken on it.

Terms
- given_at: when the citizen gave the rating (the kiosk sends it; its offline queue
  sends it later), else when it arrived. A rating is judged by given_at.
- subject: the official rated, else the counter ("c:<counter>").
- source: a registered kiosk tablet (`?kiosk=1&device=ID`, ID in the counter's
  `devices`), else the client address; kept only as a keyed hash, never published. No
  source, no `burst` or `identical_run` rule.
- order: the ratings of one (subject, source) ordered by given_at, ties by id.

Reasons
- `burst`: more than L ratings of one subject from one source with given_at in
  (t - W, t], the rating itself counted, ties by id: the (L+1)th and later are held,
  held ratings included in the counts (a stuffer stays held). L is the unit's
  `rating_burst.limit` or RATING_BURST (default 10; 0 turns the rule off), W the unit's
  `rating_burst.minutes` or 30 minutes. An official serving at several counters is one
  subject. Held ratings of one subject and source whose given_at are at most W apart
  form one burst, named by an opaque id (a keyed hash of its first rating).
- `identical_run`: from one source, for one official, the 5th and later of consecutive
  ratings (in the order above) that are all overall 5 with the same factors and no
  comment, each given at most 2 minutes after the previous one.
- `outside_hours`: the unit has `opening_hours` {days: ISO weekdays 1-7, opens, closes
  "HH:MM"} (local time, TZ_NAME) and the rating was given outside [opens - 15 min,
  closes + 30 min) of an open day; Vietnamese public holidays (lunar Tết included) are
  closed days. A unit without `opening_hours` has no such rule.
- `receipt_format`: the unit has `receipt_format` (a regular expression) and the
  receipt code, as typed (trimmed), does not match it whole. No code, no rule.
- `clock_future`: given_at more than 5 minutes after the rating arrived: it is judged
  as given when it arrived.
- `clock_stale`: given_at more than 48 hours before the rating arrived.

A rating given late (the kiosk's offline queue) changes the judgement of the ratings
after it (given_at within W, or within the 8 minutes an identical run spans): survey
judges them again and publishes each change. Receipt codes are compared after Unicode
NFKC, case folding and dropping every character that is not a letter or a digit, so
`hs-2026-0001`, `HS_2026_0001` and `ＨＳ２０２６０００１/` are one code.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from shared.integrity_events import (
    ACCEPTED,
    BURST,
    CLOCK_FUTURE,
    CLOCK_STALE,
    COUNTED,
    HELD,
    IDENTICAL_RUN,
    OUTSIDE_HOURS,
    REASONS,
    RECEIPT_FORMAT,
    REJECTED,
)

WINDOW = timedelta(minutes=30)
RUN_LENGTH = 5
RUN_GAP = timedelta(minutes=2)
RUN_SPAN = RUN_GAP * (RUN_LENGTH - 1)  # how far back an identical run is looked at
GRACE_BEFORE = timedelta(minutes=15)
GRACE_AFTER = timedelta(minutes=30)
FUTURE_SLACK = timedelta(minutes=5)
STALE_AFTER = timedelta(hours=48)
OWN_REASONS = (OUTSIDE_HOURS, RECEIPT_FORMAT, CLOCK_FUTURE, CLOCK_STALE)  # of one rating
DECISIONS = {"accept": ACCEPTED, "reject": REJECTED}


def normalise_receipt(code: str) -> str:
    """A receipt code as compared: NFKC, case folded, letters and digits only."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", code).casefold())
    return "".join(c for c in folded if c.isalnum())


def subject_of(official: str | None, counter: str) -> str:
    return official or f"c:{counter}"


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def source_of(key: bytes, device: str | None, devices: Sequence[str],
              address_hash: str | None) -> str | None:
    """A registered tablet ("d:" keyed hash of its id), else the address's keyed hash."""
    if device and device in devices:
        return f"d:{_mac(key, 'device', device)}"
    return f"a:{address_hash}" if address_hash else None


def burst_namer(key: bytes, subject: str, source: str) -> Callable[[Seen], str]:
    """The id of a burst that starts with a given rating: opaque, stable, keyed."""
    return lambda first: _mac(key, "burst", subject, source, first.at.isoformat(), first.id)


@dataclass(frozen=True)
class BurstRule:
    limit: int  # 0: off
    window: timedelta = WINDOW

    @property
    def reach(self) -> timedelta:
        """How far a rating's given_at reaches into the judgement of others."""
        return max(self.window, RUN_SPAN)

    @property
    def depth(self) -> int:
        """How many preceding ratings judging one needs."""
        return max(self.limit, RUN_LENGTH - 1)


def burst_rule(unit_setting: dict | None, default_limit: int) -> BurstRule:
    """The unit's `rating_burst` {limit, minutes}, else RATING_BURST and 30 minutes."""
    if not unit_setting:
        return BurstRule(default_limit)
    return BurstRule(unit_setting["limit"], timedelta(minutes=unit_setting["minutes"]))


def to_ms(moment: datetime) -> datetime:
    """In UTC to the millisecond, as stored."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def clock(claimed: datetime | None, arrived: datetime) -> tuple[datetime, str | None]:
    """(given_at as judged, clock reason or None) of a claimed time and the arrival."""
    if claimed is None:
        return arrived, None
    claimed = to_ms(claimed)
    if claimed - arrived > FUTURE_SLACK:
        return arrived, CLOCK_FUTURE
    if arrived - claimed > STALE_AFTER:
        return claimed, CLOCK_STALE
    return claimed, None


@functools.cache
def _vn_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_holiday(day: date) -> bool:
    return day in _vn_holidays(day.year)


def outside_hours(at: datetime, hours: dict | None, tz: ZoneInfo) -> bool:
    """Was `at` outside the unit's opening hours (grace included)? No hours: False."""
    if not hours:
        return False
    local = at.astimezone(tz)
    opens, closes = time.fromisoformat(hours["opens"]), time.fromisoformat(hours["closes"])
    for shift in (-1, 0, 1):  # a grace may cross midnight
        day = local.date() + timedelta(days=shift)
        if day.isoweekday() not in hours["days"] or is_holiday(day):
            continue
        start = datetime.combine(day, opens, tz) - GRACE_BEFORE
        if start <= local < datetime.combine(day, closes, tz) + GRACE_AFTER:
            return False
    return True


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


def receipt_format_fails(pattern: str | None, code: str | None) -> bool:
    """Does the receipt code, as typed (trimmed), fail the unit's format?"""
    if not pattern or not code:
        return False
    return _pattern(pattern).fullmatch(code.strip()) is None


def ordered(reasons: Iterable[str]) -> list[str]:
    """Reasons once each, in the documented order."""
    found = set(reasons)
    return [r for r in REASONS if r in found]


def own_reasons(*, given_at: datetime, clock_reason: str | None, hours: dict | None,
                tz: ZoneInfo, receipt_pattern: str | None,
                receipt_code: str | None) -> list[str]:
    """The reasons a rating has by itself, whatever other ratings there are."""
    reasons = [clock_reason] if clock_reason else []
    if outside_hours(given_at, hours, tz):
        reasons.append(OUTSIDE_HOURS)
    if receipt_format_fails(receipt_pattern, receipt_code):
        reasons.append(RECEIPT_FORMAT)
    return ordered(reasons)


def status_of(reasons: Sequence[str], decision: dict | None) -> str:
    """The decision's state when there is one, else held if any reason, else counted."""
    if decision:
        return DECISIONS[decision["decision"]]
    return HELD if reasons else COUNTED


# --- the rules on one subject's ratings from one source ---------------------------------


def signature(overall: int, factors: dict | None, comment: str | None) -> str | None:
    """What an identical run compares: None unless overall 5 with no comment."""
    if overall != 5 or comment:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted((factors or {}).items()))


@dataclass(frozen=True)
class Seen:
    """One rating as the rules of its (subject, source) see it."""

    id: str
    at: datetime  # given_at as judged
    signature: str | None = None

    @property
    def key(self) -> tuple[datetime, str]:
        return self.at, self.id


@dataclass(frozen=True)
class Verdict:
    id: str
    burst: str | None  # the burst's id when held for `burst`
    identical: bool

    @property
    def reasons(self) -> list[str]:
        return ([BURST] if self.burst else []) + ([IDENTICAL_RUN] if self.identical else [])


def sweep(before: Sequence[Seen], last_held: tuple[datetime, str] | None,
          items: Iterable[Seen], *, rule: BurstRule, runs: bool,
          name_burst: Callable[[Seen], str]) -> Iterator[Verdict]:
    """Judge `items` (in order) by the burst and identical-run rules.

    `before`: the ratings just before the first item, oldest first: at least the last
    `rule.depth` of those given within `rule.reach` of it (all of them if fewer).
    `last_held`: (given_at, burst id) of the latest rating before the first item held for
    `burst` with given_at at most W before it, or None. `runs`: the subject is an
    official (identical runs apply). A generator: the caller may stop early.
    """
    recent = deque((s.at for s in before[-rule.limit:]), maxlen=rule.limit or 1)
    position, previous = 0, None
    for seen in before[-(RUN_LENGTH - 1):]:
        position, previous = _run_step(position, previous, seen, runs), seen
    chain = last_held
    for seen in items:
        burst = None
        if rule.limit:
            # more than L in (t - W, t]: the Lth preceding rating is within the window
            if len(recent) == rule.limit and recent[0] > seen.at - rule.window:
                linked = chain is not None and seen.at - chain[0] <= rule.window
                burst = chain[1] if linked else name_burst(seen)
                chain = (seen.at, burst)
            recent.append(seen.at)
        position, previous = _run_step(position, previous, seen, runs), seen
        yield Verdict(seen.id, burst, position >= RUN_LENGTH)


def _run_step(position: int, previous: Seen | None, seen: Seen, runs: bool) -> int:
    """The place of `seen` in its identical run (0: in none)."""
    if not runs or seen.signature is None:
        return 0
    if previous is not None and previous.signature == seen.signature \
            and seen.at - previous.at <= RUN_GAP and position:
        return position + 1
    return 1
