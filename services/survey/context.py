"""What survey's views share within one app: settings, relay, publisher, rate limiter, keys."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from services.survey import keys
from services.survey.ratelimit import RatingLimiter
from shared.config import Settings
from shared.outbox import OutboxRelay


@dataclass
class SurveyContext:
    settings: Settings
    relay: OutboxRelay
    publisher: object
    limiter: RatingLimiter

    @property
    def secret(self) -> str | None:
        """SECRET_KEY; the demo's fixed one in the demo; else None (keys kept in the db)."""
        if self.settings.secret_key:
            return self.settings.secret_key
        return keys.DEMO_SECRET if self.settings.demo else None

    def key(self, purpose: str) -> bytes:
        """The key of `purpose` (`keys.COUNTER_TOKEN`, ...)."""
        return keys.purpose_key(purpose, self.secret)

    def kiosk_url(self, token: str) -> str:
        """The URL printed in a counter's QR code."""
        return f"{self.settings.public_base_url}/k/{token}"


def context() -> SurveyContext:
    """The survey context of the app serving the current request."""
    return current_app.extensions["survey"]
