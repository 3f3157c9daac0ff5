"""Build the survey service: `create_app(settings)`; nothing connects at import."""

from __future__ import annotations

from flask import Flask
from mongoengine.connection import get_db

from services.survey import (
    auth_views,
    counter_views,
    directory_views,
    documents,
    holds_views,
    identity,
    keys,
    kiosk,
    login_pages,
    pages,
    rating_views,
    response_counts,
    review_views,
    session_cookie,
    store,
)
from services.survey.context import SurveyContext
from services.survey.handlers import HANDLERS
from services.survey.ratelimit import RatingLimiter, SignInLimiter
from shared import db, me, topology
from shared.access import access_handler, install_access
from shared.config import Settings
from shared.http import runtime_of
from shared.messages import make_dispatcher
from shared.outbox import OutboxRelay
from shared.web.pages import install_web


def install(app: Flask, api, settings: Settings, bus) -> SurveyContext:
    """Add survey's database, outbox relay, consumer and blueprints to `app` (started
    later)."""
    db.connect(settings.mongodb_url, alias=documents.ALIAS, default_db="congso_survey",
               shared_url=settings.service == "all")
    # survey is installed first: in the all-in-one app its copy is the app's (it never lags)
    access = install_access(app, lambda: get_db(documents.ALIAS), settings)
    publisher = bus.publisher()
    relay = OutboxRelay(store.outbox_collections(), publisher, name="survey-outbox")
    signer = identity.LazySigner(settings)
    app.config["CONGSO_SESSION_SIGNER"] = signer
    ctx = SurveyContext(settings=settings, relay=relay, publisher=publisher,
                        limiter=RatingLimiter(settings), signin_limiter=SignInLimiter(settings),
                        access=access, signer=signer)

    def start_database() -> None:
        store.ensure_indexes()
        access.ensure_indexes()
        identity.sync_access(ctx)
        identity.announce_key(ctx)
        # a count a crash left between a review and its recount is made good at start
        response_counts.recount(ctx.key(keys.REVIEWER_PSEUDONYM), notify=relay.notify)

    dbinit = db.DatabaseInit(documents.ALIAS, start_database)
    # the other services' audit records, and notify's word that a review invitation or
    # reminder is due, reach survey on its own queue
    consumer = bus.consumer(
        topology.queue_for("survey"),
        make_dispatcher(HANDLERS, before=access_handler(access), ctx=ctx),
        name="congso-survey", healthy=lambda: dbinit.ready)
    runtime = runtime_of(app)
    runtime.add("survey.db", dbinit, readiness="survey.database")
    runtime.add("survey.publisher", publisher, readiness="survey.broker")
    runtime.add("survey.relay", relay)
    runtime.add("survey.consumer", consumer, background=True, readiness="survey.broker")
    app.extensions["survey"] = ctx
    for module in (directory_views, counter_views, rating_views, holds_views, review_views,
                   auth_views):
        for blp in module.BLUEPRINTS:
            api.register_blueprint(blp)
    me.register(app, api)
    install_web(app)
    app.register_blueprint(kiosk.kiosk)
    app.register_blueprint(login_pages.account)
    pages.install_pages(app)
    app.after_request(session_cookie.renew)
    return ctx


def create_app(settings: Settings | None = None, *, bus=None) -> Flask:
    """The survey service as a Flask app; call `runtime_of(app).start()` to run it."""
    from services.bootstrap import create_app as build

    return build(settings or Settings.from_env("survey"), bus=bus)
