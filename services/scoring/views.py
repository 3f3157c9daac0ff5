"""HTTP API of scoring: officials' and units' scores, the yearly report, the parameters."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app
from flask_smorest import Blueprint

from services.scoring import reports
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
from shared import metrics, topology
from shared.auth import SECURITY, require
from shared.http import runtime_of
from shared.periods import current_year

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

scores = Blueprint("scores", __name__, url_prefix="/api/v1",
                   description="Conduct scores of officials and units, reports, parameters")


def scoring_context():
    return current_app.extensions["scoring"]


def _period(query: dict) -> str:
    return query["period"] or str(current_year(scoring_context().settings.tz))


@scores.get("/scores/officials/<code:code>")
@require("admin")
@scores.arguments(PeriodQuery(), location="query")
@scores.response(200, OfficialScoreOut)
@scores.alt_response(404, description="Unknown official")
@scores.doc(security=SECURITY)
def get_official_score(query: dict, code: str):
    """The conduct score of an official for a period."""
    return read_official(scoring_context().store, code, _period(query))


@scores.get("/scores/units/<code:code>")
@require("admin")
@scores.arguments(PeriodQuery(), location="query")
@scores.response(200, UnitScoreOut)
@scores.alt_response(404, description="Unknown unit")
@scores.doc(security=SECURITY)
def get_unit_score(query: dict, code: str):
    """A unit's citizen results (rolled up over its units), its officials ranked."""
    return read_unit(scoring_context().store, code, _period(query))


REPORTS = {"csv": ("text/csv", reports.to_csv), "xlsx": (XLSX, reports.to_xlsx)}


def _report(query: dict, code: str, kind: str) -> Response:
    view = read_unit(scoring_context().store, code, _period(query))
    mimetype, render = REPORTS[kind]
    return Response(render(view), mimetype=mimetype, headers={"Content-Disposition":
                    f'attachment; filename="bao-cao-{code}-{view["period"]}.{kind}"'})


@scores.get("/reports/units/<code:code>.csv")
@require("admin")
@scores.arguments(YearQuery(), location="query")
@scores.response(200, content_type="text/csv", description="The yearly report, UTF-8")
@scores.doc(security=SECURITY)
def get_report_csv(query: dict, code: str):
    """The unit's yearly report as CSV (UTF-8 with BOM), Vietnamese headings."""
    return _report(query, code, "csv")


@scores.get("/reports/units/<code:code>.xlsx")
@require("admin")
@scores.arguments(YearQuery(), location="query")
@scores.response(200, content_type=XLSX, description="The yearly report as an Excel workbook")
@scores.doc(security=SECURITY)
def get_report_xlsx(query: dict, code: str):
    """The unit's yearly report as XLSX, with number formats and column widths."""
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
    """Change the parameters; every score is recomputed (reads use them at once)."""
    cfg = ScoringConfig(**body)
    ctx = scoring_context()
    version = ctx.store.save_config(cfg)
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
    """Hold `score.updated` for a while (a rebuild): scores are still derived and read
    live, and every score changed meanwhile is published once, at its final value, when
    the hold ends (or runs out)."""
    return {"publishing_held_until": hold(scoring_context().store, body["seconds"])}


@scores.delete("/scoring/hold")
@require("admin")
@scores.response(204)
@scores.doc(security=SECURITY)
def delete_hold():
    """End the hold now: what changed meanwhile is published."""
    scoring_context().store.release_publishing(datetime.now(UTC))


BLUEPRINTS = (scores,)
