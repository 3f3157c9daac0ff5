"""Rate limit of ratings per client address and counter, in storage all workers share.

Built on `limits` (the library under Flask-Limiter), called after the body is validated
and the counter known, so the key is (counter, address) and a flood of one counter never
blocks another. Storage: RATE_LIMIT_STORAGE_URL if set (redis://, memcached://,
mongodb://), else survey's own MongoDB, else (mongomock, one process) memory.
"""

from __future__ import annotations

import logging
import math
import time

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from shared.config import Settings
from shared.errors import RateLimited

logger = logging.getLogger(__name__)


def storage_url(settings: Settings) -> str:
    if settings.rate_limit_storage_url:
        return settings.rate_limit_storage_url
    if settings.mongodb_url.startswith("mongodb"):
        return settings.mongodb_url
    return "memory://"


class RatingLimiter:
    def __init__(self, settings: Settings):
        self.limit = limits.parse(f"{settings.ratings_per_minute}/minute")
        self.storage_url = storage_url(settings)
        self._limiter = MovingWindowRateLimiter(storage_from_string(self.storage_url))

    def hit(self, counter: str, address_key: str) -> int | None:
        """Count one rating; return None if allowed, else the seconds to wait."""
        try:
            if self._limiter.hit(self.limit, "ratings", counter, address_key):
                return None
            stats = self._limiter.get_window_stats(self.limit, "ratings", counter, address_key)
        except Exception as exc:
            # The limit protects the scores; losing a citizen's rating to a storage hiccup
            # would hurt more than letting a few extra through.
            logger.warning("rate limit storage %s failed: %s; allowing", self.storage_url, exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    def check(self, counter: str, address_key: str) -> None:
        """Count one rating, or refuse it (RateLimited, 429 with Retry-After)."""
        wait = self.hit(counter, address_key)
        if wait is not None:
            raise RateLimited("Too many ratings from this device at this counter; please "
                              "wait.", retry_after=wait)
