"""The CloudEvents 1.0 envelope and the schema of every event that crosses the broker.

Producers build events with `make_event`, which validates the data against the schema of
its type; consumers turn bytes back into an `Event` with `load_event`, which raises
`PoisonMessage` for anything that does not load, so the broker layer can dead-letter it.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from marshmallow import Schema, ValidationError, fields, validate

from shared import auth_events, dashboard_events, integrity_events, review_events
from shared.fastload import Loader
from shared.schemas import (
    CRITERIA,
    FACTORS,
    SCORE_1_5,
    Code,
    Email,
    Lenient,
    Period,
    Strict,
    StrictInteger,
    score_map,
)
from shared.score_event import (  # noqa: F401 - the score's types, for consumers
    CitizenFigures,
    PeerFigures,
    ScoreChange,
    ScoreUpdated,
)

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

RATING_SUBMITTED = "rating.submitted"
PEER_REVIEW_SUBMITTED = "peer_review.submitted"
UNIT_UPSERTED = "directory.unit.upserted"
OFFICIAL_UPSERTED = "directory.official.upserted"
SCORE_UPDATED = "score.updated"

# CloudEvents `source` of what each service publishes
SOURCES = {"survey": "/congso/survey", "scoring": "/congso/scoring", "notify": "/congso/notify"}


class PoisonMessage(ValueError):
    """A message that can never be processed: malformed, or not of any known schema."""


class RatingSubmitted(Lenient, integrity_events.RatingState):
    """A citizen's rating as stored, with the state it was stored in (counted or held, see
    `integrity_events`)."""

    id = fields.String(required=True, validate=validate.Length(1, 64))
    client_id = fields.UUID(required=True)
    counter = Code(required=True)
    # the counter's label when rated ("Quầy 1 - Tư pháp"), for alerts that name the counter
    counter_label = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=300))
    unit = Code(required=True)
    official = Code(load_default=None, allow_none=True)
    overall = StrictInteger(required=True, validate=SCORE_1_5)
    factors = score_map(FACTORS, required=False)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    receipt_code = fields.String(load_default=None, allow_none=True)
    submitted_at = fields.AwareDateTime(required=True)


class RatingStatusChanged(RatingSubmitted):
    """The rating again, whole, with its new state (`integrity_events`)."""

    status = fields.String(required=True, validate=validate.OneOf(integrity_events.STATES))
    status_version = StrictInteger(required=True, validate=validate.Range(min=1))


class PeerReviewSubmitted(Lenient):
    id = fields.String(required=True, validate=validate.Length(1, 128))
    period = Period(required=True, years_only=True)
    unit = Code(required=True)
    reviewee = Code(required=True)
    # A keyed pseudonym of the reviewer: enough to replace an edited review, never a name.
    reviewer = fields.String(required=True, validate=validate.Length(16, 128))
    scores = score_map(CRITERIA, required=True)
    # shown to the reviewee with the year's results, without a name, date or order
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=1000))
    revision = StrictInteger(required=True, validate=validate.Range(min=1))
    submitted_at = fields.AwareDateTime(required=True)


class UnitUpserted(Lenient):
    code = Code(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 300))
    parent = Code(load_default=None, allow_none=True)
    emails = fields.List(fields.Email(), load_default=list)
    webhook_url = fields.Url(load_default=None, allow_none=True, require_tld=False)
    # the unit's head and deputies: in scope for this unit and every unit below it
    managers = fields.List(Code(), load_default=list)
    version = StrictInteger(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)


class OfficialUpserted(Lenient):
    code = Code(required=True)
    full_name = fields.String(required=True, validate=validate.Length(1, 300))
    unit = Code(required=True)
    position = fields.String(load_default=None, allow_none=True)
    active = fields.Boolean(load_default=True)
    email = Email(load_default=None, allow_none=True)
    roles = fields.List(fields.String(validate=validate.OneOf(["admin"])), load_default=list)
    version = StrictInteger(required=True, validate=validate.Range(min=1))
    updated_at = fields.AwareDateTime(required=True)


DATA_SCHEMAS: dict[str, Schema] = {
    RATING_SUBMITTED: RatingSubmitted(),
    integrity_events.RATING_STATUS_CHANGED: RatingStatusChanged(),
    PEER_REVIEW_SUBMITTED: PeerReviewSubmitted(),
    UNIT_UPSERTED: UnitUpserted(),
    OFFICIAL_UPSERTED: OfficialUpserted(),
    SCORE_UPDATED: ScoreUpdated(),
    **auth_events.SCHEMAS,
    **review_events.SCHEMAS,
    **dashboard_events.SCHEMAS,
}
EVENT_TYPES = tuple(DATA_SCHEMAS)


class Envelope(Strict):
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(1, 128))
    source = fields.String(required=True, validate=validate.Length(1, 256))
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    time = fields.AwareDateTime(required=True)
    datacontenttype = fields.String(required=True, validate=validate.Equal(CONTENT_TYPE))
    subject = fields.String(load_default=None, allow_none=True)
    # CloudEvents extension attribute: the request or event that caused this one.
    correlationid = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class Event:
    """One CloudEvent; `data` holds the JSON form (what goes on the wire)."""

    type: str
    data: dict[str, Any]
    source: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlationid: str | None = None
    # data as loaded by its schema, when the event came through `load_event`
    _loaded: dict | None = field(default=None, compare=False, repr=False)

    @property
    def routing_key(self) -> str:
        return self.type

    def to_dict(self) -> dict[str, Any]:
        return self._envelope(copy.deepcopy(self.data))  # the caller may change it

    def _envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        doc = {
            "specversion": SPECVERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.astimezone(UTC).isoformat(),
            "datacontenttype": CONTENT_TYPE,
            "data": data,
        }
        if self.subject is not None:
            doc["subject"] = self.subject
        if self.correlationid is not None:
            doc["correlationid"] = self.correlationid
        return doc

    def to_bytes(self) -> bytes:
        # serialised at once: no copy of the data needed. `data` is JSON-safe already
        # (`json_safe`), so msgspec writes what `json.dumps` would, compact UTF-8, about
        # nine times faster (a replay encodes every record); the one difference: a float
        # that is not finite, which JSON has no word for, is written null (json.dumps
        # wrote NaN, which strict parsers refuse; no schema of a number takes either)
        return msgspec.json.encode(self._envelope(self.data))

    def loaded_data(self) -> Any:
        """Return `data` deserialised by its schema (datetimes, UUIDs, defaults; a
        `ScoreChange` for `score.updated`)."""
        if self._loaded is not None:
            return self._loaded
        return _LOADERS[self.type].load(self.data)


def make_event(
    type: str,
    data: dict[str, Any],
    *,
    source: str,
    id: str | None = None,
    subject: str | None = None,
    correlationid: str | None = None,
    validate: bool = True,
) -> Event:
    """Build an event whose data is validated against the schema of its type.

    `validate=False` is for a replay of stored records only: each was validated when it
    was first published, and its consumer validates it again on arrival (an invalid one is
    dead-lettered there, alone, and the rest of the replay goes on); checking here too
    took a quarter of a replay's time."""
    loader = _LOADERS.get(type)
    if loader is None:
        raise ValueError(f"unknown event type {type!r}")
    wire = json_safe(data)
    errors = loader.validate(wire) if validate else None
    if errors:
        raise ValueError(f"invalid {type} data: {errors}")
    kwargs = {"id": id} if id else {}
    return Event(type=type, data=wire, source=source, subject=subject,
                 correlationid=correlationid, **kwargs)


