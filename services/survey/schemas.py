"""Request and response schemas of the survey API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from services.survey.domain import local_path
from services.survey.holds_schemas import integrity_fields, integrity_out
from shared.config import MAX_PACK, REPLAY_PACK
from shared.schemas import (
    CRITERIA,
    FACTORS,
    SCORE_1_5,
    Code,
    Email,
    EmailList,
    Name,
    Strict,
    StrictInteger,
    TrimmedString,
    score_map_schema,
    unique_emails,
)

MAX_MANAGERS = 50
MAX_REMINDERS = 20  # a review window's reminders
ROLES = ("admin",)


def CodeList(*, max_length: int, **kwargs) -> fields.List:
    return fields.List(Code(), load_default=list, validate=validate.Length(max=max_length),
                       **kwargs)


RECEIPT = validate.Regexp(r"^[\w./:-]{1,64}$",
                          error="must be 1-64 letters, digits or . / : - _")
MAX_TEXT = 1000  # a citizen's comment, a colleague's review comment
MAX_DEVICES = 20  # kiosk tablets at one counter
DEVICE = validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error="must be 1-64 letters, digits or . - _")


def _receipt(code: str) -> None:
    if code != "" and not any(c.isalnum() for c in RECEIPT(code)):
        raise ValidationError("must have a letter or a digit")


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
    receipt_code = TrimmedString(load_default=None, allow_none=True, validate=_receipt)
    client_id = fields.UUID(required=True,
                            metadata={"description": "chosen by the client; retries reuse it"})
    given_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "when the citizen gave it (else: when it arrives)"})
    device = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64),
                           metadata={"description": "a kiosk tablet's id (counter `devices`)"})

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


_UNIT_RULES, _UNIT_RULES_OUT = integrity_fields(), integrity_out()


class UnitIn(Strict):
    """A unit, from the API or from a row of the import (the same rules for both). The
    settings of held ratings left out are kept as stored (null removes one)."""

    name = Name()
    parent = Code(load_default=None, allow_none=True)
    emails = EmailList()
    webhook_url = fields.Url(load_default=None, allow_none=True, require_tld=False,
                             schemes={"http", "https"})
    managers = CodeList(max_length=MAX_MANAGERS, metadata={
        "description": "officials in scope of this unit and every unit below it"})
    opening_hours, receipt_format, rating_burst = _UNIT_RULES.values()

    @post_load
    def _unique(self, data: dict, **kwargs) -> dict:
        data["emails"] = unique_emails(data["emails"])
        data["managers"] = list(dict.fromkeys(data["managers"]))
        return data


class UnitOut(Schema):
    code = fields.String()
    name = fields.String()
    parent = fields.String(allow_none=True)
    emails = fields.List(fields.String())
    webhook_url = fields.String(allow_none=True)
    managers = fields.List(fields.String())
    opening_hours, receipt_format, rating_burst = _UNIT_RULES_OUT.values()
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class OfficialIn(Strict):
    """An official, from the API or from a row of the import (the same rules for both)."""

    full_name = Name()
    unit = Code(required=True)
    position = Name(required=False, load_default=None, allow_none=True)
    active = fields.Boolean(load_default=True)
    email = Email(load_default=None, allow_none=True, metadata={
        "description": "where sign-in links go; unique among officials (any case)"})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=list,
                        validate=validate.Length(max=10))

    @post_load
    def _unique(self, data: dict, **kwargs) -> dict:
        data["roles"] = sorted(set(data["roles"]))
        return data


class OfficialOut(Schema):
    code = fields.String()
    full_name = fields.String()
    unit = fields.String()
    position = fields.String(allow_none=True)
    active = fields.Boolean()
    email = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    version = fields.Integer()
    updated_at = fields.AwareDateTime()


class CounterIn(Strict):
    unit = Code(required=True)
    label = Name(max_length=200)
    officials = CodeList(max_length=100)
    devices = fields.List(fields.String(validate=DEVICE), load_default=list,
                          validate=validate.Length(max=MAX_DEVICES), metadata={
        "description": "this counter's kiosk tablets (`?kiosk=1&device=ID`)"})


class CounterOut(Schema):
    code = fields.String()
    unit = fields.String()
    label = fields.String()
    officials = fields.List(fields.String())
    devices = fields.List(fields.String())
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
    remind_before = fields.List(
        fields.String(validate=validate.Length(1, 40)), load_default=list,
        validate=validate.Length(max=MAX_REMINDERS), metadata={
            "description": "ISO 8601 durations before closes_at (P7D, PT12H): each positive, "
                           "shorter than the window, none of the same length as another"})

    @validates_schema
    def _order(self, data: dict, **kwargs) -> None:
        if data["closes_at"] <= data["opens_at"]:
            raise ValidationError("must be after opens_at", field_name="closes_at")


class ReviewWindowOut(Schema):
    period = fields.String()
    opens_at = fields.AwareDateTime()
    closes_at = fields.AwareDateTime()
    remind_before = fields.List(fields.String())
    reminders_at = fields.List(fields.AwareDateTime(), metadata={
        "description": "when each reminder goes (closes_at - remind_before)"})


class ResponseQuery(Strict):
    unit = Code(load_default=None, metadata={"description": "one unit in scope only"})


class UnitResponseOut(Schema):
    unit = fields.String()
    name = fields.String()
    invited = fields.Integer(metadata={"description": "officials with colleagues to review"})
    finished = fields.Integer()
    in_progress = fields.Integer(metadata={
        "description": "some reviews finished or saved, not all finished"})
    not_started = fields.Integer()


class RemindersOut(Schema):
    year = fields.String()
    unit = fields.String()
    reminded = fields.Integer(metadata={"description": "officials sent a reminder"})


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
    events_per_message = fields.Integer(
        load_default=REPLAY_PACK, validate=validate.Range(1, MAX_PACK),
        metadata={"description": "events packed in one message (a CloudEvents envelope of "
                                 "type `congso.pack`); 1: each event a message of its own. "
                                 "A consumer holds up to its prefetch × this many events"})


class ReplayOut(Schema):
    id = fields.String(attribute="_id")
    target = fields.String()
    events_per_message = fields.Integer()
    status = fields.String(metadata={"enum": ["running", "done", "failed"]})
    published = fields.Integer()
    failed_attempts = fields.Integer()
    error = fields.String(allow_none=True)
    started_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


def _local_path(value: str) -> None:
    if local_path(value) is None:
        raise ValidationError("must be a path on this site, starting with one '/'")


class LinkIn(Strict):
    email = Email(required=True)
    next = fields.String(load_default="/", validate=_local_path, metadata={
        "description": "where the link leads once signed in (a path on this site)"})


class LinkOut(Schema):
    detail = fields.String()
    expires_in_minutes = fields.Integer()


class AuditQuery(Strict):
    actor = fields.String(load_default=None, validate=validate.Length(1, 100), metadata={
        "description": "'admin', or an official's code (however they were signed in)"})
    action = fields.String(load_default=None, validate=validate.Length(1, 64))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AuditEntryOut(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    service = fields.String()
    actor = fields.String()
    action = fields.String()
    target = fields.String(allow_none=True)
    details = fields.Dict()
    address_hash = fields.String(allow_none=True, metadata={
        "description": "a keyed hash of the client address, never the address"})
