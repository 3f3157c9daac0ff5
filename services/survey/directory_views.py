"""HTTP API of the directory (admin): units, officials, their tokens, the import and
replays; counters are in `counter_views`."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint

from services.survey import directory, importer, replay, tokens
from services.survey.documents import Official, Unit
from services.survey.schemas import (
    ImportOut,
    OfficialIn,
    OfficialOut,
    ReplayIn,
    ReplayOut,
    RevokedOut,
    TokenOut,
    UnitFilter,
    UnitIn,
    UnitOut,
)
from shared.auth import SECURITY, require
from shared.http import body_limit, body_types, check_code
from shared.problems import Problem

IMPORT_LIMIT = 4 * 1024 * 1024  # a province's officials fit; the 64 KiB default would not

blp = Blueprint("directory", __name__, url_prefix="/api/v1",
                description="Units and officials, their tokens, the import, replays")


def ctx():
    return current_app.extensions["survey"]


def invalid(field: str, message: str):
    return Problem(422, message, errors={field: [message]}, slug="validation-error")


def found(document, code: str, what: str) -> dict:
    """The record `code` of a directory collection, or a 404 naming what was looked for."""
    doc = document._get_collection().find_one({"_id": code})
    if doc is None:
        raise Problem(404, f"No {what} {code!r}.", slug=f"unknown-{what}")
    return {"code": doc["_id"], **doc}


def _unit_parent_problem(code: str, parent: str | None) -> Problem | None:
    """A unit's parent must exist and must not make the hierarchy a loop."""
    if parent is None:
        return None
    if parent == code:
        return invalid("parent", "a unit cannot be its own parent")
    coll = Unit._get_collection()
    seen = {code}
    current = parent
    while current is not None:
        doc = coll.find_one({"_id": current}, {"parent": 1})
        if doc is None:
            return invalid("parent", f"unknown unit {current!r}") if current == parent else None
        if current in seen:
            return invalid("parent", "this parent would make a loop of units")
        seen.add(current)
        current = doc.get("parent")
    return None


def _saved(collection: str, result: tuple[dict, bool]):
    record, created = result
    ctx().relay.notify(collection, record["code"])
    return record, 201 if created else 200


@blp.put("/units/<code:code>")
@require("admin")
@blp.arguments(UnitIn())
@blp.response(200, UnitOut, description="Updated")
@blp.alt_response(201, schema=UnitOut, description="Created")
@blp.doc(security=SECURITY)
def put_unit(body: dict, code: str):
    """Create or update a unit."""
    check_code(code)
    problem = _unit_parent_problem(code, body.get("parent"))
    if problem:
        raise problem
    return _saved("units", directory.upsert_unit(code, body, correlationid=g.request_id))


@blp.get("/units/<code:code>")
@require("admin")
@blp.response(200, UnitOut)
@blp.doc(security=SECURITY)
def get_unit(code: str):
    """Read a unit."""
    return found(Unit, code, "unit")


@blp.get("/units")
@require("admin")
@blp.response(200, UnitOut(many=True))
@blp.doc(security=SECURITY)
def list_units():
    """Every unit, by code."""
    return [{"code": d["_id"], **d} for d in Unit._get_collection().find().sort("_id", 1)]


@blp.get("/officials")
@require("admin")
@blp.arguments(UnitFilter(), location="query")
@blp.response(200, OfficialOut(many=True))
@blp.doc(security=SECURITY)
def list_officials(query: dict):
    """Officials, all or of one unit (?unit=), by code."""
    where = {"unit": query["unit"]} if query.get("unit") else {}
    return [{"code": d["_id"], **d}
            for d in Official._get_collection().find(where).sort("_id", 1)]


@blp.put("/officials/<code:code>")
@require("admin")
@blp.arguments(OfficialIn())
@blp.response(200, OfficialOut, description="Updated")
@blp.alt_response(201, schema=OfficialOut, description="Created")
@blp.doc(security=SECURITY)
def put_official(body: dict, code: str):
    """Create or update an official."""
    check_code(code)
    if not directory.unit_exists(body["unit"]):
        raise invalid("unit", f"unknown unit {body['unit']!r}")
    return _saved("officials",
                  directory.upsert_official(code, body, correlationid=g.request_id))


@blp.get("/officials/<code:code>")
@require("admin")
@blp.response(200, OfficialOut)
@blp.doc(security=SECURITY)
def get_official(code: str):
    """Read an official."""
    return found(Official, code, "official")


@blp.post("/officials/<code:code>/tokens")
@require("admin")
@blp.response(201, TokenOut, description="The token, shown this once")
@blp.doc(security=SECURITY)
def issue_official_token(code: str):
    """Issue a bearer token for an official (peer reviews); it is stored hashed."""
    found(Official, code, "official")
    return {"token": tokens.issue_official_token(code), "official": code}


@blp.delete("/officials/<code:code>/tokens")
@require("admin")
@blp.response(200, RevokedOut)
@blp.doc(security=SECURITY)
def revoke_official_tokens(code: str):
    """Revoke every token of an official at once."""
    found(Official, code, "official")
    return {"official": code, "revoked": tokens.revoke_official_tokens(code)}


@blp.post("/directory/import")
@require("admin")
@blp.response(200, ImportOut)
@blp.alt_response(422, description="Bad rows: errors is a list of {row, field, message}")
@blp.doc(security=SECURITY, requestBody={"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    importer.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}})
@body_types(*importer.CSV_TYPES, importer.XLSX_TYPE)
@body_limit(IMPORT_LIMIT)
def import_directory():
    """Create or update units and officials from a CSV (UTF-8) or XLSX file; all or nothing."""
    if request.mimetype not in (*importer.CSV_TYPES, importer.XLSX_TYPE):
        raise Problem(400, "Send the file as text/csv or as an XLSX workbook "
                           f"({importer.XLSX_TYPE}).", slug="unsupported-content-type")
    try:
        rows = importer.read_rows(request.get_data(), request.mimetype)
    except importer.UnreadableFile as exc:
        raise Problem(400, f"The file cannot be read: {exc}.", slug="unreadable-file") from None
    plan = importer.plan_import(rows)
    if plan.errors:
        raise Problem(422, f"{len({e['row'] for e in plan.errors})} row(s) have problems; "
                           "nothing was written.", errors=plan.errors, slug="import-rejected")
    return importer.apply_plan(plan, ctx().relay.notify, g.request_id)


@blp.post("/replays")
@require("admin")
@blp.arguments(ReplayIn())
@blp.response(202, ReplayOut, description="Started; follow it at /replays/{id}")
@blp.doc(security=SECURITY)
def post_replay(body: dict):
    """Publish every stored record again, to one consumer only (to rebuild its database)."""
    return replay.start_replay(body["target"], ctx().publisher)


@blp.get("/replays/<code:job_id>")
@require("admin")
@blp.response(200, ReplayOut)
@blp.doc(security=SECURITY)
def get_replay(job_id: str):
    """Progress of a replay."""
    found = replay.job(job_id)
    if found is None:
        raise Problem(404, f"No replay {job_id!r}.", slug="unknown-replay")
    return found


BLUEPRINTS = (blp,)
