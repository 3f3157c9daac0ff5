"""Held ratings: the state survey gives each rating, carried in its events.

Survey judges every rating when it is accepted (and again when a later-arriving one
changes the picture, see the README's "Held ratings"): a rating is `counted`, or `held`
with its `reasons`; an administrator or a manager in scope then `accepted` or `rejected`
a held one. `rating.submitted` carries the state a rating was stored with;
`rating.status_changed` carries the rating again, whole, with its new state, so a consumer
needs nothing else and the order of arrival does not matter: the higher `status_version`
wins, an equal or lower one changes nothing.

What counts: `counted` and `accepted` in every score; `held` only in `citizen.suspect`;
`rejected` nowhere. Events never carry the address or the device a rating came from: a
burst is named by an opaque id (`burst`), the same for every rating of one burst.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.schemas import StrictInteger

RATING_STATUS_CHANGED = "rating.status_changed"

COUNTED, HELD, ACCEPTED, REJECTED = "counted", "held", "accepted", "rejected"
STATES = (COUNTED, HELD, ACCEPTED, REJECTED)
IN_SCORES = frozenset({COUNTED, ACCEPTED})

# Why a rating is held (documented in the README and the API's descriptions)
BURST = "burst"                    # over the limit of one device or address in the window
OUTSIDE_HOURS = "outside_hours"    # given when the unit's counters are closed
RECEIPT_FORMAT = "receipt_format"  # a receipt code not of the unit's format
IDENTICAL_RUN = "identical_run"    # a run of identical top ratings from one device
CLOCK_FUTURE = "clock_future"      # given_at claimed in the future
CLOCK_STALE = "clock_stale"        # given_at claimed days before it arrived
REASONS = (BURST, OUTSIDE_HOURS, RECEIPT_FORMAT, IDENTICAL_RUN, CLOCK_FUTURE, CLOCK_STALE)


class RatingState(Schema):
    """The fields a rating's events carry about its state. Optional in `rating.submitted`
    (an event stored before ratings were judged is `counted`, version 0); required in
    `rating.status_changed` (shared/events.py)."""

    given_at = fields.AwareDateTime(load_default=None, allow_none=True)
    status = fields.String(load_default=COUNTED, validate=validate.OneOf(STATES))
    reasons = fields.List(fields.String(validate=validate.OneOf(REASONS)), load_default=list)
    burst = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    status_version = StrictInteger(load_default=0, validate=validate.Range(min=0))


def counts(status: str | None) -> bool:
    """Does a rating in this state count in scores? (None: stored before states: yes.)"""
    return status is None or status in IN_SCORES
