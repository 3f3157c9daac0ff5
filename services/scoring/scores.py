"""Scores of officials and units, derived from the stored contributions.

Reads compute from the contributions every time (a few key look-ups), so an answer is
always exact. The `Refresher` keeps a materialised copy per official and unit and period,
and sends `score.updated` when one changes; it works from the buckets marked dirty in
the same write as the contribution, so a crash delays an update but never loses it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

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
from shared.periods import months_of, parse_period, periods_of_year

logger = logging.getLogger(__name__)

REFERENCE = "tham khảo"
SOURCE = "/congso/scoring"
DRAIN_BATCH = 500  # buckets per drain step (per bucket collection)


def official_results(store: MongoScoringStore, codes: list[str], period: str,
                     cfg: ScoringConfig) -> dict[str, dict]:
    """Unrounded scores of several officials for one period."""
    p = parse_period(period)
    citizen = store.citizen_inputs("o", codes, months_of(p))
    peers = store.reviews(codes, str(p.year))
    return {c: official_score(citizen[c], peers[c], cfg) for c in codes}


def official_view(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig,
                  record: dict | None = None) -> dict:
    """An official's score as the API serves it."""
    record = record if record is not None else (store.official(code) or {})
    result = official_results(store, [code], period, cfg)[code]
    return {"official": code, "full_name": record.get("full_name"), "unit": record.get("unit"),
            "period": period, **rounded(result), "reference": REFERENCE}


def unit_citizen(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig
                 ) -> tuple[dict, dict]:
    """(the unit's own citizen results, rolled up over the units below it)."""
    units = store.subtree(code)
    by_unit = store.citizen_inputs("u", units, months_of(parse_period(period)))
    own = citizen_part(by_unit[code], cfg)
    rolled = citizen_part([r for u in units for r in by_unit[u]], cfg)
    return own, rolled


def unit_view(store: MongoScoringStore, code: str, period: str, cfg: ScoringConfig) -> dict:
    """A unit's citizen results, its officials ranked, its band distribution."""
    own, rolled = unit_citizen(store, code, period, cfg)
    people = [o for o in store.officials_of(code) if o.get("active", True)]
    results = official_results(store, [o["_id"] for o in people], period, cfg)
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
    return bool(citizen.get("count") or peer.get("count"))


class Refresher:
    """Recomputes the materialised scores of changed buckets and queues `score.updated`."""

    def __init__(self, store: MongoScoringStore, relay, *, interval: float = 0.5,
                 scan_interval: float = 15.0):
        self._store = store
        self._relay = relay
        self._interval = interval
        self._scan_interval = scan_interval
        self._hints: set[str] = set()
        self._lock = threading.Lock()
        self._pass_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_scan = float("-inf")
        self.recompute_all_requested = threading.Event()
        self._config_version: int | None = None
        self._poll = 2.0  # how soon a configuration saved by another process is seen

    def hint(self, *bucket_ids: str) -> None:
        with self._lock:
            self._hints.update(bucket_ids)
        self._wake.set()

    def request_full_recompute(self) -> None:
        """After a configuration change: recompute every stored score in the background."""
        self.recompute_all_requested.set()
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="score-refresher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self, full_scan: bool = False) -> int:
        """Recompute what changed; return how many scores changed."""
        with self._pass_lock:
            control = self._store.control()
            now = datetime.now(UTC)
            if control.held_at(now):
                return 0  # the buckets stay marked: the pass after the hold takes them
            if control.held_until is not None and self._store.release_publishing(now):
                control = self._store.control()  # the hold ran out (its holder died?)
            if control.undrained:
                changed, complete = self._drain()
                if complete:
                    self._store.mark_drained(control.released)
                return changed
            if self._config_changed(control.version) or self.recompute_all_requested.is_set():
                self.recompute_all_requested.clear()
                return self._recompute_all()
            with self._lock:
                hinted, self._hints = list(self._hints), set()
            if not full_scan and not hinted:
                return 0
            return self._refresh(self._store.dirty_buckets(None if full_scan else hinted))

    def _refresh(self, buckets: list[dict]) -> int:
        """Derive the scores of `buckets`, then clear their marks."""
        changed = self._recompute(self._targets(buckets))
        self._store.mark_clean(buckets)
        return changed

    def _drain(self) -> tuple[int, bool]:
        """Recompute every marked bucket, batch after batch: the end of a hold.
        Return (scores changed, whether every bucket marked during the hold is done)."""
        with self._lock:
            self._hints.clear()
        changed = 0
        while True:
            buckets = self._store.dirty_buckets(None, limit=DRAIN_BATCH)
            if buckets:
                changed += self._refresh(buckets)
            if len(buckets) < DRAIN_BATCH:
                # every bucket marked when this batch was read is in it; marks made since
                # are live traffic, which the usual passes take (waiting for none at all
                # would never end under a steady load)
                break
            if self._stopping.is_set():
                return changed, False  # the next pass, here or elsewhere, finishes it
        logger.info("publishing resumed: %d scores changed while it was held", changed)
        return changed, True

    def _config_changed(self, version: int) -> bool:
        """True once after the configuration changed, whichever process changed it."""
        seen, self._config_version = self._config_version, version
        return seen is not None and seen != version

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

    def _recompute_all(self) -> int:
        officials, units = set(), set()
        for official, year in self._store.scored_years():
            officials.update((official, p) for p in periods_of_year(year))
        for doc in self._store.unit_scores():
            units.add((doc["unit"], doc["period"]))
        return self._recompute((officials, units))

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
            results = official_results(self._store, codes, period, cfg)
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

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            full = time.monotonic() - self._last_scan >= self._scan_interval
            try:
                self.run_once(full_scan=full)
                if full:
                    self._last_scan = time.monotonic()
            except Exception:
                logger.exception("score refresher failed; retrying")
                self._stopping.wait(1.0)
                continue
            # until something changes here, a scan is due, or it is time to look whether
            # another process saved a new configuration
            self._wake.wait(min(self._scan_interval, self._poll))
            # then let a burst gather: many ratings of one official, one recompute
            self._stopping.wait(self._interval)
