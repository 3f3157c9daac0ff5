"""HTTP API of scoring: officials' and units' scores, the yearly report, the parameters.

Reads go by scope (`shared.auth`): a unit's results to an administrator or a manager of
that unit or of one above it; an official's score also to that official. The scope is
checked before anything is looked up, so a caller out of scope gets 403 for a code that
exists and for one that does not alike: only those in scope can tell a 404. Report
exports, configuration changes and publishing holds are audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, g
from flask_smorest import Blueprint

from services.scoring import reports
from services.scoring.documents import database
from services.scoring.domain import ScoringConfig
from services.scoring.schemas import (
    ConfigIn,
    ConfigOut,
    HoldIn,
    HoldOut,
    OfficialScoreOut,
    PeriodQuery,
    StatusOut,
    UnitScoreOut,
    YearQuery,
)
from services.scoring.scores import hold, publishing_state, read_official, read_unit
from shared import audit, metrics, topology
from shared.auth import SECURITY, access_store, require, require_official, require_unit
from shared.http import runtime_of
from shared.periods import current_year

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

scores = Blueprint("scores", __name__, url_prefix="/api/v1",
                   description="Conduct scores of officials and units, reports, parameters")


def scoring_context():
    return current_app.extensions["scoring"]


def _period(query: dict) -> str:
    return query["period"] or str(current_year(scoring_context().settings.tz))


def _audit(action: str, target: str | None, **details) -> None:
    """Record what the caller just did (it reaches survey's audit log through the outbox)."""
    audit.record_via_outbox(database(), scoring_context().audit_relay,
                            audit.request_entry("scoring", action, target=target,
                                                details=details))


def _official_unit(code: str) -> str | None:
    """The official's unit as this service's access copy knows it (None: unknown)."""
    known = access_store().official(code)
    return known["unit"] if known else None


OUT_OF_SCOPE = "Out of the caller's scope (also for a code that does not exist)"
UNKNOWN_UNIT = "Unknown unit (to those who may read it)"


@scores.get("/scores/officials/<code:code>")
@require("signed-in")
@scores.arguments(PeriodQuery(), location="query")
@scores.response(200, OfficialScoreOut)
@scores.alt_response(403, description=OUT_OF_SCOPE)
@scores.alt_response(404, description="Unknown official (to those who may read it)")
@scores.doc(security=SECURITY)
def get_official_score(query: dict, code: str):
    """The conduct score of an official for a period: for an administrator, a manager in
    scope of the official's unit, or the official. The peer results of the period's year
    (criteria, index, their part of the conduct index) are given to everyone only once
    the year's review window has closed; until then `peer.count` alone. Held ratings
    (suspected stuffing, awaiting a decision) are in `citizen.suspect` only, never in the
    score, until accepted; rejected ones are in no figure."""
    if not g.principal.is_admin and g.principal.official != code:
        require_official(g.principal, code, _official_unit(code))
    ctx = scoring_context()
    return read_official(ctx.store, code, _period(query), ctx.settings.tz)


@scores.get("/scores/units/<code:code>")
@require("signed-in")
@scores.arguments(PeriodQuery(), location="query")
@scores.response(200, UnitScoreOut)
@scores.alt_response(403, description=OUT_OF_SCOPE)
@scores.alt_response(404, description=UNKNOWN_UNIT)
@scores.doc(security=SECURITY)
def get_unit_score(query: dict, code: str):
    """A unit's citizen results (rolled up over its units), its officials ranked: for an
    administrator or a manager of the unit or of a unit above it. Held ratings are in
    `citizen.suspect` only (`citizen`: of the units below too), never in the figures,
    until accepted; rejected ones are in no figure."""
    require_unit(g.principal, code)
    ctx = scoring_context()
    return read_unit(ctx.store, code, _period(query), ctx.settings.tz)


REPORTS = {"csv": ("text/csv", reports.to_csv), "xlsx": (XLSX, reports.to_xlsx)}


def _report(query: dict, code: str, kind: str) -> Response:
    require_unit(g.principal, code)
    ctx = scoring_context()
    view = read_unit(ctx.store, code, _period(query), ctx.settings.tz)
    mimetype, render = REPORTS[kind]
    body = render(view)
    _audit("report_exported", f"units/{code}", unit=code, period=view["period"], format=kind)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition":
                    f'attachment; filename="bao-cao-{code}-{view["period"]}.{kind}"'})


