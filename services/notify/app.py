"""Build the notify service: `install(...)` wires it into an app; nothing connects at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from mongoengine.connection import get_db

from services.notify import calendar, documents
from services.notify.channels import EmailChannel, WebhookChannel
from services.notify.deadlines import save_deadline
from services.notify.handlers import make_dispatcher
from services.notify.scheduling import Scheduler
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from services.notify.views import BLUEPRINTS
from shared import db, topology
from shared.config import Settings
from shared.http import runtime_of
from shared.runtime import Part

logger = logging.getLogger(__name__)


@dataclass
class NotifyContext:
    settings: Settings
    consumer: object
    store: NotifyStore
    sender: Sender
    scheduler: Scheduler


def install(app: Flask, api, settings: Settings, bus) -> NotifyContext:
    """Add notify's database, consumer, sender and scheduler to `app` (started later)."""
    database = db.connect(settings.mongodb_url, alias=documents.ALIAS,
                          default_db="congso_notify", shared_url=settings.service == "all")
    dbinit = db.DatabaseInit(documents.ALIAS, documents.ensure_indexes)
    store = NotifyStore()
    sender = Sender(store, EmailChannel(settings.smtp_url, settings.smtp_from),
                    WebhookChannel(settings.webhook_secret))
    scheduler = Scheduler(get_db(documents.ALIAS).client, database.name, store=store,
                          deps={"sender": sender, "tz": settings.tz})
    consumer = bus.consumer(topology.queue_for("notify"),
                            make_dispatcher(store=store, sender=sender, scheduler=scheduler,
                                            tz=settings.tz),
                            name="congso-notify", healthy=lambda: dbinit.ready)
    runtime = runtime_of(app)
    runtime.add("notify.db", dbinit, readiness="notify.database")
    runtime.add("notify.sender", sender)
    runtime.add("notify.jobs", Part(scheduler.start_store, scheduler.stop_store))
    runtime.add("notify.scheduler", Part(scheduler.start_lease, scheduler.stop_lease),
                background=True)
    runtime.add("notify.consumer", consumer, background=True, readiness="notify.broker")
    ctx = NotifyContext(settings=settings, consumer=consumer, store=store, sender=sender,
                        scheduler=scheduler)
    app.extensions["notify"] = ctx
    if settings.load_calendar:
        runtime.on_start.append(lambda: _load_calendar(ctx))
    if settings.smtp_url is None:
        logger.info("SMTP_URL is not set: email notifications are logged as skipped")
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    return ctx


def _load_calendar(ctx: NotifyContext) -> None:
    year = datetime.now(ctx.settings.tz).year
    for y in (year, year + 1):
        for deadline_id, spec in calendar.deadlines(y, ctx.settings.tz):
            if spec["due_at"] > datetime.now(UTC):
                save_deadline(deadline_id, spec, store=ctx.store, scheduler=ctx.scheduler)
    logger.info("built-in calendar loaded for %d and %d", year, year + 1)


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The notify service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("notify"), bus=bus)
