"""All three services in one process on one port, with demo data: `python -m services`."""

from __future__ import annotations

import logging

from flask import Flask

from services import demo
from services.allinone import create_app
from services.cli import load_settings
from shared import logs
from shared.http import runtime_of

logger = logging.getLogger("congso")


def main() -> None:
    from services.server import serve

    settings = load_settings("all")
    logs.configure(settings.log_level, settings.log_format)
    if not settings.uses_memory_bus:
        logger.info("all-in-one on RabbitMQ at %s", settings.amqp_url.split("@")[-1])

    def started(app: Flask) -> None:
        db_ready = runtime_of(app).get("survey.db")
        if not db_ready.wait(30):
            logger.error("survey database not ready: demo data not seeded")
            return
        ctx = app.extensions["survey"]
        counter = demo.seed(ctx.relay, ctx.secret)
        print(demo.banner(settings, counter), flush=True)

    # One worker: the in-process bus and mongomock live in that worker's memory.
    serve(lambda: create_app(settings), settings, workers=1, on_started=started)


if __name__ == "__main__":
    main()
