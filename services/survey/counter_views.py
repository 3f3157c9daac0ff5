"""HTTP API of counters (admin): their kiosk URL and token, token rotation, QR codes and
the printable sheet of a unit's counters."""

from __future__ import annotations

from flask import Response, render_template
from flask_smorest import Blueprint

from services.survey import audit_log, keys, qr, tokens
from services.survey.context import context
from services.survey.directory_views import check_officials, check_unit, saved
from services.survey.schemas import CounterIn, CounterOut, UnitFilter
from services.survey.store import directory
from shared.auth import SECURITY, require
from shared.http import check_code
from shared.web import messages

blp = Blueprint("counters", __name__, url_prefix="/api/v1",
                description="Counters, their kiosk tokens and QR codes")


def _new_token() -> str:
    return tokens.make_counter_token(context().key(keys.COUNTER_TOKEN))


def _with_kiosk_url(record: dict) -> dict:
    return {**record, "kiosk_url": context().kiosk_url(record["token"])}


def _kiosk_url_of(code: str) -> str:
    return context().kiosk_url(directory.get("counter", code)["token"])


@blp.get("/counters")
@require("admin")
@blp.arguments(UnitFilter(), location="query")
@blp.response(200, CounterOut(many=True))
@blp.doc(security=SECURITY)
def list_counters(query: dict):
    """Counters, all or of one unit (?unit=), with their kiosk URLs."""
    return [_with_kiosk_url(c) for c in directory.listing("counter", query.get("unit"))]


@blp.put("/counters/<code:code>")
@require("admin")
@blp.arguments(CounterIn())
@blp.response(200, CounterOut, description="Updated")
@blp.alt_response(201, schema=CounterOut, description="Created")
@blp.doc(security=SECURITY)
def put_counter(body: dict, code: str):
    """Create or update a counter; the answer has its kiosk URL and token."""
    check_code(code)
    check_unit(body["unit"])
    check_officials(body["officials"], "officials")
    record, status = saved(directory.upsert_counter(code, body, _new_token))
    audit_log.record(context(), "counter_saved", target=code,
                     details={"created": status == 201, "officials": record["officials"]})
    return _with_kiosk_url(record), status


@blp.get("/counters/<code:code>")
@require("admin")
@blp.response(200, CounterOut)
@blp.doc(security=SECURITY)
def get_counter(code: str):
    """Read a counter, with its kiosk URL and token."""
    return _with_kiosk_url(directory.get("counter", code))


@blp.post("/counters/<code:code>/token")
@require("admin")
@blp.response(200, CounterOut, description="The counter with its new token")
@blp.doc(security=SECURITY)
def rotate_counter_token(code: str):
    """Replace the counter's kiosk token (revoking the old one: reprint its QR code)."""
    directory.get("counter", code)
    directory.rotate_counter_token(code, _new_token())
    audit_log.record(context(), "counter_token_rotated", target=code)
    return _with_kiosk_url(directory.get("counter", code))


@blp.get("/counters/<code:code>/qr.svg")
@require("admin")
@blp.response(200, content_type="image/svg+xml",
              description="QR code of the counter's kiosk URL")
@blp.doc(security=SECURITY)
def counter_qr_svg(code: str):
    """The counter's QR code as SVG."""
    return Response(qr.qr_svg(_kiosk_url_of(code)), mimetype="image/svg+xml")


@blp.get("/counters/<code:code>/qr.png")
@require("admin")
@blp.response(200, content_type="image/png",
              description="QR code of the counter's kiosk URL")
@blp.doc(security=SECURITY)
def counter_qr_png(code: str):
    """The counter's QR code as PNG."""
    return Response(qr.qr_png(_kiosk_url_of(code)), mimetype="image/png")


@blp.get("/units/<code:code>/qr-sheet.html")
@require("admin")
@blp.response(200, content_type="text/html", description="Print-ready A4 page")
@blp.doc(security=SECURITY)
def unit_qr_sheet(code: str):
    """A print-ready A4 sheet of the unit's counters: label, QR code, instruction."""
    unit = directory.get("unit", code)
    counters = []
    for c in directory.listing("counter", code):
        url = context().kiosk_url(c["token"])
        counters.append({"label": c["label"], "kiosk_url": url,
                         "svg": qr.qr_svg(url, inline=True).decode()})
    html = render_template("qr_sheet.html", unit=unit, counters=counters,
                           **messages.catalogue("vi"))
    return Response(html, mimetype="text/html")


BLUEPRINTS = (blp,)
