"""HTTP API of citizen ratings."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from services.survey.context import context
from services.survey.ratings import submit_rating
from services.survey.schemas import RatingIn, RatingOut

ratings = Blueprint("ratings", __name__, url_prefix="/api/v1",
                    description="Citizen ratings of the service at a counter")


@ratings.post("/ratings")
@ratings.arguments(RatingIn(), location="json")
@ratings.response(201, RatingOut, description="Rating accepted")
@ratings.alt_response(200, schema=RatingOut, description="Same client_id again: the first id")
@ratings.alt_response(404, description="Unknown or revoked counter token")
@ratings.alt_response(409, description="Receipt code already rated")
@ratings.alt_response(429, description="Too many ratings from one address at one counter")
def post_rating(body: dict):
    """Rate the service at a counter (anonymous)."""
    rating_id, created = submit_rating(context(), body, address=request.remote_addr,
                                       correlationid=g.request_id)
    return {"id": rating_id}, 201 if created else 200


BLUEPRINTS = (ratings,)
