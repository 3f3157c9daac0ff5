"""Build the scoring service: `create_app(settings)`; nothing connects at import."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from services.scoring import documents
from services.scoring.handlers import make_dispatcher
from services.scoring.scores import Refresher, hold_check
from services.scoring.store import MongoScoringStore
from services.scoring.views import BLUEPRINTS
from shared import db, topology
from shared.config import Settings
from shared.http import runtime_of
from shared.outbox import OutboxRelay


@dataclass
class ScoringContext:
    settings: Settings
    store: MongoScoringStore
    consumer: object
    refresher: Refresher
    relay: OutboxRelay


def install(app: Flask, api, settings: Settings, bus) -> ScoringContext:
    """Add scoring's database, consumer, refresher, outbox and blueprints (started later)."""
    db.connect(settings.mongodb_url, alias=documents.ALIAS, default_db="congso_scoring",
               shared_url=settings.service == "all")
    store = MongoScoringStore()
    publisher = bus.publisher()
    # the publishing hold pauses the relay only: scores are still derived meanwhile
    relay = OutboxRelay([documents.Score._get_collection], publisher, name="scoring-outbox",
                        paused=hold_check(store))
    refresher = Refresher(store, relay)
    dbinit = db.DatabaseInit(documents.ALIAS, documents.ensure_indexes)
    consumer = bus.consumer(
        topology.queue_for("scoring"),
        make_dispatcher(store=store, tz=settings.tz, refresher=refresher),
        name="congso-scoring", healthy=lambda: dbinit.ready)
    runtime = runtime_of(app)
    runtime.add("scoring.db", dbinit, readiness="scoring.database")
    runtime.add("scoring.publisher", publisher, readiness="scoring.broker")
    runtime.add("scoring.relay", relay)
    runtime.add("scoring.refresher", refresher, background=True)
    runtime.add("scoring.consumer", consumer, background=True, readiness="scoring.broker")
    ctx = ScoringContext(settings=settings, store=store, consumer=consumer,
                         refresher=refresher, relay=relay)
    app.extensions["scoring"] = ctx
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    return ctx


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The scoring service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("scoring"), bus=bus)
