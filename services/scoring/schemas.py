"""Request and response schemas of the scoring API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.scoring.domain import MIN_PEER_REVIEWERS
from shared.schemas import Period, Strict, StrictInteger


class PeriodQuery(Strict):
    period = Period(load_default=None,
                    metadata={"description": "YYYY, YYYY-Qn or YYYY-MM; default: this year"})


class YearQuery(Strict):
    period = Period(years_only=True, load_default=None,
                    metadata={"description": "YYYY; default: this year"})


Number = fields.Float(allow_none=True)


HELD_RULES = (
    "Survey holds a rating that looks stuffed (reasons: burst, by default more than 10 "
    "ratings of one official, or of one counter without an official, from one device or "
    "address within 30 minutes; outside_hours; receipt_format; identical_run; clock_future; "
    "clock_stale) until an administrator or a manager in scope accepts or rejects it")


class CitizenOut(Schema):
    """Citizen ratings of the period. Only ratings that count are in the figures: counted
    ones and held ones since accepted; held ratings are in `suspect` alone, rejected ones
    nowhere."""

    count = fields.Integer(metadata={
        "description": "ratings that count: counted, or held then accepted (not held, not "
                       "rejected)"})
    suspect = fields.Integer(metadata={
        "description": "held ratings of the period awaiting a decision, in no other figure. "
                       f"{HELD_RULES}: accepted, it counts from then on; rejected, never"})
    mean = fields.Float(allow_none=True)
    satisfaction_rate = fields.Float(allow_none=True)
    factors = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    index = fields.Float(allow_none=True)


PUBLISHED = ("null until the year's review window has closed (a year without one: its "
             "end) and below min_peer_reviewers reviewers")


class PeerOut(Schema):
    count = fields.Integer(metadata={"description": "reviewers of the period's year"})
    criteria = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                           allow_none=True, metadata={"description": f"means; {PUBLISHED}"})
    index = fields.Float(allow_none=True, metadata={"description": PUBLISHED})


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


class ConfigIn(Strict):
    """The parameters of the score, with every limit they have (the one place for them)."""

    citizen_weight = fields.Float(required=True, validate=validate.Range(min=0),
                                  allow_nan=False)
    peer_weight = fields.Float(required=True, validate=validate.Range(min=0), allow_nan=False)
    prior_weight = fields.Float(required=True, validate=validate.Range(min=0, max=1e6),
                                allow_nan=False)
    prior_rate = fields.Float(required=True, validate=validate.Range(min=0, max=1),
                              allow_nan=False)
    min_peer_reviewers = StrictInteger(
        required=True, validate=validate.Range(min=MIN_PEER_REVIEWERS, max=1000),
        metadata={"description": "peer results are hidden below this many reviewers "
                                 f"(at least {MIN_PEER_REVIEWERS})"})

    @validates_schema
    def _some_weight(self, data: dict, **kwargs) -> None:
        if data.get("citizen_weight") == 0 and data.get("peer_weight") == 0:
            raise ValidationError("weights cannot both be 0", "citizen_weight")


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
        "description": "a hold ended (or ran out) and some score changed before its end is "
                       "not derived (and queued for publishing) yet"})


class HoldIn(Strict):
    seconds = StrictInteger(required=True, validate=validate.Range(min=1, max=86400),
                            metadata={"description": "the hold ends by itself after this"})


class HoldOut(Schema):
    publishing_held_until = fields.AwareDateTime()
