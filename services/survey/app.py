"""Build the survey service: `create_app(settings)`; nothing connects at import."""

from __future__ import annotations

from flask import Flask

from services.survey import (
    counter_views,
    directory_views,
    documents,
    kiosk,
    rating_views,
    review_views,
    store,
)
from services.survey.context import SurveyContext
from services.survey.ratelimit import RatingLimiter
from shared import db
from shared.config import Settings
from shared.http import runtime_of
from shared.outbox import OutboxRelay


def install(app: Flask, api, settings: Settings, bus) -> SurveyContext:
    """Add survey's database, outbox relay and blueprints to `app` (started later)."""
    db.connect(settings.mongodb_url, alias=documents.ALIAS, default_db="congso_survey",
               shared_url=settings.service == "all")
    publisher = bus.publisher()
    relay = OutboxRelay(store.outbox_collections(), publisher, name="survey-outbox")
    runtime = runtime_of(app)
    dbinit = db.DatabaseInit(documents.ALIAS, store.ensure_indexes)
    runtime.add("survey.db", dbinit, readiness="survey.database")
    runtime.add("survey.publisher", publisher, readiness="survey.broker")
    runtime.add("survey.relay", relay)
    ctx = SurveyContext(settings=settings, relay=relay, publisher=publisher,
                        limiter=RatingLimiter(settings))
    app.extensions["survey"] = ctx
    for module in (directory_views, counter_views, rating_views, review_views):
        for blp in module.BLUEPRINTS:
            api.register_blueprint(blp)
    app.register_blueprint(kiosk.kiosk)
    return ctx


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The survey service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("survey"), bus=bus)