@scores.get("/reports/units/<code:code>.csv")
@require("signed-in")
@scores.arguments(YearQuery(), location="query")
@scores.response(200, content_type="text/csv", description="The yearly report, UTF-8")
@scores.alt_response(403, description=OUT_OF_SCOPE)
@scores.alt_response(404, description=UNKNOWN_UNIT)
@scores.doc(security=SECURITY)
def get_report_csv(query: dict, code: str):
    """The unit's yearly report as CSV (UTF-8 with BOM), Vietnamese headings: for an
    administrator or a manager in scope; every export is audited."""
    return _report(query, code, "csv")


@scores.get("/reports/units/<code:code>.xlsx")
@require("signed-in")
@scores.arguments(YearQuery(), location="query")
@scores.response(200, content_type=XLSX, description="The yearly report as an Excel workbook")
@scores.alt_response(403, description=OUT_OF_SCOPE)
@scores.alt_response(404, description=UNKNOWN_UNIT)
@scores.doc(security=SECURITY)
def get_report_xlsx(query: dict, code: str):
    """The unit's yearly report as XLSX, with number formats and column widths: for an
    administrator or a manager in scope; every export is audited."""
    return _report(query, code, "xlsx")


@scores.get("/scoring/config")
@require("admin")
@scores.response(200, ConfigOut)
@scores.doc(security=SECURITY)
def get_config():
    """The parameters of the score."""
    store = scoring_context().store
    cfg, version = store.config()
    return {**cfg.to_dict(), "version": version, "recomputing": store.dirty_count() > 0}


@scores.put("/scoring/config")
@require("admin")
@scores.arguments(ConfigIn())
@scores.response(200, ConfigOut)
@scores.doc(security=SECURITY)
def put_config(body: dict):
    """Change the parameters; every score is recomputed (reads use them at once). Audited
    with the old and new values."""
    cfg = ScoringConfig(**body)
    ctx = scoring_context()
    old, _ = ctx.store.config()
    version = ctx.store.save_config(cfg)
    _audit("config_changed", "scoring/config", old=old.to_dict(),
           new=cfg.to_dict(), version=version)
    ctx.refresher.scan_soon()
    return {**cfg.to_dict(), "version": version, "recomputing": True}


@scores.get("/scoring/status")
@require("admin")
@scores.response(200, StatusOut)
@scores.doc(security=SECURITY)
def get_status():
    """Is scoring caught up? (deliveries in hand, scores waiting to be recomputed)"""
    ctx = scoring_context()
    if runtime_of(current_app).is_running("scoring.consumer"):
        ready, inflight = bool(ctx.consumer.ready), ctx.consumer.inflight
    else:
        # several workers, and the consumer runs in another one: ask the shared metrics
        queue = topology.queue_for("scoring").name
        connected = metrics.process_total("congso_consumer_connected", queue=queue)
        ready = bool(connected)
        inflight = int(metrics.process_total("congso_consumer_inflight", queue=queue) or 0)
    return {"consumer_ready": ready, "inflight": inflight,
            "pending_recomputes": ctx.store.dirty_count(),
            **publishing_state(ctx.store, datetime.now(UTC))}


@scores.put("/scoring/hold")
@require("admin")
@scores.arguments(HoldIn())
@scores.response(200, HoldOut)
@scores.doc(security=SECURITY)
def put_hold(body: dict):
    """Hold `score.updated` for a while (a rebuild): scores are still read live from the
    data, while the stored ones (the events, the dashboards' home page) are derived once
    when the hold ends (or runs out), and each one changed is published once, at its
    final value. Audited."""
    until = hold(scoring_context().store, body["seconds"])
    _audit("publishing_held", "scoring/hold", seconds=body["seconds"],
           until=until.isoformat())
    return {"publishing_held_until": until}


@scores.delete("/scoring/hold")
@require("admin")
@scores.response(204)
@scores.doc(security=SECURITY)
def delete_hold():
    """End the hold now: what changed meanwhile is published. Audited."""
    ctx = scoring_context()
    now = datetime.now(UTC)
    was = ctx.store.hold_end()
    ctx.store.release_publishing(now)
    ctx.refresher.scan_soon()  # derive what the hold kept back, now
    _audit("publishing_resumed", "scoring/hold",
           held_until=was.isoformat() if was and was > now else None)


BLUEPRINTS = (scores,)
