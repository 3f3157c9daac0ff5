"""`GET /api/v1/me` in every service: who the caller is, as this service knows it (a
session cookie or a bearer token, checked by the service itself)."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.auth import SECURITY, access_store, require
from shared.http import personal

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="Who is calling")


class MeOut(Schema):
    official = fields.String(allow_none=True,
                             metadata={"description": "null for the admin token"})
    full_name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    manages = fields.List(fields.String(), metadata={
        "description": "units managed directly; each with every unit below it is in scope"})
    via = fields.String(metadata={"enum": ["admin-token", "token", "session"]})


@blp.get("/me")
@require("signed-in")
@personal
@blp.response(200, MeOut)
@blp.doc(security=SECURITY)
def me():
    """The caller: official, name, unit, roles and the units they manage."""
    p = g.principal
    roles = ["admin"] if p.kind == "admin" else list(p.roles)
    manages = access_store().manages(p.official) if p.official else []
    return {"official": p.official, "full_name": p.full_name, "unit": p.unit,
            "roles": roles, "manages": manages, "via": p.via}


def register(app, api) -> None:
    """Once per app (the all-in-one app installs three services)."""
    if "me" not in app.blueprints:
        api.register_blueprint(blp)
