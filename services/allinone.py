"""All three services in one Flask app and one process, sharing one bus (the demo)."""

from __future__ import annotations

from flask import Flask

from services.notify import app as notify_app
from services.scoring import app as scoring_app
from services.survey import app as survey_app
from shared.bus import open_bus
from shared.config import Settings
from shared.http import create_base_app


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """Survey, scoring and notify on one app; each keeps its own database."""
    settings = settings or Settings.from_env("all")
    app, api = create_base_app(settings, service="all", title="congso")
    bus = bus or open_bus(settings.amqp_url, name="congso-all")
    survey_app.install(app, api, settings, bus)
    scoring_app.install(app, api, settings, bus)
    notify_app.install(app, api, settings, bus)
    return app
