"""Events of the yearly peer-review cycle.

- `review_window.set` (survey → scoring, notify): a year's window was set or changed.
  Scoring publishes a year's peer results only once it has closed; notify schedules the
  invitations at `opens_at` and the reminders at `closes_at − remind_before`.
- `review.cycle_due` (notify → survey): the time of an invitation or a reminder has come.
  Survey, which alone knows who has colleagues to review and who has finished, mints a
  sign-in link for each official concerned and asks notify to send it
  (`auth.link_requested` with the purpose and the counts), once per (year, official,
  kind, offset).
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.schemas import Lenient, Period, StrictInteger

WINDOW_SET = "review_window.set"
CYCLE_DUE = "review.cycle_due"
KINDS = ("invitation", "reminder")


class ReviewWindowSet(Lenient):
    year = Period(required=True, years_only=True)
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    remind_before = fields.List(fields.String(validate=validate.Length(1, 40)),
                                load_default=list, validate=validate.Length(max=20))
    version = StrictInteger(required=True, validate=validate.Range(min=1))


class ReviewCycleDue(Lenient):
    year = Period(required=True, years_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    offset = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(1, 40))
    # the window as notify knew it: survey ignores a time planned for an older window
    window_version = StrictInteger(required=True, validate=validate.Range(min=1))
    due_at = fields.AwareDateTime(required=True)

    @validates_schema
    def _offset(self, data: dict, **kwargs) -> None:
        if data.get("kind") == "reminder" and not data.get("offset"):
            raise ValidationError("a reminder names its offset", "offset")


SCHEMAS = {WINDOW_SET: ReviewWindowSet(), CYCLE_DUE: ReviewCycleDue()}
