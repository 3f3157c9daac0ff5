"""Field rules every congso schema uses: the one place for codes, names, emails, scores,
periods and the strict and lenient schema bases (API bodies, imports and events alike).
"""

from __future__ import annotations

import re
import unicodedata

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from shared.periods import InvalidPeriod, parse_period

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CODE = validate.Regexp(CODE_PATTERN,
                       error="must be a code of 1-64 letters, digits, '.', '_' or '-'")
SCORE_1_5 = validate.Range(min=1, max=5)
# the five SIPAS factors citizens may rate, and the five peer criteria of Decision 733
FACTORS = ("access", "procedure", "official", "result", "feedback")
CRITERIA = ("discipline", "conduct", "ethics", "dress", "participation")
MAX_NAME = 300
MAX_EMAILS = 20


class Strict(Schema):
    """Request bodies and queries: an unknown field is an error, not silently dropped."""

    class Meta:
        unknown = RAISE


class Lenient(Schema):
    """Event data: later releases may add fields, which older consumers ignore."""

    class Meta:
        unknown = EXCLUDE


class StrictInteger(fields.Integer):
    """An integer that must be a JSON integer: not "4", not 4.0, not true."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class TrimmedString(fields.String):
    """Text with surrounding whitespace (no-break spaces too) removed before its validators
    run, so "\u00a0" fails a minimum length instead of passing it; control characters
    (newlines included: names reach email subjects and spreadsheet cells) are refused."""

    default_error_messages = {"control": "Must not contain control characters or line breaks."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
            raise self.make_error("control")
        return text


def Code(**kwargs) -> fields.String:
    """A code: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    return fields.String(validate=CODE, **kwargs)


def Name(*, required: bool = True, max_length: int = MAX_NAME, **kwargs) -> TrimmedString:
    """A person's or unit's name, or a label: trimmed, one line, not empty."""
    low = 1 if required else 0
    return TrimmedString(required=required, validate=validate.Length(low, max_length), **kwargs)


MAX_EMAIL = 254  # RFC 5321's limit of a forward path


class Email(fields.Email):
    """An email address, as congso sends to it: trimmed and lower-cased (addresses are
    compared that way), ASCII only (a look-alike letter from another script is refused,
    not matched), no control character anywhere (no header injection), at most 254."""

    default_error_messages = {
        "control": "Must not contain control characters or line breaks.",
        "ascii": "Must be written in ASCII letters, digits and punctuation only.",
        "long": f"Must be at most {MAX_EMAIL} characters.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
                raise self.make_error("control")
            value = value.strip()
            if len(value) > MAX_EMAIL:
                raise self.make_error("long")
            if not value.isascii():
                raise self.make_error("ascii")
            value = value.lower()
        return super()._deserialize(value, attr, data, **kwargs)


def EmailList(**kwargs) -> fields.List:
    """Up to 20 email addresses; duplicates are dropped by the caller (see unique_emails)."""
    return fields.List(Email(), load_default=list,
                       validate=validate.Length(max=MAX_EMAILS), **kwargs)


def unique_emails(emails: list[str]) -> list[str]:
    return list(dict.fromkeys(e.strip().lower() for e in emails))


class Period(fields.String):
    """A reporting period `YYYY`, `YYYY-Qn` or `YYYY-MM` (`years_only`: `YYYY`)."""

    def __init__(self, *, years_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.years_only = years_only

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            period = parse_period(text)
        except InvalidPeriod as exc:
            raise ValidationError(str(exc)) from None
        if self.years_only and period.kind != "year":
            raise ValidationError("this takes a year: YYYY")
        return str(period)


def is_code(value: str) -> bool:
    return isinstance(value, str) and re.match(CODE_PATTERN, value) is not None


def score_map_schema(keys: tuple[str, ...], *, required: bool, strict: bool = False,
                     allow_none: bool = False, name: str = "ScoreMap") -> type[Schema]:
    """A schema of {key: 1-5} for each of `keys` (the SIPAS factors, the peer criteria).
    `strict`: an unknown key is an error (a request: a typo must not lose a score);
    otherwise ignored (an event from a later release)."""
    base = Strict if strict else Lenient
    return base.from_dict({k: StrictInteger(required=required, allow_none=allow_none,
                                            validate=SCORE_1_5) for k in keys}, name=name)


def score_map(keys: tuple[str, ...], *, required: bool) -> fields.Nested:
    """An event's {key: 1-5} map (unknown keys ignored)."""
    return fields.Nested(score_map_schema(keys, required=required), required=required)
