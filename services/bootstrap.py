"""The one way to build and run congso.

`create_app(settings)` builds the Flask app of one service (`settings.service`), or of all
three on one port (`"all"`, the demo): the base app of `shared.http`, then each service's
`install(app, api, settings, bus)`, which adds its database, its background components
(to the app's runtime, each with the readiness check it counts for) and its blueprints.
Nothing connects until `runtime_of(app).start()`.

`main(service)` is the entry point of `python -m services[.<service>]`: settings from the
environment (a bad value exits naming the variable), logging, then gunicorn.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Callable

from flask import Flask

from shared import logs
from shared.bus import open_bus
from shared.config import SERVICES, ConfigError, Settings
from shared.http import create_base_app

# The cyclic garbage collector's youngest generation: collected every 10,000 allocations
# of tracked objects, not Python's 700. A batch of events allocates hundreds of thousands
# (envelopes, rows, copies), so the default collected a few hundred times a batch and took
# about a seventh of scoring's time applying a replay (in process, 100,000 ratings in
# packs: 38.4 µs an event, 33.8 with this, 33.0 with no collection at all). Garbage with
# cycles waits a little longer; the older generations keep their defaults.
GC_THRESHOLD = (10_000, 10, 10)

TITLES = {"survey": "congso survey", "scoring": "congso scoring", "notify": "congso notify",
          "all": "congso"}


def create_app(settings: Settings, *, bus=None) -> Flask:
    """The app of `settings.service` (or all three for "all"); started later."""
    app, api = create_base_app(settings, service=settings.service,
                               title=TITLES[settings.service])
    bus = bus or open_bus(settings.amqp_url, name=f"congso-{settings.service}")
    names = SERVICES if settings.service == "all" else (settings.service,)
    for name in names:
        importlib.import_module(f"services.{name}.app").install(app, api, settings, bus)
    return app


def load_settings(service: str) -> Settings:
    """Settings from the environment; a bad value exits with a message naming it."""
    try:
        return Settings.from_env(service)
    except ConfigError as exc:
        print(f"congso {service}: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(service: str, *, on_started: Callable[[Flask, Settings], None] | None = None,
         workers: int | None = None) -> None:
    """Run `service` ("all" for the demo) until SIGTERM."""
    from services.server import serve

    settings = load_settings(service)
    gc.set_threshold(*GC_THRESHOLD)
    logs.configure(settings.log_level, settings.log_format)
    if settings.admin_token_generated and service != "all":
        print(f"ADMIN_TOKEN (generated for this run; set ADMIN_TOKEN to choose one): "
              f"{settings.admin_token}", flush=True)
    started = None if on_started is None else (lambda app: on_started(app, settings))
    serve(lambda: create_app(settings), settings, workers=workers, on_started=started)
