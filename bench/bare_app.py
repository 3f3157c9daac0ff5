"""The baseline: a bare Flask endpoint that validates the same rating schema, returns 201.

Served exactly like survey (services.server.serve: gunicorn, same workers and threads), so
the ratio of the two measures what survey's own work costs: token lookup, rules, the
store with its outbox event, and the relay publishing with confirms.
"""

from __future__ import annotations

import uuid

from flask import Flask, jsonify, request
from marshmallow import ValidationError

from services.survey.schemas import RatingIn


def create_app() -> Flask:
    app = Flask("bare")
    schema = RatingIn()

    @app.post("/api/v1/ratings")
    def post_rating():
        try:
            schema.load(request.get_json())
        except ValidationError as exc:
            return jsonify(errors=exc.messages), 422
        return jsonify(id=uuid.uuid4().hex), 201

    @app.get("/readyz")
    def readyz():
        return jsonify(status="ready")

    return app


if __name__ == "__main__":
    from services.bootstrap import load_settings
    from services.server import serve

    settings = load_settings("survey")
    serve(create_app, settings)
