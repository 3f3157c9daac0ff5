"""A marshmallow schema's `load`, compiled to msgspec where the schema is plain.

Loading an event's data through marshmallow took about 45 µs (a rating), about half of
what scoring spends on each event while it applies a backlog. msgspec checks the same
structure in C in about a microsecond. `Loader` keeps the schema as the one source of
truth: it compiles a msgspec type from the schema's own fields and validators, and only
when every field and validator is one it can express exactly; any other schema, or any
value the compiled type refuses, goes to marshmallow, which then accepts it or says why
not. So the fast path may only ever refuse more than marshmallow, never accept more, and
what it returns is what marshmallow returns (tests/shared/test_fastload.py checks both on
generated data).

Expressed exactly: `String`, `Integer(strict=True)` (and `StrictInteger`), `UUID`,
`AwareDateTime` (ISO 8601), `Nested` (one), `List`, `Dict` without key or value fields;
`Length`, `Regexp`, `Range` (integers), `OneOf` and `Equal` (strings, not on UUIDs or dates),
`required`, `allow_none`, `load_default`. Datetimes and UUIDs are parsed by the functions
marshmallow itself uses (`datetime.fromisoformat`, `uuid.UUID`). A schema with a hook
(`pre_load`, `post_load`, `validates_schema`...) or that keeps unknown fields is not
compiled.
"""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

from shared.schemas import StrictInteger

# what the compiled path raises for a value it refuses: marshmallow then decides
REFUSED = (msgspec.ValidationError, ValueError, TypeError)