# One loader per schema, for every load: building a schema copies its declared fields
# (a third of an event's loading with marshmallow), and the plain ones are compiled
# (`shared.fastload`: the rating's data loads in about a microsecond, not 45).
_ENVELOPE = Loader(Envelope())
_LOADERS = {type_: Loader(schema) for type_, schema in DATA_SCHEMAS.items()}


def event_from_dict(doc: dict[str, Any]) -> Event:
    """Validate an envelope already parsed from JSON, and its data by the schema of its
    type (loaded once, kept on the event); raise PoisonMessage if it is not one."""
    try:
        env = _ENVELOPE.load(doc)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid event: {exc.messages}") from None
    try:
        loaded = _LOADERS[env["type"]].load(env["data"])
    except ValidationError as exc:
        raise PoisonMessage(f"invalid event: {({'data': exc.messages})}") from None
    return Event(
        type=env["type"], data=doc["data"], source=env["source"], id=env["id"], time=env["time"],
        subject=env.get("subject"), correlationid=env.get("correlationid"), _loaded=loaded,
    )


def load_event(body: bytes | dict) -> Event:
    """Parse and validate a message body (or an envelope parsed already, as a pack's
    are); raise PoisonMessage if it is not a valid event."""
    if isinstance(body, dict):
        return event_from_dict(body)
    if not isinstance(body, bytes | bytearray):
        raise PoisonMessage("not a JSON object")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise PoisonMessage("not a JSON object")
    return event_from_dict(doc)


def json_safe(value: Any) -> Any:
    """`value` with datetimes (as UTC ISO 8601) and UUIDs turned into JSON strings: what
    a JSON round trip gives. Plain data is walked (a third of the round trip's time);
    anything else takes the round trip."""
    try:
        return _walk(value)
    except _NotPlain:
        return json.loads(json.dumps(value, default=_json_default))


class _NotPlain(Exception):
    pass


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _walk(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _NotPlain
        return {k: _walk(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_walk(v) for v in value]
    if kind is datetime or kind is uuid.UUID:
        return _json_default(value)
    raise _NotPlain


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
