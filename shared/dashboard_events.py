"""Events that bring other services' facts to scoring's dashboards, so no page reads
another service's database:

- `review.response` (survey → scoring): a unit's peer-review response for a year, counts
  only (invited, finished, in progress, not started), sent when they change;
- `deadline.status` (notify → scoring): a deadline as it stands (its units, which have
  submitted, or deleted), sent when it changes.
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.schemas import Code, Lenient, Period, StrictInteger

REVIEW_RESPONSE = "review.response"
DEADLINE_STATUS = "deadline.status"

class ReviewResponse(Lenient):
    year = Period(required=True, years_only=True)
    unit = Code(required=True)
    invited = StrictInteger(required=True, validate=validate.Range(min=0))
    finished = StrictInteger(required=True, validate=validate.Range(min=0))
    in_progress = StrictInteger(required=True, validate=validate.Range(min=0))
    not_started = StrictInteger(required=True, validate=validate.Range(min=0))
    at = fields.AwareDateTime(required=True)


class DeadlineStatus(Lenient):
    id = fields.String(required=True, validate=validate.Length(1, 64))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    due_at = fields.AwareDateTime(required=True)
    units = fields.List(fields.String(validate=validate.Length(1, 64)), required=True)
    submitted = fields.List(Code(), load_default=list)
    deleted = fields.Boolean(load_default=False)
    version = StrictInteger(required=True, validate=validate.Range(min=1))


SCHEMAS = {REVIEW_RESPONSE: ReviewResponse(), DEADLINE_STATUS: DeadlineStatus()}
