"""HTTP API of the directory (admin): units, officials, their tokens, the import and
replays; counters are in `counter_views`."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from services.survey import accounts, audit_log, domain, importer, replay
from services.survey.context import context
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
from services.survey.store import directory
from services.survey.store import replays as replay_store
from shared.auth import SECURITY, require
from shared.errors import Invalid, NotFound
from shared.http import body_limit, body_types, check_code
from shared.problems import Problem

IMPORT_LIMIT = 4 * 1024 * 1024  # a province's officials fit; the 64 KiB default would not

blp = Blueprint("directory", __name__, url_prefix="/api/v1",
                description="Units and officials, their tokens, the import, replays")


def check_unit(unit: str) -> None:
    """An official's or a counter's unit must exist (422 on `unit` otherwise)."""
    if not directory.exists("unit", unit):
        raise Invalid(f"unknown unit {unit!r}", field="unit")


def check_officials(codes: list[str], field: str) -> None:
    """Officials named by a unit (managers) or a counter must exist (422 naming those
    that do not)."""
    unknown = directory.unknown_officials(codes)
    if unknown:
        raise Invalid(f"unknown officials: {', '.join(unknown)}", field=field)


def saved(result: tuple[dict, bool]):
    record, created = result
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
    problem = domain.parent_error(code, body.get("parent"), directory.UnitParents())
    if problem:
        raise Invalid(problem, field="parent")
    check_officials(body["managers"], "managers")
    return saved(accounts.save_unit(context(), code, body, correlationid=g.request_id))


@blp.get("/units/<code:code>")
@require("admin")
@blp.response(200, UnitOut)
@blp.doc(security=SECURITY)
def get_unit(code: str):
    """Read a unit."""
    return directory.get("unit", code)


@blp.get("/units")
@require("admin")
@blp.response(200, UnitOut(many=True))
@blp.doc(security=SECURITY)
def list_units():
    """Every unit, by code."""
    return directory.listing("unit")


@blp.get("/officials")
@require("admin")
@blp.arguments(UnitFilter(), location="query")
@blp.response(200, OfficialOut(many=True))
@blp.doc(security=SECURITY)
def list_officials(query: dict):
    """Officials, all or of one unit (?unit=), by code."""
    return directory.listing("official", query.get("unit"))


@blp.put("/officials/<code:code>")
@require("admin")
@blp.arguments(OfficialIn())
@blp.response(200, OfficialOut, description="Updated")
@blp.alt_response(201, schema=OfficialOut, description="Created")
@blp.doc(security=SECURITY)
def put_official(body: dict, code: str):
    """Create or update an official (an email used by another official: 409)."""
    check_code(code)
    check_unit(body["unit"])
    return saved(accounts.save_official(context(), code, body, correlationid=g.request_id))


@blp.get("/officials/<code:code>")
@require("admin")
@blp.response(200, OfficialOut)
@blp.doc(security=SECURITY)
def get_official(code: str):
    """Read an official."""
    return directory.get("official", code)


@blp.post("/officials/<code:code>/tokens")
@require("admin")
@blp.response(201, TokenOut, description="The token, shown this once")
@blp.doc(security=SECURITY)
def issue_official_token(code: str):
    """Issue a bearer token acting as an official; stored hashed, audited and told to the
    official at once."""
    return {"token": accounts.issue_token(context(), code), "official": code}


@blp.delete("/officials/<code:code>/tokens")
@require("admin")
@blp.response(200, RevokedOut)
@blp.doc(security=SECURITY)
def revoke_official_tokens(code: str):
    """Revoke every token of an official at once, and end their sessions (audited, told to
    the official)."""
    return {"official": code, "revoked": accounts.revoke_tokens(context(), code)}


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
        raise Invalid(f"{len({e['row'] for e in plan.errors})} row(s) have problems; "
                      "nothing was written.", errors=plan.errors, slug="import-rejected")
    result = importer.apply_plan(plan, context(), g.request_id)
    audit_log.record(context(), "directory_imported", details=result)
    return result


@blp.post("/replays")
@require("admin")
@blp.arguments(ReplayIn())
@blp.response(202, ReplayOut, description="Started; follow it at /replays/{id}")
@blp.doc(security=SECURITY)
def post_replay(body: dict):
    """Publish every stored record again, to one consumer only (to rebuild its database)."""
    job = replay.start_replay(context(), body["target"], body["events_per_message"])
    audit_log.record(context(), "replay_started", target=body["target"],
                     details={"job": job["_id"],
                              "events_per_message": body["events_per_message"]})
    return job


@blp.get("/replays/<code:job_id>")
@require("admin")
@blp.response(200, ReplayOut)
@blp.doc(security=SECURITY)
def get_replay(job_id: str):
    """Progress of a replay."""
    job = replay_store.job(job_id)
    if job is None:
        raise NotFound(f"No replay {job_id!r}.", slug="unknown-replay")
    return job


BLUEPRINTS = (blp,)
