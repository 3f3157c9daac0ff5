"""Scores of officials and units, derived from the stored contributions.

Reads compute from the contributions every time (a few key look-ups), so an answer is
always exact. The `Refresher` keeps a materialised copy per official and unit and period,
and queues `score.updated` in the outbox when one changes; it works from the buckets
marked in the same write as the contribution (a configuration change marks them all), so
a crash delays an update but never loses it: the next refresher, in this process or
another, finds the marks where they were.

The publishing hold (a rebuild) pauses the outbox relay only: scores are derived as
usual meanwhile, each stored score keeping one pending event that a later change
replaces, so at the end each changed score is published once, at its final value.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.scoring.disclosure import mark_disclosure_changes, peer_shown
from services.scoring.domain import (
    BAND_LABELS,
    ScoringConfig,
    band_summary,
    citizen_part,
    official_score,
    rank,
    rounded,
)
from services.scoring.store import MongoScoringStore
from shared import events as ev
from shared.db import stored_now
from shared.errors import NotFound
from shared.loop import BackgroundLoop
from shared.periods import months_of, parse_period, periods_of_year

logger = logging.getLogger(__name__)

REFERENCE = "tham khảo"
SOURCE = "/congso/scoring"
# Marked buckets taken per pass, of each kind. A pass derives each period its buckets touch
# once, reading every rating of it; a year's buckets split over passes would read the year
# again in each (after a rebuild: 600 official months and 1,825 unit days per 100,000
# ratings). A bucket taken is a few small fields: the ratings are read period by period.
BATCH = 5000
PACE = 2.0  # after a pass that worked, the refresher waits at least this many times its time
PACE_CAP = 5.0  # but never longer than this (a long catch-up pass must not hold back alerts)


def official_results(store: MongoScoringStore, codes: list[str], period: str,
                     cfg: ScoringConfig, tz: ZoneInfo) -> dict[str, dict]:
    """Unrounded scores of several officials for one period (the peer results of its
    year only once they are published: `disclosure`)."""
    p = parse_period(period)
    citizen = store.citizen_inputs("o", codes, months_of(p))
    year = str(p.year)
    peers = store.reviews(codes, year)
    shown = peer_shown(store, year, tz)
    return {c: official_score(citizen[c], peers[c], cfg, shown) for c in codes}


def official_view(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig,
                  tz: ZoneInfo, record: dict | None = None) -> dict:
    """An official's score as the API serves it."""
    record = record if record is not None else (store.official(code) or {})
    result = official_results(store, [code], period, cfg, tz)[code]
    return {"official": code, "full_name": record.get("full_name"), "unit": record.get("unit"),
            "period": period, **rounded(result), "reference": REFERENCE}


def read_official(store: MongoScoringStore, code: str, period: str, tz: ZoneInfo) -> dict:
    """An official's score for `period` with the parameters in force; unknown: NotFound."""
    record = store.official(code)
    if record is None and not store.has_contributions(code):
        raise NotFound(f"No official {code!r} is known to scoring.", slug="unknown-official")
    cfg, _ = store.config()
    return official_view(store, code, period, cfg, tz, record or {})


def read_unit(store: MongoScoringStore, code: str, period: str, tz: ZoneInfo) -> dict:
    """A unit's view for `period` with the parameters in force; unknown: NotFound."""
    if not store.unit_known(code):
        raise NotFound(f"No unit {code!r} is known to scoring.", slug="unknown-unit")
    cfg, _ = store.config()
    return unit_view(store, code, period, cfg, tz)


def unit_citizen(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig,
                 by_unit: dict[str, list] | None = None) -> tuple[dict, dict]:
    """(the unit's own citizen results, rolled up over the units below it); `by_unit`:
    the period's ratings of each unit of the subtree, when the caller has read them."""
    units = store.subtree(code)
    if by_unit is None:
        by_unit = store.citizen_inputs("u", units, months_of(parse_period(period)))
    own = citizen_part(by_unit.get(code, []), cfg)
    rolled = citizen_part([r for u in units for r in by_unit.get(u, [])], cfg)
    return own, rolled


