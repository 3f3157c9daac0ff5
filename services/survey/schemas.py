"""Request and response schemas of the survey API."""

from __future__ import annotations

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from shared.schemas import CODE, SCORE_1_5, StrictInteger, TrimmedString

RECEIPT = validate.Regexp(r"^[\w./:-]{1,64}$",
                          error="must be 1-64 letters, digits or . / : - _")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class FactorsIn(StrictSchema):
    access = StrictInteger(allow_none=True, validate=SCORE_1_5)
    procedure = StrictInteger(allow_none=True, validate=SCORE_1_5)
    official = StrictInteger(allow_none=True, validate=SCORE_1_5)
    result = StrictInteger(allow_none=True, validate=SCORE_1_5)
    feedback = StrictInteger(allow_none=True, validate=SCORE_1_5)


class RatingIn(StrictSchema):
    counter_token = fields.String(required=True, validate=validate.Length(1, 128))
    official = fields.String(load_default=None, allow_none=True, validate=CODE)
    overall = StrictInteger(required=True, validate=SCORE_1_5,
                            metadata={"description": "1 Rất không hài lòng … 5 Rất hài lòng"})
    factors = fields.Nested(FactorsIn, load_default=dict, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=1000))
    # trimmed (a phone keyboard adds a space after a word); blank means no receipt
    receipt_code = TrimmedString(load_default=None, allow_none=True,
                                 validate=lambda code: code == "" or RECEIPT(code))
    client_id = fields.UUID(required=True,
                            metadata={"description": "chosen by the client; retries reuse it"})

    @post_load
    def _normalise(self, data: dict, **kwargs) -> dict:
        data["factors"] = {k: v for k, v in (data.get("factors") or {}).items() if v is not None}
        comment = (data.get("comment") or "").strip()
        data["comment"] = comment or None
        data["receipt_code"] = data.get("receipt_code") or None
        data["client_id"] = str(data["client_id"])
        return data


class RatingOut(Schema):
    id = fields.String(required=True)


class UnitIn(StrictSchema):
    name = TrimmedString(required=True, validate=validate.Length(1, 300))
    parent = fields.String(load_default=None, allow_none=True, validate=CODE)
    emails = fields.List(fields.Email(), load_default=list, validate=validate.Length(max=20))
    webhook_url = fields.Url(load_default=None, allow_none=True, require_tld=False,
                             schemes={"http", "https"})

    @post_load
    def _strip(self, data: dict, **kwargs) -> dict:
        data["emails"] = list(dict.fromkeys(e.strip().lower() for e in data["emails"]))
        return data


class UnitOut(Schema):
    code = fields.String()
    name = fields.String()
    parent = fields.String(allow_none=True)
    emails = fields.List(fields.String())
    webhook_url = fields.String(allow_none=True)
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class OfficialIn(StrictSchema):
    full_name = TrimmedString(required=True, validate=validate.Length(1, 300))
    unit = fields.String(required=True, validate=CODE)
    position = TrimmedString(load_default=None, allow_none=True,
                             validate=validate.Length(max=300))
    active = fields.Boolean(load_default=True)


class OfficialOut(Schema):
    code = fields.String()
    full_name = fields.String()
    unit = fields.String()
    position = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class CounterIn(StrictSchema):
    unit = fields.String(required=True, validate=CODE)
    label = TrimmedString(required=True, validate=validate.Length(1, 200))
    officials = fields.List(fields.String(validate=CODE), load_default=list,
                            validate=validate.Length(max=100))


class CounterOut(Schema):
    code = fields.String()
    unit = fields.String()
    label = fields.String()
    officials = fields.List(fields.String())
    kiosk_url = fields.String()
    token = fields.String()
    version = fields.Integer()


class TokenOut(Schema):
    official = fields.String()
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})


class RevokedOut(Schema):
    official = fields.String()
    revoked = fields.Integer()


class ImportOut(Schema):
    created = fields.Integer()
    updated = fields.Integer()


class ReviewWindowIn(StrictSchema):
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)

    @validates_schema
    def _order(self, data: dict, **kwargs) -> None:
        if data["closes_at"] <= data["opens_at"]:
            raise ValidationError("must be after opens_at", field_name="closes_at")


class ReviewWindowOut(Schema):
    period = fields.String()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()


class CriteriaIn(StrictSchema):
    discipline = StrictInteger(required=True, validate=SCORE_1_5)
    conduct = StrictInteger(required=True, validate=SCORE_1_5)
    ethics = StrictInteger(required=True, validate=SCORE_1_5)
    dress = StrictInteger(required=True, validate=SCORE_1_5)
    participation = StrictInteger(required=True, validate=SCORE_1_5)


class PeerReviewIn(StrictSchema):
    scores = fields.Nested(CriteriaIn, required=True)
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=1000))


class PeerReviewOut(Schema):
    period = fields.String()
    reviewee = fields.String()
    scores = fields.Dict(keys=fields.String(), values=fields.Integer())
    comment = fields.String(allow_none=True)
    revision = fields.Integer()
    submitted_at = fields.AwareDateTime()


class AssignmentOut(Schema):
    official = fields.String()
    full_name = fields.String()
    status = fields.String(metadata={"enum": ["pending", "done"]})


class UnitFilter(StrictSchema):
    unit = fields.String(load_default=None, validate=CODE)


class ReplayIn(StrictSchema):
    target = fields.String(required=True, validate=validate.OneOf(["scoring", "notify"]))


class ReplayOut(Schema):
    id = fields.String(attribute="_id")
    target = fields.String()
    status = fields.String(metadata={"enum": ["running", "done", "failed"]})
    published = fields.Integer()
    failed_attempts = fields.Integer()
    error = fields.String(allow_none=True)
    started_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
