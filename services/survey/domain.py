"""Survey's rules, pure: values in, values out (or a `shared.errors` refusal); no Flask,
pika or database. The store reads and writes; views and the importer call these rules
with what the store read, so the API and the import apply the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from services.survey.integrity import normalise_receipt
from shared import dashboard_events, integrity_events, review_events
from shared import events as ev
from shared.errors import Forbidden, Invalid, NotFound
from shared.periods import parse_period

SOURCE = ev.SOURCES["survey"]
# Rating ids are derived from the client's id: the same client_id is the same rating.
RATING_NAMESPACE = uuid.UUID("5b1f0f36-6a4c-4f38-9d0e-6f3b8c1d2a47")
LOOP = "this parent would make a loop of units"
RESPONSE_COUNTS = ("invited", "finished", "in_progress", "not_started")


# --- directory ------------------------------------------------------------------------


def parent_error(code: str, parent: str | None, parents: Mapping[str, str | None]) -> str | None:
    """Why `parent` cannot be the parent of unit `code`, or None if it can.

    `parents` maps each known unit to its parent (the directory, and for an import the
    file's units over it); `code`'s own entry, if any, is ignored: `parent` replaces it.
    A loop elsewhere in `parents` that does not pass through `code` is not `code`'s fault.
    """
    if parent is None:
        return None
    if parent == code:
        return "a unit cannot be its own parent"
    if parent not in parents:
        return f"unknown unit {parent!r}"
    seen: set[str] = set()
    current: str | None = parent
    while current is not None and current not in seen:
        if current == code:
            return LOOP
        seen.add(current)
        current = parents.get(current)
    return None


UNIT_RULES = ("opening_hours", "receipt_format", "rating_burst")


def unit_fields(data: dict) -> dict:
    """What is stored (and published) of a unit. Its settings of held ratings only when
    given (left out of a write, they stay as stored)."""
    return {"name": data["name"], "parent": data.get("parent"),
            "emails": list(data.get("emails") or []), "webhook_url": data.get("webhook_url"),
            "managers": list(data.get("managers") or []),
            **{k: data[k] for k in UNIT_RULES if k in data}}


def official_fields(data: dict) -> dict:
    """What is stored (and published) of an official."""
    return {"full_name": data["full_name"], "unit": data["unit"],
            "position": data.get("position"), "active": data.get("active", True),
            "email": data.get("email"), "roles": list(data.get("roles") or [])}


def duplicate_emails(emails: Mapping[str, str | None],
                     others: Mapping[str, str]) -> dict[str, str]:
    """Officials whose new address is already someone else's: {official: holder}.

    `emails` are the addresses being set (official -> address or None), in order; `others`
    the directory's addresses of everyone else (address -> official). The first official
    given an address keeps it; a later one is the duplicate."""
    holders = dict(others)
    clashes: dict[str, str] = {}
    for official, email in emails.items():
        if not email:
            continue
        holder = holders.get(email)
        if holder is not None and holder != official:
            clashes[official] = holder
        else:
            holders[email] = official
    return clashes


def local_path(text: str | None) -> str | None:
    """`text` if it is a path on this site ("/reviews/2026?x=1"), else None: never a link
    elsewhere ("//evil.example", "/\\evil.example", "https://…"), nor a control character."""
    if not text or len(text) > 300 or not text.startswith("/") or text[1:2] in ("/", "\\"):
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in text):
        return None
    return text


def counter_fields(data: dict) -> dict:
    """What is stored of a counter (its token aside): each official once, in order."""
    return {"unit": data["unit"], "label": data["label"],
            "officials": list(dict.fromkeys(data.get("officials") or [])),
            "devices": list(dict.fromkeys(data.get("devices") or []))}


def directory_event(kind: str, code: str, record: dict,
                    correlationid: str | None = None) -> ev.Event:
    """The `directory.*.upserted` event of a stored unit or official (also replayed)."""
    data = {k: v for k, v in record.items() if k not in ("_id", "code")}
    return ev.make_event(kind, {"code": code, **data}, source=SOURCE, subject=code,
                         correlationid=correlationid)


# --- ratings ----------------------------------------------------------------------------


def rating_id_for(client_id: str) -> str:
    return uuid.uuid5(RATING_NAMESPACE, client_id).hex


def client_hash(address: str | None, key: bytes) -> str | None:
    """A keyed (salted) hash of the client address: lets us see floods, never who rated."""
    if not address:
        return None
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def check_rated_official(counter: dict, official: str | None, record: dict | None) -> None:
    """Refuse a rating naming an official who is not an active official of the counter;
    `record` is the named official's stored record (None if there is none)."""
    if official is None:
        return
    if official not in (counter.get("officials") or []):
        raise Invalid("That official does not serve at this counter.",
                      errors={"official": ["is not an official of this counter"]})
    if record is None or not record.get("active", True):
        raise Invalid("That official is not active.",
                      errors={"official": ["is not an active official"]})


def receipt_key(counter: dict, receipt_code: str) -> str:
    """One transaction, one rating: a receipt code is unique within the counter's unit,
    compared as `integrity.normalise_receipt` spells it (HS_2026_0001 is hs-2026-0001)."""
    return f"{counter['unit']}:{normalise_receipt(receipt_code)}"


STATE_FIELDS = ("given_at", "status", "reasons", "burst", "status_version")


def rating_data(body: dict, counter: dict, submitted_at: datetime, *,
                state: Mapping | None = None) -> dict:
    """The `rating.submitted` data of a validated rating body at a counter, with its state
    (`integrity`; default: counted, given when it arrived)."""
    state = state or {}
    return {
        "id": rating_id_for(body["client_id"]),
        "client_id": body["client_id"],
        "counter": counter["code"],
        "counter_label": counter.get("label"),
        "unit": counter["unit"],
        "official": body.get("official"),
        "overall": body["overall"],
        "factors": body.get("factors") or {},
        "comment": body.get("comment"),
        "receipt_code": body.get("receipt_code"),
        "submitted_at": submitted_at,
        "given_at": state.get("given_at") or submitted_at,
        "status": state.get("status", integrity_events.COUNTED),
        "reasons": list(state.get("reasons") or []),
        "burst": state.get("burst"),
        "status_version": state.get("status_version", 1),
    }


def rating_event(data: dict, correlationid: str | None = None, *,
                 validate: bool = True) -> ev.Event:
    """The `rating.submitted` event of a rating (also used to replay it: `validate`, see
    `ev.make_event`)."""
    return ev.make_event(ev.RATING_SUBMITTED, data, source=SOURCE, id=f"rating-{data['id']}",
                         subject=data["id"], correlationid=correlationid, validate=validate)


RATING_FIELDS = ("client_id", "counter", "counter_label", "unit", "official", "overall",
                 "factors", "comment", "receipt_code", "submitted_at")


def rating_of(doc: Mapping) -> dict:
    """A stored rating as its events carry it: never its address, device or decision."""
    data = {"id": doc["_id"], **{k: doc.get(k) for k in RATING_FIELDS}}
    data["factors"] = data["factors"] or {}
    data.update({"given_at": doc.get("given_at") or doc["submitted_at"],
                 "status": doc.get("status") or integrity_events.COUNTED,
                 "reasons": list(doc.get("reasons") or []), "burst": doc.get("burst"),
                 "status_version": doc.get("status_version") or 0})
    return data


def status_event(doc: Mapping, correlationid: str | None = None, *,
                 validate: bool = True) -> ev.Event:
    """The `rating.status_changed` event of a stored rating in its current state (the
    rating whole, so a consumer needs nothing else)."""
    data = rating_of(doc)
    return ev.make_event(integrity_events.RATING_STATUS_CHANGED, data, source=SOURCE,
                         id=f"rating-status-{data['id']}-{data['status_version']}",
                         subject=data["id"], correlationid=correlationid, validate=validate)


# --- peer reviews -------------------------------------------------------------------------


def year_period(text: str) -> str:
    """A peer-review period: a year, YYYY (Invalid, so 422, otherwise)."""
    period = parse_period(text)
    if period.kind != "year":
        raise Invalid("peer reviews are yearly: use YYYY", field="period")
    return str(period)


def window_open(period: str, window: dict | None, now: datetime, tz: ZoneInfo) -> bool:
    """Is the review window of `period` open at `now`? Without a window: its own year."""
    if window is None:
        start, end = parse_period(period).bounds(tz)
    else:
        start, end = window["opens_at"], window["closes_at"]
    return start <= now < end


def check_reviewable(reviewer_code: str, reviewer: dict | None, reviewee_code: str,
                     reviewee: dict | None) -> None:
    """Refuse a review the contract forbids: of oneself (403), of nobody (404), of another
    unit's official (403), of an inactive colleague (403); `reviewer` and `reviewee` are
    the stored records (None if there is none)."""
    if reviewer_code == reviewee_code:
        raise Forbidden("Nobody reviews themselves.", slug="self-review")
    check_reviewer(reviewer)
    if reviewee is None:
        raise NotFound(f"No official {reviewee_code!r}.", slug="unknown-official")
    if reviewee["unit"] != reviewer["unit"]:
        raise Forbidden("You can review colleagues of your own unit only.", slug="other-unit")
    if not reviewee.get("active", True):
        raise Forbidden("That colleague is not active.", slug="inactive-official")


def check_reviewer(reviewer: dict | None) -> None:
    """A reviewer must still be in the directory (their token may outlive the record)."""
    if reviewer is None:
        raise Forbidden("Your official record no longer exists.")


def _hmac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()[:40]


def review_key(key: bytes, period: str, reviewer: str, reviewee: str) -> str:
    """The stored review's key: only the reviewer (with survey's key) can find it again."""
    return _hmac(key, "review", period, reviewer, reviewee)


def reviewer_pseudonym(key: bytes, period: str, reviewer: str, reviewee: str) -> str:
    """Who reviewed, as published: unrelated across the reviewer's colleagues."""
    return _hmac(key, "reviewer", period, reviewer, reviewee)


def review_event(review_id: str, doc: dict, correlationid: str | None = None) -> ev.Event:
    """The `peer_review.submitted` event of a stored review (also used to replay it)."""
    return ev.make_event(ev.PEER_REVIEW_SUBMITTED, {
        "id": review_id, "period": doc["period"], "unit": doc["unit"],
        "reviewee": doc["reviewee"], "reviewer": doc["reviewer_pseudonym"],
        "scores": doc["scores"], "comment": doc.get("comment"), "revision": doc["revision"],
        "submitted_at": doc["submitted_at"],
    }, source=SOURCE, id=f"review-{review_id}-{doc['revision']}", correlationid=correlationid)


def window_event(period: str, doc: dict, correlationid: str | None = None) -> ev.Event:
    """The `review_window.set` event of a stored window (also used to replay it)."""
    return ev.make_event(review_events.WINDOW_SET, {
        "year": period, "opens_at": doc["opens_at"], "closes_at": doc["closes_at"],
        "remind_before": list(doc.get("remind_before") or []), "version": doc["version"],
    }, source=SOURCE, id=f"review-window-{period}-{doc['version']}", subject=period,
        correlationid=correlationid)


def response_event(year: str, unit: str, counts: Mapping[str, int], at: datetime,
                   version: int) -> ev.Event:
    """The `review.response` event of a unit's counts for a year (also replayed): the
    counts and when they changed, nothing about who."""
    return ev.make_event(dashboard_events.REVIEW_RESPONSE, {
        "year": year, "unit": unit, **{k: counts[k] for k in RESPONSE_COUNTS}, "at": at,
    }, source=SOURCE, id=f"review-response-{year}-{unit}-{version}", subject=unit)
