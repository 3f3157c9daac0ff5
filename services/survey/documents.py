"""Survey's own database: the directory, counters, the ratings citizens gave, peer reviews
and the review cycle's windows, drafts and notices."""

from __future__ import annotations

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    IntField,
    ListField,
    StringField,
)

ALIAS = "survey"


class OutboxDocument(Document):
    """A document whose writes may carry a pending event (see shared.outbox)."""

    outbox_at = DateTimeField()
    outbox_event = DictField(default=None)
    meta = {"abstract": True}


class Versioned(Document):
    """A directory record: its code, and the version optimistic writes compare."""

    code = StringField(primary_key=True)
    version = IntField(default=1)
    updated_at = DateTimeField()
    meta = {"abstract": True}


class Unit(Versioned, OutboxDocument):
    name = StringField(required=True)
    parent = StringField()
    emails = ListField(StringField())
    webhook_url = StringField()
    managers = ListField(StringField())  # officials in scope of this unit and those below
    # held ratings (see integrity.py): {days, opens, closes}, a regular expression, and
    # {limit, minutes} of the burst rule; absent: no such rule, RATING_BURST's limit
    opening_hours = DictField(default=None)
    receipt_format = StringField()
    rating_burst = DictField(default=None)
    meta = {"db_alias": ALIAS, "collection": "units", "indexes": ["parent"]}


class Official(Versioned, OutboxDocument):
    full_name = StringField(required=True)
    unit = StringField(required=True)
    position = StringField()
    active = BooleanField(default=True)
    email = StringField()  # lower-cased; unique among officials (see store.directory)
    roles = ListField(StringField())
    meta = {"db_alias": ALIAS, "collection": "officials", "indexes": ["unit"]}


class Counter(Versioned):
    unit = StringField(required=True)
    label = StringField(required=True)
    officials = ListField(StringField())
    # The kiosk token is printed on a public QR code at the counter: it names the counter,
    # it grants nothing else, so it is kept as is (needed to draw the QR code again).
    token = StringField(required=True, unique=True)
    devices = ListField(StringField())  # registered kiosk tablets (`?kiosk=1&device=ID`)
    meta = {"db_alias": ALIAS, "collection": "counters", "indexes": ["unit"]}


class Rating(OutboxDocument):
    # Derived from client_id (see ratings.rating_id_for): a retry finds its rating by key.
    id = StringField(primary_key=True)
    client_id = StringField(required=True)
    receipt_code = StringField()
    counter = StringField(required=True)
    counter_label = StringField()  # as it was when rated
    unit = StringField(required=True)
    official = StringField()
    overall = IntField(required=True, min_value=1, max_value=5)
    factors = DictField()
    comment = StringField()
    client_hash = StringField()
    submitted_at = DateTimeField(required=True)
    # its state (integrity.py): judged by given_at; `source` a keyed hash of the tablet or
    # the address (never published); status_version grows with each change of the state
    given_at = DateTimeField()
    subject = StringField()  # the official, else "c:<counter>"
    source = StringField()
    status = StringField()
    reasons = ListField(StringField())
    burst = StringField()
    status_version = IntField()
    decision = DictField(default=None)  # {decision, note, by, at}
    meta = {
        "db_alias": ALIAS,
        "collection": "ratings",
        "indexes": [
            ("counter", "-submitted_at"), ("official", "-submitted_at"),
            # one subject's ratings from one source, in order (the rules' reads)
            {"fields": ("source", "subject", "given_at", "id"), "sparse": True,
             "name": "rules_order"},
            {"fields": ("status", "unit", "-given_at"), "name": "held_by_unit"},
            {"fields": ("burst",), "sparse": True, "name": "burst"},
        ],
    }


class RatingPair(Document):
    """What the rules last knew of one subject's ratings from one source: the latest ones
    (given_at, id, identical-run signature) and the latest burst, so a rating that comes
    after all of them is judged by key; `seq`, moved by compare-and-set with every change
    (a rating that raced another is judged again); `lock`, the lease of whoever judges
    the pair's ratings again (one at a time)."""

    id = StringField(primary_key=True)  # "<subject>|<source>"
    seq = IntField(default=0)
    recent = ListField(StringField())  # "<given_at ms>|<id>|<=signature or nothing>"
    held_at = DateTimeField()
    held_burst = StringField()
    depth = IntField()
    reach_s = IntField()
    lock = StringField()
    lock_until = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "rating_pairs"}


class ReceiptClaim(Document):
    """One transaction, one rating: "unit:receipt code" → the rating that used it."""

    id = StringField(primary_key=True)
    rating = StringField(required=True)
    meta = {"db_alias": ALIAS, "collection": "receipt_claims"}


class KeyRecord(Document):
    """A random key per purpose, when SECRET_KEY is not set (see keys.py)."""

    id = StringField(primary_key=True)
    key = StringField(required=True)
    meta = {"db_alias": ALIAS, "collection": "keys"}


class OfficialToken(OutboxDocument):
    """An official's bearer token, stored as its SHA-256 only, with its
    `auth.token_issued` event (the digest) for the other services."""

    id = StringField(primary_key=True)  # the digest
    official = StringField(required=True)
    created_at = DateTimeField(required=True)
    issued_by = StringField()
    revoked_at = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "official_tokens", "indexes": ["official"]}


