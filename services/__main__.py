"""All three services in one process on one port, with demo data: `python -m services`."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from services import demo
from services.bootstrap import main
from services.notify.demo import seed_deadlines
from shared.config import Settings
from shared.http import runtime_of

logger = logging.getLogger("congso")


def _seed(app: Flask, settings: Settings) -> None:
    db_ready = runtime_of(app).get("survey.db")
    if not db_ready.wait(30):
        logger.error("survey database not ready: demo data not seeded")
        return
    counter = demo.seed_directory(app)
    print(demo.banner(settings, counter), flush=True)
    # The year of history takes a few seconds more; the server answers meanwhile.
    threading.Thread(target=_seed_history, args=(app,), name="demo-history",
                     daemon=True).start()


def _seed_history(app: Flask) -> None:
    started = time.perf_counter()
    seeded = demo.seed_history(app)
    # the demo's reporting deadlines, once notify has the directory from survey's events
    seed_deadlines(app, ward=demo.UNITS[1][0], department=demo.UNITS[0][0])
    logger.info("demo history written: %d ratings and %d peer reviews in %.1f s; scoring "
                "and notify receive them through the outbox", seeded.ratings, seeded.reviews,
                time.perf_counter() - started)


if __name__ == "__main__":
    # One worker: the in-process bus and mongomock live in that worker's memory.
    main("all", on_started=_seed, workers=1)
