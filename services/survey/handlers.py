"""Survey's event handlers (its queue carries the other services' audit records)."""

from __future__ import annotations

from services.survey.audit_log import record_audit
from shared import auth_events as auth

HANDLERS = {auth.AUDIT_RECORDED: record_audit}
