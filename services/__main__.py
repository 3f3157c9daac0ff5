"""All three services in one process on one port, with demo data: `python -m services`."""

from __future__ import annotations

import logging

from flask import Flask

from services import demo
from services.bootstrap import main
from shared.config import Settings
from shared.http import runtime_of

logger = logging.getLogger("congso")


def _seed(app: Flask, settings: Settings) -> None:
    db_ready = runtime_of(app).get("survey.db")
    if not db_ready.wait(30):
        logger.error("survey database not ready: demo data not seeded")
        return
    counter = demo.seed(app)
    print(demo.banner(settings, counter), flush=True)


if __name__ == "__main__":
    # One worker: the in-process bus and mongomock live in that worker's memory.
    main("all", on_started=_seed, workers=1)
