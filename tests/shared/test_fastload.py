"""The compiled loads (shared/fastload.py) against marshmallow, their source of truth: on
generated data of every compiled event schema, whatever the compiled path accepts,
marshmallow accepts, with the same result; what it refuses goes to marshmallow."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, post_load, validate

from shared import events as ev
from shared import integrity_events
from shared.fastload import REFUSED, Loader, compile_schema
from shared.schemas import Code, StrictInteger
from tests.shared.test_events import rating_data

COMPILED = {name: loader for name, loader in
            [("envelope", ev._ENVELOPE), *ev._LOADERS.items()] if loader.compiled}

UUID = "6f1c1f0e-8a55-4b6a-9a43-0c1d2e3f4a5b"
STRINGS = [
    "", " ", "a", "Q1", "CB001", "U1", "x" * 16, "x" * 64, "x" * 65, "ư" * 20, "a\n", "-a",
    "a.b_c-d", "counted", "held", "accepted", "rejected", "burst", "outside_hours", "admin",
    "1.0", "application/json", "/congso/survey", "rating.submitted", "audit.recorded",
    UUID, UUID.upper(), UUID.replace("-", ""), "{" + UUID + "}", "urn:uuid:" + UUID,
    UUID[:-1], "2026-03-01T08:00:00+07:00", "2026-03-01T08:00:00Z", "2026-03-01T08:00:00",
    "2026-03-01 08:00:00+00:00", "2026-03-01T08:00:00.1234567+00:00", "2026-03-01",
    "20260301T080000Z", "2026-13-01T08:00:00Z", "2026-03-01T08:00:00z", "2026-03-01T24:00Z",
]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 7),
                    st.sampled_from([2 ** 64, 4.0, 3.5, -0.0]), st.sampled_from(STRINGS),
                    st.text(max_size=4))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["access", "official", "overall", "x", "discipline"]),
                    inner, max_size=3)), max_leaves=6)


def _valid(field: fields.Field) -> st.SearchStrategy:
    """Values the field accepts, from its type and validators."""
    checks = {type(v): v for v in field.validators}
    if validate.OneOf in checks:
        return st.sampled_from(list(checks[validate.OneOf].choices))
    if validate.Equal in checks:
        return st.just(checks[validate.Equal].comparable)
    if isinstance(field, fields.Nested):
        return _valid_data(field.schema)
    if isinstance(field, fields.List):
        size = checks.get(validate.Length)
        low = (size.min or 0) if size else 0
        return st.lists(_valid(field.inner), min_size=low, max_size=low + 3)
    if isinstance(field, fields.Dict):
        return st.dictionaries(st.text(max_size=3), SCALARS, max_size=2)
    if isinstance(field, fields.UUID):
        return st.uuids().map(str)
    if isinstance(field, fields.DateTime):
        return st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Asia/Ho_Chi_Minh")])
                            ).map(datetime.isoformat)
    if isinstance(field, fields.Integer):
        bounds = checks.get(validate.Range)
        return st.integers(bounds.min if bounds else None, bounds.max if bounds else None)
    if validate.Regexp in checks:
        return st.from_regex(checks[validate.Regexp].regex, fullmatch=True)
    length = checks.get(validate.Length)
    low = (length.min or 0) if length else 0
    high = min(length.max or 40, low + 40) if length else 40
    return st.text(min_size=low, max_size=high)


def _valid_data(schema: Schema) -> st.SearchStrategy:
    """Data the schema loads: its required fields and some of the others."""
    required = {n: _valid(f) for n, f in schema.load_fields.items() if f.required}
    optional = {n: _valid(f) for n, f in schema.load_fields.items() if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def _data(draw, schema: Schema):
    """Valid data, with up to two of its fields (or one unknown) changed or dropped."""
    value = draw(_valid_data(schema))
    names = [*schema.load_fields, "later_field"]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(names))
        if draw(st.booleans()):
            value.pop(name, None)
        else:
            value[name] = draw(VALUES)
    return value


def _outcome(load, value):
    try:
        return load(value)
    except (ValidationError, *REFUSED):
        return "refused"


@pytest.mark.parametrize("name", sorted(COMPILED))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_the_compiled_load_accepts_marshmallow_accepts_the_same(name, data):
    loader = COMPILED[name]
    value = data.draw(st.one_of(_data(loader.schema), VALUES))
    compiled = _outcome(loader._compiled, value)
    by_schema = _outcome(loader.schema.load, value)
    if compiled != "refused":
        assert by_schema == compiled
    assert _outcome(loader.load, value) == by_schema  # the loader: always marshmallow's word


@pytest.mark.parametrize("name", sorted(COMPILED))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_data_takes_the_compiled_path(name, data):
    loader = COMPILED[name]
    value = data.draw(_valid_data(loader.schema))
    assert loader._compiled(value) == loader.schema.load(value)


def test_the_hot_events_are_compiled_and_load_without_marshmallow(monkeypatch):
    """A rating's events must take the compiled path (else the speed is silently gone)."""
    hot = {"envelope", ev.RATING_SUBMITTED, integrity_events.RATING_STATUS_CHANGED}
    assert hot <= set(COMPILED)
    event = ev.make_event(ev.RATING_SUBMITTED, rating_data(
        given_at=datetime(2026, 3, 1, 1, tzinfo=UTC), reasons=["burst"], status="held",
        burst="b1", status_version=1), source="/congso/survey")
    expected = ev.load_event(event.to_bytes()).loaded_data()

    def refuse(*args, **kwargs):
        raise AssertionError("marshmallow was called")

    for loader in COMPILED.values():
        monkeypatch.setattr(loader.schema, "load", refuse)
    loaded = ev.load_event(event.to_bytes()).loaded_data()
    assert loaded == expected
    assert loaded["client_id"] == uuid.UUID(event.data["client_id"])
    assert loaded["given_at"] == datetime(2026, 3, 1, 1, tzinfo=UTC)
    assert loaded["counter_label"] is None and loaded["factors"] == {"access": 5}


