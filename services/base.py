"""What building any one service has in common."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from shared.bus import open_bus
from shared.config import Settings
from shared.http import create_base_app


def build_app(service: str, install: Callable, settings: Settings | None, bus) -> Flask:
    """A Flask app serving one service: base app, then the service's `install`."""
    settings = settings or Settings.from_env(service)
    app, api = create_base_app(settings, service=service, title=f"congso {service}")
    install(app, api, settings, bus or open_bus(settings.amqp_url, name=f"congso-{service}"))
    return app
