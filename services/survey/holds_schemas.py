"""Schemas of held ratings: a unit's settings of the rules, the review queue and decisions."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.integrity_events import REASONS, STATES
from shared.schemas import Code, Strict, StrictInteger

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be HH:MM (00:00-23:59)")
MAX_PATTERN = 200
MAX_NOTE = 500


class OpeningHoursIn(Strict):
    days = fields.List(StrictInteger(validate=validate.Range(1, 7)), required=True,
                       validate=validate.Length(1, 7),
                       metadata={"description": "ISO weekdays the counters open: 1 Monday … "
                                                "7 Sunday (Vietnamese public holidays aside)"})
    opens = fields.String(required=True, validate=HHMM, metadata={"example": "07:30"})
    closes = fields.String(required=True, validate=HHMM, metadata={"example": "17:00"})

    @validates_schema
    def _order(self, data: dict, **kwargs) -> None:
        if len(set(data["days"])) != len(data["days"]):
            raise ValidationError("each day once", field_name="days")
        if data["closes"] <= data["opens"]:
            raise ValidationError("must be after opens", field_name="closes")


class RatingBurstIn(Strict):
    limit = StrictInteger(required=True, validate=validate.Range(0, 1000), metadata={
        "description": "ratings of one official (or counter) from one device or address "
                       "counted within the window before more are held; 0: no burst rule"})
    minutes = StrictInteger(required=True, validate=validate.Range(1, 1440))


def _compiles(text: str) -> None:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValidationError(f"is not a regular expression: {exc}") from None


def integrity_fields() -> dict:
    """The unit's settings of the rules (left out of a PUT: kept as stored; null: none)."""
    return {
        "opening_hours": fields.Nested(OpeningHoursIn, allow_none=True, metadata={
            "description": "ratings given outside these hours (15 minutes before opening "
                           "and 30 after closing aside) are held (outside_hours)"}),
        "receipt_format": fields.String(allow_none=True, validate=[
            validate.Length(1, MAX_PATTERN), _compiles], metadata={
            "description": "a regular expression a receipt code must match whole; "
                           "ratings whose code does not are held (receipt_format)"}),
        "rating_burst": fields.Nested(RatingBurstIn, allow_none=True, metadata={
            "description": "the burst rule of this unit's ratings (default: RATING_BURST "
                           "ratings within 30 minutes)"}),
    }


def integrity_out() -> dict:
    return {"opening_hours": fields.Dict(allow_none=True),
            "receipt_format": fields.String(allow_none=True),
            "rating_burst": fields.Dict(allow_none=True)}


class SuspectQuery(Strict):
    unit = Code(required=True, metadata={"description": "a unit in scope; units below it too"})
    period = fields.String(load_default=None, validate=validate.Length(4, 7), metadata={
        "description": "YYYY, YYYY-Qn or YYYY-MM (local time) of given_at; all when left out"})


class SuspectOut(Schema):
    id = fields.String()
    unit = fields.String()
    counter = fields.String()
    counter_label = fields.String(allow_none=True)
    official = fields.String(allow_none=True)
    overall = fields.Integer()
    factors = fields.Dict()
    comment = fields.String(allow_none=True)
    receipt_code = fields.String(allow_none=True)
    submitted_at = fields.AwareDateTime()
    given_at = fields.AwareDateTime()
    reasons = fields.List(fields.String(validate=validate.OneOf(REASONS)))
    burst = fields.String(allow_none=True, metadata={
        "description": "the same opaque id for every rating of one burst"})


class DecisionIn(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "reject"]),
                             metadata={"description": "accept: counts from now on; reject: "
                                                      "never counts"})
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=MAX_NOTE))


class DecisionOut(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": list(STATES)})
    status_version = fields.Integer()


class BurstDecisionOut(Schema):
    decided = fields.List(fields.String(), metadata={
        "description": "the ratings decided: every held, undecided one of the burst in "
                       "your scope"})
