"""HTTP API of counters (admin): their kiosk URL and token, token rotation, QR codes and
the printable sheet of a unit's counters."""

from __future__ import annotations

from flask import Response, render_template
from flask_smorest import Blueprint

from services.survey import directory, qr, tokens
from services.survey.directory_views import ctx, found, invalid
from services.survey.documents import Counter, Official, Unit
from services.survey.schemas import CounterIn, CounterOut, UnitFilter
from shared.auth import SECURITY, require
from shared.http import check_code
from shared.web import messages

blp = Blueprint("counters", __name__, url_prefix="/api/v1",
                description="Counters, their kiosk tokens and QR codes")


@blp.get("/counters")
@require("admin")
@blp.arguments(UnitFilter(), location="query")
@blp.response(200, CounterOut(many=True))
@blp.doc(security=SECURITY)
def list_counters(query: dict):
    """Counters, all or of one unit (?unit=), with their kiosk URLs."""
    where = {"unit": query["unit"]} if query.get("unit") else {}
    return [_with_kiosk_url({"code": d["_id"], **d})
            for d in Counter._get_collection().find(where).sort("_id", 1)]


@blp.put("/counters/<code:code>")
@require("admin")
@blp.arguments(CounterIn())
@blp.response(200, CounterOut, description="Updated")
@blp.alt_response(201, schema=CounterOut, description="Created")
@blp.doc(security=SECURITY)
def put_counter(body: dict, code: str):
    """Create or update a counter; the answer has its kiosk URL and token."""
    check_code(code)
    if not directory.unit_exists(body["unit"]):
        raise invalid("unit", f"unknown unit {body['unit']!r}")
    known = {d["_id"] for d in Official._get_collection().find(
        {"_id": {"$in": body["officials"]}}, {"_id": 1})}
    unknown = [o for o in body["officials"] if o not in known]
    if unknown:
        raise invalid("officials", f"unknown officials: {', '.join(unknown)}")
    record, created = directory.upsert_counter(
        code, body, lambda: tokens.make_counter_token(tokens.counter_key()))
    return _with_kiosk_url(record), 201 if created else 200


def _with_kiosk_url(record: dict) -> dict:
    record["kiosk_url"] = kiosk_url(record["token"])
    return record


def kiosk_url(token: str) -> str:
    return f"{ctx().settings.public_base_url}/k/{token}"


def _counter_or_404(code: str) -> dict:
    return found(Counter, code, "counter")


@blp.get("/counters/<code:code>")
@require("admin")
@blp.response(200, CounterOut)
@blp.doc(security=SECURITY)
def get_counter(code: str):
    """Read a counter, with its kiosk URL and token."""
    return _with_kiosk_url(_counter_or_404(code))


@blp.post("/counters/<code:code>/token")
@require("admin")
@blp.response(200, CounterOut, description="The counter with its new token")
@blp.doc(security=SECURITY)
def rotate_counter_token(code: str):
    """Replace the counter's kiosk token (revoking the old one: reprint its QR code)."""
    _counter_or_404(code)
    tokens.rotate_counter_token(code)
    return _with_kiosk_url(_counter_or_404(code))


@blp.get("/counters/<code:code>/qr.svg")
@require("admin")
@blp.response(200, content_type="image/svg+xml",
              description="QR code of the counter's kiosk URL")
@blp.doc(security=SECURITY)
def counter_qr_svg(code: str):
    """The counter's QR code as SVG."""
    counter = _counter_or_404(code)
    return Response(qr.qr_svg(kiosk_url(counter["token"])), mimetype="image/svg+xml")


@blp.get("/counters/<code:code>/qr.png")
@require("admin")
@blp.response(200, content_type="image/png",
              description="QR code of the counter's kiosk URL")
@blp.doc(security=SECURITY)
def counter_qr_png(code: str):
    """The counter's QR code as PNG."""
    counter = _counter_or_404(code)
    return Response(qr.qr_png(kiosk_url(counter["token"])), mimetype="image/png")


@blp.get("/units/<code:code>/qr-sheet.html")
@require("admin")
@blp.response(200, content_type="text/html", description="Print-ready A4 page")
@blp.doc(security=SECURITY)
def unit_qr_sheet(code: str):
    """A print-ready A4 sheet of the unit's counters: label, QR code, instruction."""
    unit = found(Unit, code, "unit")
    counters = []
    for c in Counter._get_collection().find({"unit": code}).sort("_id", 1):
        url = kiosk_url(c["token"])
        counters.append({"label": c["label"], "kiosk_url": url,
                         "svg": qr.qr_svg(url, inline=True).decode()})
    html = render_template("qr_sheet.html", unit=unit, counters=counters,
                           **messages.catalogue("vi"))
    return Response(html, mimetype="text/html")


BLUEPRINTS = (blp,)
