"""What survey's views share within one app: settings, relay, publisher, rate limiters,
keys, its access copy and session signer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from services.survey import keys
from services.survey.identity import LazySigner
from services.survey.ratelimit import RatingLimiter, SignInLimiter
from shared import signin
from shared.access import AccessStore
from shared.config import Settings
from shared.outbox import OutboxRelay


@dataclass
class SurveyContext:
    settings: Settings
    relay: OutboxRelay
    publisher: object
    limiter: RatingLimiter
    signin_limiter: SignInLimiter
    access: AccessStore
    signer: LazySigner

    @property
    def secret(self) -> str | None:
        """SECRET_KEY; the demo's fixed one in the demo; else None (keys kept in the db)."""
        if self.settings.secret_key:
            return self.settings.secret_key
        return keys.DEMO_SECRET if self.settings.demo else None

    def key(self, purpose: str) -> bytes:
        """The key of `purpose` (`keys.COUNTER_TOKEN`, ...)."""
        return keys.purpose_key(purpose, self.secret)

    @property
    def link_key(self) -> bytes:
        """The key that makes a sign-in nonce a link (shared with notify)."""
        return signin.link_key(self.settings.signin_link_key, self.settings.admin_token)

    def kiosk_url(self, token: str) -> str:
        """The URL printed in a counter's QR code."""
        return f"{self.settings.public_base_url}/k/{token}"

    @property
    def login_url(self) -> str:
        """A sign-in link is this URL followed by its secret."""
        return f"{self.settings.public_base_url}/login/"


def context() -> SurveyContext:
    """The survey context of the app serving the current request."""
    return current_app.extensions["survey"]
