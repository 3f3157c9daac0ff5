"""HTTP API of signing in (anyone may ask for a link) and of the audit log (admin)."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from services.survey import signin_links
from services.survey.context import context
from services.survey.schemas import AuditEntryOut, AuditQuery, LinkIn, LinkOut
from services.survey.store import audit as audit_store
from shared import signin
from shared.auth import SECURITY, require
from shared.http import personal, set_total_count, total_count_header

blp = Blueprint("account", __name__, url_prefix="/api/v1",
                description="Sign-in links, and the audit log")

LINK_SENT = {
    "detail": "If this address belongs to an active official, a sign-in link is on its way "
              "to it. The link works once, for 15 minutes.",
    "expires_in_minutes": signin.LIFETIME_MINUTES,
}


@blp.post("/auth/links")
@personal
@blp.arguments(LinkIn())
@blp.response(202, LinkOut, description="The same answer for every address")
@blp.alt_response(429, description="Too many links asked for this address or from here")
def post_link(body: dict):
    """Ask for a sign-in link by email (the answer never says whether the address is
    known)."""
    signin_links.request_link(context(), body["email"], body["next"],
                              address=request.remote_addr)
    return LINK_SENT


@blp.get("/audit")
@require("admin")
@blp.arguments(AuditQuery(), location="query")
@blp.response(200, AuditEntryOut(many=True), headers=total_count_header("entries"))
@blp.doc(security=SECURITY)
def list_audit(query: dict):
    """The audit log, newest first: sign-ins, tokens, exports, directory and configuration
    changes, from every service; filter by actor and action."""
    total, entries = audit_store.page(actor=query["actor"], action=query["action"],
                                      number=query["page"], per_page=query["per_page"])
    set_total_count(total)
    return entries


BLUEPRINTS = (blp,)
