"""Build the notify service: `install(...)` wires it into an app; nothing connects at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from mongoengine.connection import get_db

from services.notify import calendar, documents
from services.notify.channels import EmailChannel, WebhookChannel
from services.notify.deadline_status import StatusRepublish
from services.notify.deadlines import save_deadline
from services.notify.handlers import make_dispatcher
from services.notify.scheduling import Scheduler
from services.notify.sender import Sender
from services.notify.store import NotifyStore
from services.notify.views import BLUEPRINTS
from shared import audit, db, me, signin, topology
from shared.access import AccessStore, access_handler, install_access
from shared.config import Settings
from shared.http import runtime_of
from shared.outbox import OutboxRelay
from shared.runtime import Part

logger = logging.getLogger(__name__)


@dataclass
class NotifyContext:
    settings: Settings
    consumer: object
    store: NotifyStore
    sender: Sender
    scheduler: Scheduler
    access: AccessStore
    # publishes notify's audit records to survey's audit log, the review cycle's times,
    # and the deadlines' status for scoring
    relay: OutboxRelay


def install(app: Flask, api, settings: Settings, bus) -> NotifyContext:
    """Add notify's database, consumer, sender, scheduler and audit relay to `app`
    (started later)."""
    database = db.connect(settings.mongodb_url, alias=documents.ALIAS,
                          default_db="congso_notify", shared_url=settings.service == "all")
    access = install_access(app, lambda: get_db(documents.ALIAS), settings)

    def ensure_indexes() -> None:
        documents.ensure_indexes()
        access.ensure_indexes()
        audit.ensure_indexes(get_db(documents.ALIAS))

    dbinit = db.DatabaseInit(documents.ALIAS, ensure_indexes)
    store = NotifyStore()
    sender = Sender(store, EmailChannel(settings.smtp_url, settings.smtp_from),
                    WebhookChannel(settings.webhook_secret),
                    link_key=signin.link_key(settings.signin_link_key, settings.admin_token),
                    print_links=settings.demo and settings.smtp_url is None)
    publisher = bus.publisher()
    # the audit records for survey's log, the review cycle's times for survey, and the
    # deadlines' status for scoring's dashboards
    relay = OutboxRelay([lambda: get_db(documents.ALIAS)[audit.OUTBOX],
                         documents.CycleDue._get_collection,
                         documents.Deadline._get_collection], publisher,
                        name="notify-outbox")
    scheduler = Scheduler(get_db(documents.ALIAS).client, database.name, store=store,
                          deps={"sender": sender, "tz": settings.tz, "relay": relay,
                                "base_url": settings.public_base_url})
    consumer = bus.consumer(topology.queue_for("notify"),
                            make_dispatcher(before=access_handler(access), store=store,
                                            sender=sender, scheduler=scheduler,
                                            tz=settings.tz),
                            name="congso-notify", healthy=lambda: dbinit.ready)
    runtime = runtime_of(app)
    runtime.add("notify.db", dbinit, readiness="notify.database")
    runtime.add("notify.publisher", publisher, readiness="notify.broker")
    runtime.add("notify.relay", relay)
    runtime.add("notify.sender", sender)
    runtime.add("notify.jobs", Part(scheduler.start_store, scheduler.stop_store))
    runtime.add("notify.scheduler", Part(scheduler.start_lease, scheduler.stop_lease),
                background=True)
    runtime.add("notify.consumer", consumer, background=True, readiness="notify.broker")
    # a scoring rebuilt from nothing learns the deadlines again (notify has no replay)
    runtime.add("notify.deadline-status", StatusRepublish(store, relay), background=True)
    ctx = NotifyContext(settings=settings, consumer=consumer, store=store, sender=sender,
                        scheduler=scheduler, access=access, relay=relay)
    app.extensions["notify"] = ctx
    if settings.load_calendar:
        runtime.on_start.append(lambda: _load_calendar(ctx))
    if settings.smtp_url is None:
        logger.info("SMTP_URL is not set: email notifications are logged as skipped%s",
                    " (the demo prints sign-in links on its console)" if sender.print_links
                    else "")
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    me.register(app, api)
    return ctx


def _load_calendar(ctx: NotifyContext) -> None:
    year = datetime.now(ctx.settings.tz).year
    for y in (year, year + 1):
        for deadline_id, spec in calendar.deadlines(y, ctx.settings.tz):
            if spec["due_at"] > datetime.now(UTC):
                save_deadline(deadline_id, spec, store=ctx.store, scheduler=ctx.scheduler,
                              relay=ctx.relay)
    logger.info("built-in calendar loaded for %d and %d", year, year + 1)


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The notify service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("notify"), bus=bus)
