"""Build the scoring service: `create_app(settings)`; nothing connects at import."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from services.scoring import documents
from services.scoring.documents import database
from services.scoring.handlers import make_batch_handler, make_dispatcher
from services.scoring.pages import install_pages
from services.scoring.scores import Refresher, hold_check
from services.scoring.store import MongoScoringStore
from services.scoring.views import BLUEPRINTS
from shared import audit, db, me, topology
from shared.access import AccessStore, access_handler, install_access
from shared.config import Settings
from shared.http import runtime_of
from shared.outbox import OutboxRelay

BATCH_WAIT = 0.01  # seconds a batch waits for more after its first event


@dataclass
class ScoringContext:
    settings: Settings
    store: MongoScoringStore
    consumer: object
    refresher: Refresher
    relay: OutboxRelay
    audit_relay: OutboxRelay
    access: AccessStore


def install(app: Flask, api, settings: Settings, bus) -> ScoringContext:
    """Add scoring's database, consumer, refresher, outboxes and blueprints (started later)."""
    db.connect(settings.mongodb_url, alias=documents.ALIAS, default_db="congso_scoring",
               shared_url=settings.service == "all")
    store = MongoScoringStore()
    access = install_access(app, database, settings)
    publisher = bus.publisher()
    # the publishing hold pauses this relay, and the refresher (scores derived once after it)
    relay = OutboxRelay([documents.Score._get_collection], publisher, name="scoring-outbox",
                        paused=hold_check(store))
    # audit records have a relay of their own: a hold must never keep one back
    audit_relay = OutboxRelay([lambda: database()[audit.OUTBOX]], publisher,
                              name="scoring-audit-outbox")
    refresher = Refresher(store, relay, tz=settings.tz)

    def create_indexes() -> None:
        documents.ensure_indexes()
        access.ensure_indexes()
        audit.ensure_indexes(database())

    dbinit = db.DatabaseInit(documents.ALIAS, create_indexes)
    deps = {"store": store, "tz": settings.tz, "refresher": refresher,
            "before": access_handler(access)}
    # events applied in batches of up to SCORING_BATCH (each bucket read and written once
    # per batch; the prefetch is twice that), waiting at most BATCH_WAIT for more after the
    # first: at a low rate a batch is one event. SCORING_BATCH=1: one at a time.
    batching = {"batch_handler": make_batch_handler(**deps),
                "batch_max": settings.scoring_batch,
                "batch_wait": BATCH_WAIT} if settings.scoring_batch > 1 else {}
    consumer = bus.consumer(
        topology.queue_for("scoring"), make_dispatcher(**deps), **batching,
        name="congso-scoring", healthy=lambda: dbinit.ready)
    runtime = runtime_of(app)
    runtime.add("scoring.db", dbinit, readiness="scoring.database")
    runtime.add("scoring.publisher", publisher, readiness="scoring.broker")
    runtime.add("scoring.relay", relay)
    runtime.add("scoring.audit-relay", audit_relay)
    runtime.add("scoring.refresher", refresher, background=True)
    runtime.add("scoring.consumer", consumer, background=True, readiness="scoring.broker")
    ctx = ScoringContext(settings=settings, store=store, consumer=consumer,
                         refresher=refresher, relay=relay, audit_relay=audit_relay,
                         access=access)
    app.extensions["scoring"] = ctx
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    me.register(app, api)
    install_pages(app)
    return ctx


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The scoring service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("scoring"), bus=bus)
