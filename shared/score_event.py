"""The `score.updated` event's data, typed: scoring validates what it publishes against
it, and notify loads it into a `ScoreChange` at its edge, so renaming a figure in scoring
fails loudly at both ends instead of silently stopping notify's alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from shared.schemas import CRITERIA, FACTORS, Code, Lenient, Period, StrictInteger

Figure = fields.Float(allow_none=True, load_default=None)


@dataclass(frozen=True)
class CitizenFigures:
    count: int
    mean: float | None
    satisfaction_rate: float | None
    index: float | None
    factors: dict[str, float | None]
    suspect: int = 0  # held ratings awaiting a decision, in no other figure


@dataclass(frozen=True)
class PeerFigures:
    count: int
    criteria: dict[str, float | None] | None
    index: float | None


@dataclass(frozen=True)
class ScoreChange:
    """A changed score, as notify reads it: an official's, or a unit's citizen results."""

    scope: str  # "official" or "unit"
    official: str | None
    unit: str | None
    period: str
    citizen: CitizenFigures
    peer: PeerFigures | None
    conduct_index: float | None
    band: str | None
    computed_at: datetime
    figures: dict = field(compare=False, repr=False)  # the score as published (JSON form)


class CitizenFiguresSchema(Lenient):
    count = StrictInteger(required=True, validate=validate.Range(min=0))
    mean = fields.Float(required=True, allow_none=True)
    satisfaction_rate = fields.Float(required=True, allow_none=True)
    index = fields.Float(required=True, allow_none=True)
    factors = fields.Dict(keys=fields.String(validate=validate.OneOf(FACTORS)),
                          values=fields.Float(allow_none=True), load_default=dict)
    # held ratings of the period (not in `count` nor any other figure); 0 in events
    # published before ratings were held
    suspect = StrictInteger(load_default=0, validate=validate.Range(min=0))

    @post_load
    def _make(self, data: dict, **kwargs) -> CitizenFigures:
        return CitizenFigures(**data)


class PeerFiguresSchema(Lenient):
    count = StrictInteger(required=True, validate=validate.Range(min=0))
    criteria = fields.Dict(keys=fields.String(validate=validate.OneOf(CRITERIA)),
                           values=fields.Float(allow_none=True), required=True, allow_none=True)
    index = fields.Float(required=True, allow_none=True)

    @post_load
    def _make(self, data: dict, **kwargs) -> PeerFigures:
        return PeerFigures(**data)


class ScoreFigures(Lenient):
    citizen = fields.Nested(CitizenFiguresSchema, required=True)
    peer = fields.Nested(PeerFiguresSchema, load_default=None)
    conduct_index = Figure
    general_points = Figure
    band = fields.String(load_default=None, allow_none=True)
    band_label = fields.String(load_default=None, allow_none=True)


class ScoreUpdated(Lenient):
    # scope "official": an official's score; "unit": a unit's (rolled-up) citizen results
    scope = fields.String(required=True, validate=validate.OneOf(["official", "unit"]))
    official = Code(load_default=None, allow_none=True)
    unit = Code(load_default=None, allow_none=True)
    period = Period(required=True)
    score = fields.Nested(ScoreFigures, required=True)
    computed_at = fields.AwareDateTime(required=True)

    @validates_schema
    def _scope(self, data: dict, **kwargs) -> None:
        if data.get("scope") == "official":
            if not data.get("official"):
                raise ValidationError("an official's score names the official", "official")
            if data["score"].get("peer") is None:
                raise ValidationError("an official's score has its peer part", "score")
        elif data.get("scope") == "unit" and not data.get("unit"):
            raise ValidationError("a unit's score names the unit", "unit")

    @post_load
    def _make(self, data: dict, **kwargs) -> ScoreChange:
        score = data["score"]
        return ScoreChange(
            scope=data["scope"], official=data.get("official"), unit=data.get("unit"),
            period=data["period"], citizen=score["citizen"], peer=score.get("peer"),
            conduct_index=score.get("conduct_index"), band=score.get("band"),
            computed_at=data["computed_at"], figures=self.context_free_dump(score))

    @staticmethod
    def context_free_dump(score: dict) -> dict:
        def plain(value):
            if isinstance(value, CitizenFigures | PeerFigures):
                return {k: plain(v) for k, v in value.__dict__.items()}
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return plain(score)