def test_a_refused_value_gets_marshmallows_error():
    with pytest.raises(ValidationError) as caught:
        ev._LOADERS[ev.RATING_SUBMITTED].load(rating_data(overall=6, submitted_at="2026"))
    assert set(caught.value.messages) == {"overall", "submitted_at"}
    with pytest.raises(ev.PoisonMessage, match=r"'data'.*overall"):
        ev.event_from_dict({**ev.make_event(ev.RATING_SUBMITTED, rating_data(),
                                            source="/t").to_dict(),
                            "data": rating_data(overall=0, submitted_at="2026-03-01T00:00Z")})


class _Hooked(Schema):
    code = Code(required=True)

    @post_load
    def upper(self, values, **kwargs):
        return {"code": values["code"].upper()}


class _Plain(Schema):
    code = Code(required=True)
    n = StrictInteger(load_default=1, validate=validate.Range(1, 5, max_inclusive=False))
    tags = fields.List(fields.String(validate=validate.OneOf(["a", "b"])), load_default=list)


@pytest.mark.parametrize("schema, compiled", [
    (_Hooked(), False),                                  # a hook changes the result
    (_Plain(), True),
    (_Plain(only=("code",)), False),
    (Schema.from_dict({"e": fields.Email()})(), False),  # a field it cannot express
    (Schema.from_dict({"u": fields.UUID(validate=validate.OneOf([UUID]))})(), False),
    (Schema.from_dict({"s": fields.String(validate=lambda s: True)})(), False),
    (Schema.from_dict({"n": StrictInteger(validate=validate.Range(0.5, 2))})(), False),
])
def test_only_schemas_it_expresses_exactly_are_compiled(schema, compiled):
    assert (compile_schema(schema) is not None) is compiled


@pytest.mark.parametrize("pattern, text", [("^a|b", "xb"), ("a", "xa"), ("a$", "ba")])
def test_a_pattern_matches_from_the_start_as_marshmallow(pattern, text):
    loader = Loader(Schema.from_dict({"s": fields.String(validate=validate.Regexp(pattern))})())
    assert loader.compiled
    assert _outcome(loader._compiled, {"s": text}) == "refused"
    assert loader.validate({"s": text})  # marshmallow's word: refused
    assert loader.load({"s": text[1:]}) == {"s": text[1:]}


def test_defaults_exclusive_ranges_and_lists_as_marshmallow():
    loader = Loader(_Plain())
    assert loader.load({"code": "x"}) == {"code": "x", "n": 1, "tags": []}
    assert loader.load({"code": "x", "n": 4, "tags": ["b"]}) == {"code": "x", "n": 4,
                                                                 "tags": ["b"]}
    for bad in ({"code": "x", "n": 5}, {"code": "x", "tags": ["c"]}, {"code": "x", "n": None},
                {"code": "-x"}, {}):
        assert loader.validate(bad) and _outcome(loader._compiled, bad) == "refused"
