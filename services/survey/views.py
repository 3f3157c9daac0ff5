"""HTTP API of citizen ratings."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint

from services.survey import keys, tokens
from services.survey.ratings import accept_rating, client_hash, existing_rating
from services.survey.schemas import RatingIn, RatingOut
from shared.problems import Problem

ratings = Blueprint("ratings", __name__, url_prefix="/api/v1",
                    description="Citizen ratings of the service at a counter")


def survey_context():
    return current_app.extensions["survey"]


def submit_rating(body: dict) -> tuple[str, bool]:
    """Everything between a validated body and a stored rating (the API and the kiosk form)."""
    ctx = survey_context()
    counter = tokens.counter_by_token(body["counter_token"])
    if counter is None:
        raise Problem(404, "This counter's code is unknown or has been replaced.",
                      slug="unknown-counter")
    earlier = existing_rating(body["client_id"])
    if earlier is not None:
        return earlier, False  # a kiosk's retry: answered, never rate limited
    address = client_hash(request.remote_addr, keys.purpose_key("client-address", ctx.secret))
    wait = ctx.limiter.hit(counter["_id"], address or "-")
    if wait is not None:
        raise Problem(429, "Too many ratings from this device at this counter; please wait.",
                      slug="rate-limited", headers={"Retry-After": str(wait)})
    rating_id, created = accept_rating(body, counter, address_hash=address,
                                       correlationid=g.request_id)
    if created:
        ctx.relay.notify("ratings", rating_id)
    return rating_id, created


@ratings.post("/ratings")
@ratings.arguments(RatingIn(), location="json")
@ratings.response(201, RatingOut, description="Rating accepted")
@ratings.alt_response(200, schema=RatingOut, description="Same client_id again: the first id")
@ratings.alt_response(404, description="Unknown or revoked counter token")
@ratings.alt_response(409, description="Receipt code already rated")
@ratings.alt_response(429, description="Too many ratings from one address at one counter")
def post_rating(body: dict):
    """Rate the service at a counter (anonymous)."""
    rating_id, created = submit_rating(body)
    return {"id": rating_id}, 201 if created else 200


BLUEPRINTS = (ratings,)