class Loader:
    """`load` of one schema instance: compiled when the schema allows, else marshmallow."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self._compiled = compile_schema(schema)

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def load(self, value: Any) -> Any:
        """What `schema.load(value)` returns; raises its `ValidationError` if invalid."""
        if self._compiled is not None:
            try:
                return self._compiled(value)
            except REFUSED:
                pass  # marshmallow says why (or, stricter here, takes it)
        return self.schema.load(value)

    def validate(self, value: Any) -> dict:
        """What `schema.validate(value)` returns: the errors, `{}` when valid."""
        if self._compiled is not None:
            try:
                self._compiled(value)
                return {}
            except REFUSED:
                pass
        return self.schema.validate(value)


class _Plan(typing.NamedTuple):
    name: str
    type: Any                         # the msgspec type of the field
    default: Any                      # msgspec's default (UNSET when not required)
    load_default: Any                 # marshmallow's, for a missing field
    convert: Callable[[Any], Any] | None  # msgspec's value to marshmallow's


def compile_schema(schema: Schema) -> Callable[[Any], dict] | None:
    """A function loading a value as `schema.load` does, or None if the schema is not one
    this module expresses exactly."""
    try:
        compiled = _compile(schema)
    except (TypeError, ValueError):  # a bound or pattern msgspec does not take
        return None
    if compiled is None:
        return None
    struct, to_dict = compiled

    def load(value: Any) -> dict:
        return to_dict(msgspec.convert(value, struct))

    return load


def _compile(schema: Schema):
    if any(schema._hooks.values()) or schema.unknown not in (EXCLUDE, RAISE):
        return None
    if schema.only or schema.exclude or schema.partial:
        return None
    plans = []
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            return None
        typed = _field_type(field)
        if typed is None:
            return None
        kind, convert = typed
        if field.required:
            plans.append(_Plan(name, kind, msgspec.NODEFAULT, missing, convert))
        else:
            plans.append(_Plan(name, kind | msgspec.UnsetType, msgspec.UNSET,
                               field.load_default, convert))
    struct = msgspec.defstruct(
        f"Compiled{type(schema).__name__}",
        [(p.name, p.type, p.default) for p in plans],
        kw_only=True, forbid_unknown_fields=schema.unknown == RAISE)

    def to_dict(obj) -> dict:
        out = {}
        for p in plans:
            value = getattr(obj, p.name)
            if value is msgspec.UNSET:
                if p.load_default is missing:
                    continue
                value = p.load_default() if callable(p.load_default) else p.load_default
            elif value is not None and p.convert is not None:
                value = p.convert(value)
            out[p.name] = value
        return out

    return struct, to_dict


def _field_type(field: fields.Field):
    """(msgspec type, conversion of its value) of one field, or None."""
    kind = type(field)
    convert = None
    if kind is fields.String:
        base: Any = str
    elif kind is StrictInteger or (kind is fields.Integer and field.strict):
        base = int
    elif kind is fields.UUID:
        if field.validators:  # marshmallow checks them on the UUID, not on its text
            return None
        base, convert = str, uuid.UUID  # as marshmallow parses a string
    elif kind is fields.AwareDateTime:
        if field.format not in (None, "iso", "iso8601") or field.default_timezone is not None \
                or field.validators:
            return None
        base, convert = str, _aware
    elif kind is fields.Nested:
        if field.many or field.unknown is not None or not isinstance(field.schema, Schema):
            return None
        compiled = _compile(field.schema)
        if compiled is None:
            return None
        base, convert = compiled
    elif kind is fields.List:
        inner = _field_type(field.inner)
        if inner is None:
            return None
        inner_type, inner_convert = inner
        base = list[inner_type]
        if inner_convert is not None:
            convert = lambda values: [  # noqa: E731
                None if v is None else inner_convert(v) for v in values]
    elif kind is fields.Dict:
        if field.key_field is not None or field.value_field is not None:
            return None
        base = dict
    else:
        return None
    base = _constrained(base, field.validators)
    if base is None:
        return None
    return (base | None if field.allow_none else base), convert


def _constrained(base, validators):
    """`base` with the validators as msgspec constraints, or None if one is not exact."""
    meta: dict[str, Any] = {}
    literal = None
    for v in validators:
        if type(v) is validate.Length:
            if base not in (str, list) and typing.get_origin(base) is not list:
                return None
            low, high = (v.equal, v.equal) if v.equal is not None else (v.min, v.max)
            if low is not None:
                meta["min_length"] = max(low, meta.get("min_length", low))
            if high is not None:
                meta["max_length"] = min(high, meta.get("max_length", high))
        elif type(v) is validate.Regexp:
            if base is not str or "pattern" in meta or v.regex.flags != re.UNICODE:
                return None
            # msgspec searches, marshmallow matches: the same once anchored as a whole
            meta["pattern"] = f"^(?:{v.regex.pattern})"
        elif type(v) is validate.Range and base is int \
                and all(type(b) is int for b in (v.min, v.max) if b is not None):
            for bound, inclusive, key in ((v.min, v.min_inclusive, "ge"),
                                          (v.max, v.max_inclusive, "le")):
                if bound is not None:
                    meta[key if inclusive else {"ge": "gt", "le": "lt"}[key]] = bound
        elif type(v) is validate.OneOf and base is str and literal is None \
                and all(isinstance(c, str) for c in v.choices):
            literal = tuple(v.choices)
        elif type(v) is validate.Equal and base is str and literal is None \
                and isinstance(v.comparable, str):
            literal = (v.comparable,)
        else:
            return None
    if literal is not None:
        # a Literal takes no further constraint: kept exact only when it needs none
        if meta and not all(_meets(c, meta) for c in literal):
            return None
        return Literal[literal]
    return Annotated[base, msgspec.Meta(**meta)] if meta else base


def _meets(choice: str, meta: dict) -> bool:
    return (meta.get("min_length", 0) <= len(choice) <= meta.get("max_length", len(choice))
            and ("pattern" not in meta or re.search(meta["pattern"], choice) is not None))


def _aware(text: str) -> datetime:
    """An aware datetime, as marshmallow's `AwareDateTime` (ISO 8601) reads one."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("not an aware datetime")
    return value
