"""Survey's event handlers: plain functions with explicit dependencies. Its queue carries
the other services' audit records and notify's word that a review invitation or
reminder is due."""

from __future__ import annotations

from services.survey import review_cycle
from services.survey.audit_log import record_audit
from shared import auth_events as auth
from shared import review_events as review
from shared.events import Event


def append_audit(event: Event, *, ctx) -> None:
    """Another service's audited action: appended to the log once."""
    record_audit(event)


def send_review_notices(event: Event, *, ctx) -> None:
    """An invitation or reminder is due: a link to each official concerned, once."""
    review_cycle.on_cycle_due(ctx, event.loaded_data())


HANDLERS = {auth.AUDIT_RECORDED: append_audit, review.CYCLE_DUE: send_review_notices}
