"""Rate limits, in storage all workers share: ratings per client address and counter,
and sign-in links per client address and per email address.

Built on `limits` (the library under Flask-Limiter), called after the body is validated
(and for ratings the counter known), so a flood of one counter never blocks another.
Storage: RATE_LIMIT_STORAGE_URL if set (redis://, memcached://, mongodb://), else
survey's own MongoDB, else (mongomock, one process) memory. Keys are keyed hashes, never
an address in clear.
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


# Sign-in links: a person may ask again a few times (a mistyped address, a slow mailbox);
# an address cannot mail anyone much; a client cannot try many addresses. Unknown
# addresses count like known ones, so the answers never tell them apart.
LINKS_PER_EMAIL = "5/15minutes"
LINKS_PER_ADDRESS = "20/hour"


class _Limiter:
    def __init__(self, settings: Settings):
        self.storage_url = storage_url(settings)
        self._limiter = MovingWindowRateLimiter(storage_from_string(self.storage_url))

    def _hit(self, limit, *keys: str) -> int | None:
        """Count one hit; return None if allowed, else the seconds to wait."""
        try:
            if self._limiter.hit(limit, *keys):
                return None
            stats = self._limiter.get_window_stats(limit, *keys)
        except Exception as exc:
            # A storage hiccup must not turn people away (a citizen's rating, an
            # official's sign-in); a few extra requests are the lesser harm.
            logger.warning("rate limit storage %s failed: %s; allowing", self.storage_url, exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))


class SignInLimiter(_Limiter):
    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.per_email = limits.parse(LINKS_PER_EMAIL)
        self.per_address = limits.parse(LINKS_PER_ADDRESS)

    def check(self, address_key: str | None, email_key: str) -> None:
        """Count one link asked for, or refuse it (RateLimited: 429 with Retry-After)."""
        wait = self._hit(self.per_address, "signin-address", address_key or "-")
        if wait is None:
            wait = self._hit(self.per_email, "signin-email", email_key)
        if wait is not None:
            raise RateLimited("Too many sign-in links were asked for; please wait before "
                              "asking again.", retry_after=wait)


class RatingLimiter(_Limiter):
    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.limit = limits.parse(f"{settings.ratings_per_minute}/minute")

    def hit(self, counter: str, address_key: str) -> int | None:
        """Count one rating; return None if allowed, else the seconds to wait."""
        return self._hit(self.limit, "ratings", counter, address_key)

    def check(self, counter: str, address_key: str) -> None:
        """Count one rating, or refuse it (RateLimited, 429 with Retry-After)."""
        wait = self.hit(counter, address_key)
        if wait is not None:
            raise RateLimited("Too many ratings from this device at this counter; please "
                              "wait.", retry_after=wait)