class SignInLink(OutboxDocument):
    """A sign-in link, by the SHA-256 of its secret, with its `auth.link_requested` event
    (which carries the nonce, never the secret)."""

    id = StringField(primary_key=True)
    official = StringField(required=True)
    created_at = DateTimeField(required=True)
    expires_at = DateTimeField(required=True)
    used_at = DateTimeField()
    next = StringField()
    meta = {"db_alias": ALIAS, "collection": "signin_links"}


class PublishedKey(OutboxDocument):
    """A public session key survey announced (`auth.keys_published`), by its key id."""

    id = StringField(primary_key=True)
    public_key = StringField(required=True)
    published_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "session_keys"}


class Revocation(OutboxDocument):
    """A sign-out (one session) or an end of an official's sessions and tokens, with its
    `auth.revoked` event; kept until it no longer matters, to replay it."""

    id = StringField(primary_key=True)
    at = DateTimeField(required=True)
    official = StringField()
    sessions = BooleanField(default=False)
    tokens = BooleanField(default=False)
    session = StringField()
    until = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "revocations"}


class AuditEntry(OutboxDocument):
    """One line of the audit log (append-only). Its outbox may carry the `account.notice`
    that tells an official about the action, written with it."""

    id = StringField(primary_key=True)
    at = DateTimeField(required=True)
    service = StringField(required=True)
    actor = StringField(required=True)
    action = StringField(required=True)
    target = StringField()
    details = DictField()
    address_hash = StringField()
    seq = IntField()  # when appended (ns): orders the entries of one millisecond
    meta = {"db_alias": ALIAS, "collection": "audit"}


class PeerReviewWindow(OutboxDocument):
    """A year's review window, with its `review_window.set` event (scoring publishes the
    year's peer results once it closes; notify invites and reminds)."""

    id = StringField(primary_key=True)  # the period, YYYY
    opens_at = DateTimeField(required=True)
    closes_at = DateTimeField(required=True)
    remind_before = ListField(StringField())  # ISO 8601 durations before closes_at
    version = IntField(default=0)  # one more at each change
    meta = {"db_alias": ALIAS, "collection": "review_windows"}


class PeerReview(OutboxDocument):
    """One reviewer's review of one colleague for one year, under a keyed pseudonym.

    The reviewer's code is never stored: `_id` is an HMAC of period, reviewer and reviewee,
    so the reviewer can find and edit their own review, and nobody can list who reviewed.
    """

    id = StringField(primary_key=True)
    period = StringField(required=True)
    unit = StringField(required=True)
    reviewee = StringField(required=True)
    scores = DictField(required=True)
    comment = StringField()
    reviewer_pseudonym = StringField(required=True)  # per (year, reviewer, reviewee)
    revision = IntField(required=True)
    submitted_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "peer_reviews",
            "indexes": [("period", "reviewee")]}


class ReviewDraft(Document):
    """A review saved to finish later: counted nowhere, published to nobody. Keyed like
    the review it will become (an HMAC of year, reviewer and reviewee), naming nobody."""

    id = StringField(primary_key=True)
    scores = DictField()  # the criteria given so far
    comment = StringField()
    meta = {"db_alias": ALIAS, "collection": "review_drafts"}


class ReviewNotice(OutboxDocument):
    """An invitation or reminder sent to one official (claimed once per year, official,
    kind and offset), with the `auth.link_requested` event that asks notify to send it.
    It says who was invited or reminded, never whom they reviewed."""

    id = StringField(primary_key=True)  # review_rules.notice_key
    year = StringField(required=True)
    official = StringField(required=True)
    kind = StringField(required=True)
    offset = StringField()
    sent_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "review_notices"}


class UnitReminder(Document):
    """When a manager last sent a unit's pending officials an extra reminder (one a day)."""

    id = StringField(primary_key=True)  # "YYYY|unit"
    sent_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "review_unit_reminders"}


class ResponseCounts(OutboxDocument):
    """A unit's peer-review response in one year as survey last counted it (invited,
    finished, in progress, not started: counts only, never who), with the
    `review.response` event that tells scoring. `marks` grows at every change that may
    move the counts, so a count taken before the latest change is never stored over a
    newer one (see `store.responses`)."""

    id = StringField(primary_key=True)  # "YYYY|unit"
    year = StringField(required=True)
    unit = StringField(required=True)
    counts = DictField()
    at = DateTimeField()  # when the counts last changed
    version = IntField(default=0)  # one more at each change of the counts
    marks = IntField(default=0)
    meta = {"db_alias": ALIAS, "collection": "review_responses", "indexes": ["year"]}


class ReplayJob(Document):
    id = StringField(primary_key=True)
    target = StringField(required=True)
    status = StringField(required=True)
    published = IntField(default=0)
    failed_attempts = IntField(default=0)
    error = StringField()
    started_at = DateTimeField()
    finished_at = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "replays"}


DOCUMENTS = (Unit, Official, Counter, Rating, RatingPair, ReceiptClaim, KeyRecord, OfficialToken,
             PeerReviewWindow, PeerReview, ReviewDraft, ReviewNotice, UnitReminder, ResponseCounts,
             ReplayJob, SignInLink, PublishedKey, Revocation, AuditEntry)
OUTBOX_DOCUMENTS = (Unit, Official, Rating, PeerReview, OfficialToken, SignInLink,
                    PublishedKey, Revocation, AuditEntry, PeerReviewWindow, ReviewNotice,
                    ResponseCounts)

