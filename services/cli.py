"""Shared start-up of the service entry points: settings, logging, the admin token, serve."""

from __future__ import annotations

import sys
from collections.abc import Callable

from flask import Flask

from shared import logs
from shared.config import ConfigError, Settings


def load_settings(service: str) -> Settings:
    """Settings from the environment; a bad value exits with a message naming it."""
    try:
        return Settings.from_env(service)
    except ConfigError as exc:
        print(f"congso {service}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def announce_generated_secrets(settings: Settings) -> None:
    if settings.admin_token_generated:
        print(f"ADMIN_TOKEN (generated for this run; set ADMIN_TOKEN to choose one): "
              f"{settings.admin_token}", flush=True)


def run_service(service: str, create_app: Callable[[Settings], Flask]) -> None:
    """Entry point of `python -m services.<service>`."""
    from services.server import serve

    settings = load_settings(service)
    logs.configure(settings.log_level, settings.log_format)
    announce_generated_secrets(settings)
    serve(lambda: create_app(settings), settings)