def unit_view(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig,
              tz: ZoneInfo, by_unit: dict[str, list] | None = None) -> dict:
    """A unit's citizen results, its officials ranked, its band distribution (`by_unit`
    as for `unit_citizen`)."""
    own, rolled = unit_citizen(store, code, period, cfg, by_unit)
    people = [o for o in store.officials_of(code) if o.get("active", True)]
    results = official_results(store, [o["_id"] for o in people], period, cfg, tz)
    officials = rank([{
        "official": o["_id"], "full_name": o.get("full_name"), "position": o.get("position"),
        **rounded(results[o["_id"]]),
    } for o in people])
    record = store.unit(code) or {}
    return {
        "unit": code,
        "name": record.get("name"),
        "parent": record.get("parent"),
        "period": period,
        "citizen": rounded(rolled),
        "citizen_own": rounded(own),
        "officials": officials,
        "children": store.children_of(code),
        "bands": rounded(band_summary([o["band"] for o in officials])),
        "band_labels": BAND_LABELS,
        "reference": REFERENCE,
    }


def _has_data(score: dict) -> bool:
    citizen = score.get("citizen") or {}
    peer = score.get("peer") or {}
    return bool(citizen.get("count") or citizen.get("suspect") or peer.get("count"))


def publishing_state(store: MongoScoringStore, now: datetime) -> dict:
    """Whether `score.updated` is held, and whether what changed before the hold ended
    (released, or run out) is all derived yet. Not "no bucket marked at all", which a
    steady flow of ratings never gives."""
    end = store.hold_end()
    held = end is not None and end > now
    return {"publishing_held_until": end if held else None,
            "catching_up_after_hold": end is not None and not held and store.dirty_before(end)}


def is_held(store: MongoScoringStore) -> bool:
    """Whether a publishing hold lasts now."""
    end = store.hold_end()
    return end is not None and end > datetime.now(UTC)


def hold_check(store: MongoScoringStore):
    """The outbox relay's `paused`: True while a hold lasts (a paused relay looks again
    at its interval, or when woken by a new score)."""
    return lambda: is_held(store)


def hold(store: MongoScoringStore, seconds: int) -> datetime:
    """Hold `score.updated` for `seconds` from now (renewing a hold under way); the end
    is answered as stored (to the millisecond), so every later report of it is the same."""
    return store.hold_publishing(stored_now() + timedelta(seconds=seconds))


