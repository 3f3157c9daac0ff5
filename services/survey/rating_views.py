"""HTTP API of citizen ratings."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from services.survey.context import context
from services.survey.ratings import submit_rating
from services.survey.schemas import RatingIn, RatingOut
from shared.crosssite import same_site_only

ratings = Blueprint("ratings", __name__, url_prefix="/api/v1",
                    description="Citizen ratings of the service at a counter")


@ratings.post("/ratings")
@same_site_only()
@ratings.arguments(RatingIn(), location="json")
@ratings.response(201, RatingOut, description="Rating accepted")
@ratings.alt_response(200, schema=RatingOut, description="Same client_id again: the first id")
@ratings.alt_response(403, description="Posted by a page of another site (Origin or "
                      "Sec-Fetch-Site): refused, nothing stored")
@ratings.alt_response(404, description="Unknown or revoked counter token")
@ratings.alt_response(409, description="Receipt code already rated")
@ratings.alt_response(429, description="Too many ratings from one address at one counter")
def post_rating(body: dict):
    """Rate the service at a counter (anonymous).

    A browser's post made by a page of another site is refused (403, `cross-site`):
    `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither this host nor
    PUBLIC_BASE_URL's. A program that sends neither header is not refused."""
    rating_id, created = submit_rating(context(), body, address=request.remote_addr,
                                       correlationid=g.request_id)
    return {"id": rating_id}, 201 if created else 200


BLUEPRINTS = (ratings,)
