"""What a reviewee is shown of their colleagues' reviews of a year (the results page).

Nothing before the close: the closing time only, which no review moves. After it, with
fewer than `min_peer_reviewers` reviewers, how many reviewed and nothing else; from that
many on, each criterion's mean, the peer index and the comments, in an order of their
own, without names or dates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.scoring.disclosure import results_at
from services.scoring.domain import comment_order, peer_part, rounded

OPEN, TOO_FEW, PUBLISHED = "open", "too_few", "published"


def reviewee_results(store, official: str, year: str, tz: ZoneInfo,
                     now: datetime | None = None) -> dict:
    """The results page's content for `official` and `year` at `now`."""
    at = results_at(store, year, tz)
    if (now or datetime.now(UTC)) < at:
        return {"state": OPEN, "results_at": at}
    cfg, _ = store.config()
    reviews = store.reviews([official], year)[official]
    if len(reviews) < cfg.min_peer_reviewers:
        return {"state": TOO_FEW, "results_at": at, "count": len(reviews),
                "minimum": cfg.min_peer_reviewers}
    peer = rounded(peer_part(reviews, cfg))
    comments = comment_order(store.review_comments(official, year), f"{official}:{year}")
    return {"state": PUBLISHED, "results_at": at, "count": peer["count"],
            "criteria": peer["criteria"], "index": peer["index"], "comments": comments}