class Refresher:
    """Derives the materialised scores of marked buckets and queues `score.updated`.

    Runs on a `BackgroundLoop`: a pass over the buckets the consumer hinted (at once when
    idle, then at most every `interval` seconds, so a burst of ratings of one official
    costs one recompute; after a long pass, twice its time: see `PACE`), and a scan of
    every marked bucket every `scan_interval` seconds (marks left by a crash or by another
    process: a configuration saved elsewhere; the buckets of a year whose peer results
    were just published or withdrawn).

    While `score.updated` is held (a rebuild), the loop derives nothing: each pass reads
    every row of the periods it derives, so deriving as a replay streams in costs a pass
    per half second over ever more data, each result overwritten by the next. The marks
    stay in the database, and the first scan after the hold derives each score once, at
    its final value (`catching_up_after_hold` until then). `run_once` derives regardless.
    """

    def __init__(self, store: MongoScoringStore, relay, *, tz: ZoneInfo,
                 interval: float = 0.5, scan_interval: float = 2.0, batch: int = BATCH):
        self._store = store
        self._relay = relay
        self._tz = tz
        self._interval = interval
        self._scan_interval = scan_interval
        self._batch = batch
        self._hints: set[str] = set()
        self._lock = threading.Lock()
        self._pass_lock = threading.Lock()
        self._idle = True
        self._last_scan = float("-inf")
        self._loop = BackgroundLoop("score-refresher", self._step, interval=interval)

    def hint(self, *bucket_ids: str) -> None:
        """Buckets just marked: derive them soon."""
        with self._lock:
            self._hints.update(bucket_ids)
            wake, self._idle = self._idle, False
        if wake:
            self._loop.wake()

    def scan_soon(self) -> None:
        """Look for marks of other writers now (every bucket after a configuration change)."""
        self._last_scan = float("-inf")
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._loop.stop(timeout)

    def run_once(self, full_scan: bool = False) -> int:
        """One pass over the hinted buckets (or, with `full_scan`, every marked one);
        return how many scores changed."""
        return self._pass(full_scan)[0]

    def _step(self) -> float | None:
        if is_held(self._store):
            with self._lock:  # marked in the database: the scan after the hold takes them
                self._hints.clear()
                self._idle = True
            self._last_scan = float("-inf")
            return self._scan_interval
        full = time.monotonic() - self._last_scan >= self._scan_interval
        began = time.monotonic()
        _, worked, more = self._pass(full)
        took = time.monotonic() - began
        if more:  # a full batch: scan on, at once, until every mark is taken
            self._last_scan = float("-inf")
            return 0
        if full:
            self._last_scan = time.monotonic()
        if worked:
            # let the next hints gather for `interval`, or for twice this pass's time if
            # longer: while ratings keep coming, deriving takes at most a third of the
            # time, and the consumer, which shares the database and the processor, the rest
            return max(self._interval, min(PACE * took, PACE_CAP))
        with self._lock:
            self._idle = not self._hints
        return self._scan_interval if self._idle else None

    def _pass(self, full_scan: bool) -> tuple[int, bool, bool]:
        """(scores changed, whether there was work, whether a batch was full)."""
        with self._pass_lock:
            if full_scan:
                self._store.mark_for_config()
                mark_disclosure_changes(self._store, self._tz)
            with self._lock:
                hinted, self._hints = list(self._hints), set()
            if not full_scan and not hinted:
                return 0, False, False
            read_at = datetime.now(UTC)
            buckets = self._store.dirty_buckets(None if full_scan else hinted, self._batch)
            if not buckets:
                return 0, bool(hinted), False
            changed = self._recompute(self._targets(buckets))
            self._store.mark_clean(buckets, read_at)
            return changed, True, len(buckets) >= self._batch

    def _targets(self, buckets: list[dict]) -> tuple[set, set]:
        officials: set[tuple[str, str]] = set()
        units: set[tuple[str, str]] = set()
        for b in buckets:
            if "month" in b:
                year, month = b["month"][:4], b["month"]
                quarter = f"{year}-Q{(int(month[5:]) - 1) // 3 + 1}"
                periods = (year, quarter, month)
                if b["kind"] == "o":
                    officials.update((b["subject"], p) for p in periods)
                else:
                    for unit in self._store.ancestors(b["subject"]):
                        units.update((unit, p) for p in periods)
            else:
                officials.update((b["reviewee"], p) for p in periods_of_year(int(b["year"])))
        return officials, units

    def _recompute(self, targets: tuple[set, set]) -> int:
        officials, units = targets
        cfg, _ = self._store.config()
        changed = 0
        by_period: dict[str, list[str]] = {}
        for official, period in officials:
            by_period.setdefault(period, []).append(official)
        units_of = {code: (self._store.official(code) or {}).get("unit")
                    for code, _ in officials}
        for period, codes in sorted(by_period.items()):
            results = official_results(self._store, codes, period, cfg, self._tz)
            for code in codes:
                changed += self._save(f"o:{code}|{period}", rounded(results[code]),
                                      official=code, unit=units_of[code], period=period)
        for unit, period in sorted(units):
            _, rolled = unit_citizen(self._store, unit, period, cfg)
            changed += self._save(f"u:{unit}|{period}", {"citizen": rounded(rolled)},
                                  official=None, unit=unit, period=period, scope="unit")
        return changed

    def _save(self, key: str, score: dict, *, official, unit, period, scope="official") -> int:
        stored = self._store.stored_scores([key]).get(key)
        if stored is not None and stored.get("score") == score:
            return 0
        if stored is None and scope == "official" and not _has_data(score):
            return 0
        event = ev.make_event(ev.SCORE_UPDATED, {
            "scope": scope, "official": official, "unit": unit, "period": period,
            "score": score, "computed_at": datetime.now(UTC)}, source=SOURCE,
            subject=official or unit)
        self._store.save_score(key, official, period, unit, score, event)
        self._relay.notify("scores", key)
        return 1
