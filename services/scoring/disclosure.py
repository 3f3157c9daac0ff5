"""When a year's peer results are published: once its review window has closed (a year
without a window at its end, local time), for everyone, all at once.

Reads ask `peer_shown` every time, so they flip at the close by themselves. The stored
scores and their `score.updated` events follow through `mark_disclosure_changes`, which
the refresher runs with its scans (and so at start, for closes that passed while scoring
was down): each year whose state differs from the one its buckets were last marked for
has them all marked, so each score that changes is published once, together with the
others, at the close or when a window is re-opened.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.scoring.domain import peer_results_at

logger = logging.getLogger(__name__)


def results_at(store, year: str, tz: ZoneInfo) -> datetime:
    """When `year`'s peer results are (or were) published, as things stand."""
    window = store.window(year)
    return peer_results_at(year, window["closes_at"] if window else None, tz)


def peer_shown(store, year: str, tz: ZoneInfo, now: datetime | None = None) -> bool:
    """Are `year`'s peer results published at `now`?"""
    return (now or datetime.now(UTC)) >= results_at(store, year, tz)


def mark_disclosure_changes(store, tz: ZoneInfo, now: datetime | None = None) -> list[str]:
    """Mark the peer buckets of every year whose results were published or withdrawn
    since they were last marked (as of `now`); return those years."""
    now = now or datetime.now(UTC)
    changed = []
    for year, known in sorted(store.review_years().items()):
        shown = now >= peer_results_at(year, known.get("closes_at"), tz)
        if known.get("shown") is shown:
            continue
        marked = store.mark_review_year(year, shown, now)
        changed.append(year)
        logger.info("peer results of %s %s: the scores of %d reviewees to derive again",
                    year, "published" if shown else "withheld until the close", marked)
    return changed
