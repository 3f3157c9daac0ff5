"""Request and response schemas of the survey API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.schemas import (
    CRITERIA,
    FACTORS,
    SCORE_1_5,
    Code,
    EmailList,
    Name,
    Strict,
    StrictInteger,
    TrimmedString,
    score_map_schema,
    unique_emails,
)

RECEIPT = validate.Regexp(r"^[\w./:-]{1,64}$",
                          error="must be 1-64 letters, digits or . / : - _")
MAX_TEXT = 1000  # a citizen's comment, a colleague's review comment


FactorsIn = score_map_schema(FACTORS, required=False, strict=True, allow_none=True,
                             name="FactorsIn")
CriteriaIn = score_map_schema(CRITERIA, required=True, strict=True, name="CriteriaIn")


class RatingIn(Strict):
    counter_token = fields.String(required=True, validate=validate.Length(1, 128))
    official = Code(load_default=None, allow_none=True)
    overall = StrictInteger(required=True, validate=SCORE_1_5,
                            metadata={"description": "1 Rất không hài lòng … 5 Rất hài lòng"})
    factors = fields.Nested(FactorsIn, load_default=dict, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_TEXT))
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


class UnitIn(Strict):
    """A unit, from the API or from a row of the import (the same rules for both)."""

    name = Name()
    parent = Code(load_default=None, allow_none=True)
    emails = EmailList()
    webhook_url = fields.Url(load_default=None, allow_none=True, require_tld=False,
                             schemes={"http", "https"})

    @post_load
    def _unique(self, data: dict, **kwargs) -> dict:
        data["emails"] = unique_emails(data["emails"])
        return data


class UnitOut(Schema):
    code = fields.String()
    name = fields.String()
    parent = fields.String(allow_none=True)
    emails = fields.List(fields.String())
    webhook_url = fields.String(allow_none=True)
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class OfficialIn(Strict):
    """An official, from the API or from a row of the import (the same rules for both)."""

    full_name = Name()
    unit = Code(required=True)
    position = Name(required=False, load_default=None, allow_none=True)
    active = fields.Boolean(load_default=True)


class OfficialOut(Schema):
    code = fields.String()
    full_name = fields.String()
    unit = fields.String()
    position = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class CounterIn(Strict):
    unit = Code(required=True)
    label = Name(max_length=200)
    officials = fields.List(Code(), load_default=list, validate=validate.Length(max=100))


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


class ReviewWindowIn(Strict):
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


class PeerReviewIn(Strict):
    scores = fields.Nested(CriteriaIn, required=True)
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_TEXT))


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


class UnitFilter(Strict):
    unit = Code(load_default=None)


class ReplayIn(Strict):
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
