"""HTTP API of held ratings: the review queue of a unit, and decisions on one rating or a
whole burst (administrators, and managers of the rating's unit or a unit above it)."""

from __future__ import annotations

import functools

from flask import g
from flask_smorest import Blueprint

from services.survey import holds
from services.survey.context import context
from services.survey.holds_schemas import (
    BurstDecisionOut,
    DecisionIn,
    DecisionOut,
    SuspectOut,
    SuspectQuery,
)
from shared.auth import SECURITY, require, require_unit
from shared.errors import Forbidden, Invalid
from shared.http import check_code
from shared.periods import InvalidPeriod, parse_period

blp = Blueprint("held_ratings", __name__, url_prefix="/api/v1/ratings", description=(
    "Held ratings: every rating is stored, those a rule flags are held out of the scores "
    "until accepted. Reasons: burst (more than RATING_BURST, default 10, ratings of one "
    "official, or counter without one, from one device or address within 30 minutes), "
    "identical_run (the 5th and later of consecutive identical top ratings of one official "
    "from one source, each within 2 minutes), outside_hours (the unit's opening_hours, "
    "Vietnamese holidays closed), receipt_format (the unit's receipt_format), clock_future "
    "(given_at over 5 minutes ahead), clock_stale (given_at over 48 hours old)."))

def managers_only(view):
    """An administrator, or an official who manages a unit (before the body is read: the
    others are refused whatever they send)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = g.principal
        if not principal.is_admin and not context().access.manages(principal.official):
            raise Forbidden("For administrators and the managers of units.", slug="not-allowed")
        return view(*args, **kwargs)

    return wrapper


@blp.get("/suspect")
@require("admin", "official")
@managers_only
@blp.arguments(SuspectQuery(), location="query")
@blp.response(200, SuspectOut(many=True))
@blp.alt_response(403, description="Neither an administrator nor a manager of the unit")
@blp.doc(security=SECURITY)
def list_suspect(query: dict):
    """Held ratings not yet decided, of a unit and the units below it, newest first
    (`period`: given in that period, local time)."""
    require_unit(g.principal, query["unit"])
    start = end = None
    if query["period"]:
        try:
            start, end = parse_period(query["period"]).bounds(context().settings.tz)
        except InvalidPeriod as exc:
            raise Invalid(str(exc), field="period") from None
    return holds.suspect(holds.units_below(query["unit"]), start, end)


@blp.post("/<code:rating_id>/decision")
@require("admin", "official")
@managers_only
@blp.arguments(DecisionIn())
@blp.response(200, DecisionOut)
@blp.alt_response(403, description="Not in your scope (an unknown id too, unless admin)")
@blp.alt_response(404, description="No such rating (administrators)")
@blp.alt_response(409, description="Not held, or decided already")
@blp.doc(security=SECURITY)
def decide_rating(body: dict, rating_id: str):
    """Accept (it counts from now on) or reject (it never counts) a held rating, with an
    optional note; audited."""
    check_code(rating_id, "rating_id")
    return holds.decide(context(), rating_id, body["decision"], body["note"],
                        principal=g.principal)


@blp.post("/bursts/<code:burst>/decision")
@require("admin", "official")
@managers_only
@blp.arguments(DecisionIn())
@blp.response(200, BurstDecisionOut)
@blp.alt_response(403, description="No rating of the burst in your scope")
@blp.alt_response(404, description="No such burst (administrators)")
@blp.alt_response(409, description="Nothing of the burst is held any more")
@blp.doc(security=SECURITY)
def decide_burst(body: dict, burst: str):
    """Accept or reject every held, undecided rating of a burst in your scope; audited."""
    check_code(burst, "burst")
    return {"decided": holds.decide_burst(context(), burst, body["decision"], body["note"],
                                          principal=g.principal)}


BLUEPRINTS = (blp,)
