"""How far the officials of each unit have got with a year's peer reviews (invited,
finished, in progress, not started: counts only), as the managers read them and as
scoring's dashboards are told (`review.response`).

Survey counts a unit again after every change that may move its counts: a review
finished or a first draft saved in it, an official added to it, moved in or out,
deactivated or reactivated, a new unit, a window set; and every unit at start. A count
equal to the one kept is not sent again; one that differs replaces it, with its event,
in the same write. The event is the counts, the year and the unit, and when they
changed: nothing about who.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from services.survey import domain, review_rules
from services.survey.review_rules import Progress
from services.survey.store import Notify, directory
from services.survey.store import responses as response_store
from services.survey.store import review_cycle as cycle_store
from services.survey.store import reviews as review_store
from shared.db import stored_now
from shared.events import Event

CHUNK = 5000  # review ids looked up at once
TICK = timedelta(milliseconds=1)


def progress_of(period: str, members: list[dict], key: bytes) -> dict[str, Progress]:
    """How far each of `members` (the active officials of one unit) has got with their
    reviews of the others."""
    reviewer_of = {domain.review_key(key, period, r["code"], c["code"]): r["code"]
                   for r in members for c in members if c is not r}
    ids = list(reviewer_of)
    done: set[str] = set()
    saved: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        done |= review_store.reviewed(chunk)
        saved |= review_store.drafted([i for i in chunk if i not in done])
    assigned = len(members) - 1
    counts = {m["code"]: [0, 0] for m in members}
    for review_id, reviewer in reviewer_of.items():
        if review_id in done:
            counts[reviewer][0] += 1
        elif review_id in saved:
            counts[reviewer][1] += 1
    return {code: Progress(assigned, d, s) for code, (d, s) in counts.items()}


def counts_of(year: str, units: Iterable[str], key: bytes) -> dict[str, dict[str, int]]:
    """Each unit's response counts for `year`: {unit: {invited, finished, in_progress,
    not_started}}."""
    units = list(units)
    members = dict(cycle_store.active_by_unit(units))
    return {unit: review_rules.response_counts(
        progress_of(year, members.get(unit, []), key).values()) for unit in units}


def before_change(year: str, unit: str) -> None:
    """Call before a write that may move `unit`'s counts of `year`: the year is kept from
    then on, so a crash between the write and its recount is made good at the next start
    (which counts every year kept), even in a year without a window."""
    response_store.keep(year, unit)


def recount(key: bytes, *, units: Iterable[str] | None = None,
            years: Iterable[str] | None = None, notify: Notify | None = None,
            now: datetime | None = None) -> int:
    """Count the response of `units` (default: every unit) in `years` (default: every
    year kept, see `store.responses.years`) again, after a change; store and publish
    those that changed. Returns how many did."""
    years = sorted(set(years)) if years is not None else response_store.years()
    if units is None:
        units = [u["code"] for u in directory.listing("unit")]
    units = sorted(set(units))
    if not years or not units:
        return 0
    read = response_store.mark((y, u) for y in years for u in units)  # before counting
    changed = 0
    for year in years:
        for unit, counts in counts_of(year, units, key).items():
            before = read[(year, unit)]
            if before.get("counts") == counts:
                continue
            # strictly later than the counts it replaces: scoring keeps the newest `at`
            at = now or stored_now()
            if before.get("at") is not None and at <= before["at"]:
                at = before["at"] + TICK
            event = domain.response_event(year, unit, counts, at, before["version"] + 1)
            changed += response_store.save(before, counts, at, event, notify=notify)
    return changed


def replay_events(key: bytes, *, notify: Notify | None = None) -> Iterator[Event]:
    """Every unit's current counts of every year kept, as events (a replay to scoring):
    counted again first, so a count a crash left behind is current."""
    recount(key, notify=notify)
    for doc in response_store.each():
        yield domain.response_event(doc["year"], doc["unit"], doc["counts"], doc["at"],
                                    doc["version"])
