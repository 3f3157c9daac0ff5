"""Request and response schemas of the scoring API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.periods import InvalidPeriod, parse_period
from shared.schemas import StrictInteger


def _valid_period(value: str) -> None:
    try:
        parse_period(value)
    except InvalidPeriod as exc:
        raise ValidationError(str(exc)) from None


def _valid_year(value: str) -> None:
    _valid_period(value)
    if parse_period(value).kind != "year":
        raise ValidationError("the yearly report takes a year: YYYY")


class PeriodQuery(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(load_default=None, validate=_valid_period,
                           metadata={"description": "YYYY, YYYY-Qn or YYYY-MM; default: this year"})


class YearQuery(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(load_default=None, validate=_valid_year,
                           metadata={"description": "YYYY; default: this year"})


Number = fields.Float(allow_none=True)


class CitizenOut(Schema):
    count = fields.Integer()
    mean = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    factors = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    index = fields.Float(allow_none=True)


class PeerOut(Schema):
    count = fields.Integer()
    criteria = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                           allow_none=True)
    index = fields.Float(allow_none=True)


class OfficialScoreOut(Schema):
    official = fields.String()
    full_name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    period = fields.String()
    citizen = fields.Nested(CitizenOut)
    peer = fields.Nested(PeerOut)
    conduct_index = fields.Float(allow_none=True)
    general_points = fields.Float(allow_none=True)
    band = fields.String(allow_none=True)
    band_label = fields.String(allow_none=True)
    reference = fields.String(metadata={"description": "the band is a reference (tham khảo)"})


class BandsOut(Schema):
    officials = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    shares = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    xuat_sac_share_of_good = fields.Float(allow_none=True)
    xuat_sac_over_cap = fields.Boolean(
        metadata={"description": "xuat_sac above 20% of those at tot or better"})


class UnitScoreOut(Schema):
    unit = fields.String()
    name = fields.String(allow_none=True)
    parent = fields.String(allow_none=True)
    period = fields.String()
    citizen = fields.Nested(CitizenOut, metadata={"description": "with the units below"})
    citizen_own = fields.Nested(CitizenOut, metadata={"description": "this unit's counters"})
    officials = fields.List(fields.Nested(OfficialScoreOut),
                            metadata={"description": "by conduct_index desc, nulls last"})
    children = fields.List(fields.String())
    bands = fields.Nested(BandsOut)
    band_labels = fields.Dict(keys=fields.String(), values=fields.String())
    reference = fields.String()


class ConfigIn(Schema):
    class Meta:
        unknown = RAISE

    citizen_weight = fields.Float(required=True, validate=validate.Range(min=0),
                                  allow_nan=False)
    peer_weight = fields.Float(required=True, validate=validate.Range(min=0), allow_nan=False)
    prior_weight = fields.Float(required=True, validate=validate.Range(min=0, max=1e6),
                                allow_nan=False)
    prior_rate = fields.Float(required=True, validate=validate.Range(min=0, max=1),
                              allow_nan=False)
    min_peer_reviewers = StrictInteger(required=True, validate=validate.Range(min=1, max=1000))


class ConfigOut(Schema):
    citizen_weight = fields.Float()
    peer_weight = fields.Float()
    prior_weight = fields.Float()
    prior_rate = fields.Float()
    min_peer_reviewers = fields.Integer()
    version = fields.Integer()
    recomputing = fields.Boolean()


class StatusOut(Schema):
    consumer_ready = fields.Boolean()
    inflight = fields.Integer(metadata={"description": "deliveries received, not yet settled"})
    pending_recomputes = fields.Integer(
        metadata={"description": "buckets changed whose scores are not derived yet"})
    publishing_held_until = fields.AwareDateTime(allow_none=True)
    catching_up_after_hold = fields.Boolean(metadata={
        "description": "a hold ended and the scores changed during it are not all derived "
                       "(and queued for publishing) yet"})


class HoldIn(Schema):
    class Meta:
        unknown = RAISE

    seconds = StrictInteger(required=True, validate=validate.Range(min=1, max=86400),
                            metadata={"description": "the hold ends by itself after this"})


class HoldOut(Schema):
    publishing_held_until = fields.AwareDateTime()
