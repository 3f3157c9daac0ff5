"""Request and response schemas of the notify API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.notify import domain
from shared.schemas import CODE, Lenient, Period, Strict, StrictInteger, TrimmedString


class DeadlineIn(Strict):
    title = TrimmedString(required=True, validate=validate.Length(1, 300))
    due_at = fields.AwareDateTime(required=True)
    units = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                        validate=validate.Length(min=1, max=5000),
                        metadata={"description": 'unit codes notify knows (from the '
                                                 'directory), or ["*"] for every unit'})
    remind_before = fields.List(
        fields.String(validate=validate.Length(1, 32)), load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "ISO 8601 durations of at most a year, e.g. P7D; no two "
                                 "of the same length (P7D and P1W are one)"})
    escalate_to = fields.String(load_default=None, allow_none=True, validate=CODE)

    @validates("due_at")
    def _due(self, value, **kwargs) -> None:
        if problem := domain.due_problem(value):
            raise ValidationError(problem)

    @validates("units")
    def _units(self, value: list[str], **kwargs) -> None:
        if "*" in value and len(value) > 1:
            raise ValidationError('use ["*"] alone for every unit')
        for code in value:
            if code != "*":
                CODE(code)
        if len(set(value)) != len(value):
            raise ValidationError("the same unit twice")

    @validates_schema
    def _reminders(self, data: dict, **kwargs) -> None:
        due = data.get("due_at")
        if due is None or domain.due_problem(due):
            return  # the due time's own error says it
        _, problems = domain.reminder_times(due, data.get("remind_before") or [])
        if problems:
            raise ValidationError(problems, "remind_before")


class DeadlineOut(Schema):
    id = fields.String(attribute="_id")
    title = fields.String()
    due_at = fields.AwareDateTime()
    units = fields.List(fields.String())
    remind_before = fields.List(fields.String())
    escalate_to = fields.String(allow_none=True)
    reminders_at = fields.List(fields.String(), metadata={"description": "planned, UTC"})
    submitted = fields.List(fields.String())
    version = fields.Integer()


class SubmissionOut(Schema):
    deadline = fields.String()
    unit = fields.String()
    submitted_at = fields.AwareDateTime()


class NotificationQuery(Strict):
    unit = fields.String(load_default=None, validate=CODE)
    deadline = fields.String(load_default=None, validate=validate.Length(1, 64))
    kind = fields.String(load_default=None, validate=validate.OneOf(
        ["deadline.reminder", "deadline.overdue", "rating.alert", "score.alert", "burst.alert",
         "auth.link", "account.notice", "review.invitation", "review.reminder"]))
    official = fields.String(load_default=None, validate=CODE, metadata={
        "description": "messages to this official (administrators only)"})
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["waiting", "pending", "sent", "failed", "skipped"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class NotificationOut(Schema):
    id = fields.String(attribute="_id")
    kind = fields.String()
    # the unit it is about; for a message to one official, the official's unit (null
    # while notify has not heard of the official)
    unit = fields.String(allow_none=True, dump_default=None)
    official = fields.String(allow_none=True, dump_default=None, metadata={
        "description": "the official a message to one person went to; null for a unit's"})
    # every field of the contract is in every item: null (or empty) rather than absent
    deadline = fields.String(allow_none=True, dump_default=None)
    channel = fields.String()
    recipient = fields.String(allow_none=True, dump_default=None)
    status = fields.String()
    attempts = fields.Integer(dump_default=0)
    errors = fields.List(fields.String(), dump_default=list)
    subject = fields.String(allow_none=True, dump_default=None)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True, dump_default=None)


class CalendarIn(Strict):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class ReviewLinkContext(Lenient):
    """The counts survey sends with a review invitation's or reminder's sign-in link."""

    year = Period(required=True, years_only=True)
    assigned = StrictInteger(required=True, validate=validate.Range(min=0))
    done = StrictInteger(required=True, validate=validate.Range(min=0))
    pending = StrictInteger(required=True, validate=validate.Range(min=0))
    closes_at = fields.AwareDateTime(required=True)
    extra = fields.Boolean(load_default=False)
