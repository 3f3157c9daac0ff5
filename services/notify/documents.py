"""Notify's own database: contacts (from directory events), deadlines (with their status
for scoring), review windows and the times of their cycle, and every send."""

from __future__ import annotations

from mongoengine import (
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    FloatField,
    IntField,
    ListField,
    StringField,
)

from shared.outbox import ensure_outbox_index

ALIAS = "notify"


class UnitContact(Document):
    code = StringField(primary_key=True)
    name = StringField(required=True)
    parent = StringField()
    emails = ListField(StringField())
    webhook_url = StringField()
    managers = ListField(StringField())  # officials' codes: the unit's head and deputies
    version = IntField(required=True)
    updated_at = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "units", "indexes": ["parent"]}


class OfficialContact(Document):
    code = StringField(primary_key=True)
    full_name = StringField(required=True)
    unit = StringField(required=True)
    active = BooleanField(default=True)
    email = StringField()  # where a manager hears of a burst held in their unit
    version = IntField(required=True)
    meta = {"db_alias": ALIAS, "collection": "officials"}


class Deadline(Document):
    id = StringField(primary_key=True)
    title = StringField(required=True)
    due_at = DateTimeField(required=True)
    units = ListField(StringField())  # or ["*"]: every unit known
    remind_before = ListField(StringField())  # ISO 8601 durations
    escalate_to = StringField()
    deleted = BooleanField(default=False)
    version = IntField(default=1)
    # moved by every change, submissions too: the version of its deadline.status, whose
    # pending event (outbox) this document holds until the relay has published it
    status_version = IntField()
    updated_at = DateTimeField()
    # reminders planned at this save are those after it; done ones are marked when sent
    scheduled_at = DateTimeField()
    reminders_done = ListField(StringField())
    meta = {"db_alias": ALIAS, "collection": "deadlines"}


class Submission(Document):
    id = StringField(primary_key=True)  # "deadline|unit"
    deadline = StringField(required=True)
    unit = StringField(required=True)
    submitted_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "submissions", "indexes": ["deadline"]}


class Notification(Document):
    """One message to one unit (or one official) through one channel; `_id` is its claim
    key, so the same reminder, alert or sign-in link can never be created, hence sent,
    twice."""

    id = StringField(primary_key=True)
    kind = StringField(required=True)
    # the unit it is about; for a message to one official, the official's unit (if known)
    unit = StringField()
    official = StringField()  # a message to one official (sign-in link, account notice)
    deadline = StringField()
    channel = StringField(required=True)  # "email", "webhook" (or "directory" while waiting)
    recipient = StringField()
    # waiting (for the unit's directory record), pending, sent, failed, skipped
    status = StringField(required=True)
    to_unit = StringField()
    attempts = IntField(default=0)
    errors = ListField(StringField())
    subject = StringField()
    text = StringField()
    html = StringField()
    data = DictField()
    # a sign-in link: what makes its secret at delivery (the nonce, dropped once settled;
    # the stored subject and text show the link withheld), and when the link expires
    context = DictField()
    link_nonce = StringField()
    login_url = StringField()
    expires_at = DateTimeField()
    created_at = DateTimeField(required=True)
    sent_at = DateTimeField()
    next_attempt_at = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "notifications",
            "indexes": [("unit", "-created_at"), "deadline", "kind", "official",
                        ("status", "next_attempt_at"), ("status", "to_unit")]}


class AlertState(Document):
    """Below or above a threshold, per subject and period: alerts fire on crossings only."""

    id = StringField(primary_key=True)  # "<subject>|<period>"
    below = BooleanField(default=False)
    crossings = IntField(default=0)  # falls below so far: the n-th one is alerted once
    value = FloatField()  # the newest figure judged
    at = DateTimeField()  # computed_at of the newest score judged: an older one is ignored
    meta = {"db_alias": ALIAS, "collection": "alert_states"}


class ScoreFold(Document):
    """Score crossings of one subject waiting to go out as one alert (see domain)."""

    id = StringField(primary_key=True)  # the subject: "official:<code>" or "unit:<code>"
    entries = DictField()  # "<period>#<crossing>" -> {period, value, count, unit, at, ...}
    meta = {"db_alias": ALIAS, "collection": "score_folds"}


class RatingAlertWindow(Document):
    """Low ratings of one official: one alert an hour at most, later ones folded in."""

    id = StringField(primary_key=True)  # the official, or "counter:<code>" when none named
    last_sent_at = DateTimeField()
    pending = DictField()  # rating id -> summary, waiting for the next alert
    seen = ListField(StringField())  # rating ids already alerted (recent)
    meta = {"db_alias": ALIAS, "collection": "rating_alerts"}


class RatingState(Document):
    """The newest state notify has seen of a low rating (integrity_events), and whether
    its low-rating alert is done: a held one alerts when accepted, once."""

    id = StringField(primary_key=True)  # the rating's id
    version = IntField(required=True)  # status_version
    status = StringField(required=True)
    low_alerted = BooleanField(default=False)
    meta = {"db_alias": ALIAS, "collection": "rating_states"}


class BurstAlert(Document):
    """A burst of held ratings (survey's opaque burst id): what notify has heard of it,
    and when its one alert went (burst_domain)."""

    id = StringField(primary_key=True)  # the burst id
    unit = StringField(required=True)  # the unit of the first held rating heard of
    official = StringField()
    counters = ListField(DictField())  # {code, label} of each counter
    held = ListField(StringField())  # ids of the ratings held, until the alert goes
    held_count = IntField()  # how many the alert named
    first_at = DateTimeField()  # given_at of the earliest and the latest held rating
    last_at = DateTimeField()
    noticed_at = DateTimeField(required=True)
    ready_at = DateTimeField(required=True)  # when the alert goes
    alerted_at = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "burst_alerts", "indexes": ["alerted_at"]}


class ReviewWindow(Document):
    """A year's peer-review window, at the newest version survey announced, with the
    times that version planned when it arrived (review_domain.Plan)."""

    id = StringField(primary_key=True)  # the year, "2026"
    opens_at = DateTimeField(required=True)
    closes_at = DateTimeField(required=True)
    remind_before = ListField(StringField())
    version = IntField(required=True)
    received_at = DateTimeField(required=True)
    plan = DictField()
    meta = {"db_alias": ALIAS, "collection": "review_windows", "indexes": ["closes_at"]}


class CycleDue(Document):
    """One time of a window version that came: its `review.cycle_due`, claimed once
    under its `_id` (review_domain.claim_key) and published by the outbox relay."""

    id = StringField(primary_key=True)
    year = StringField(required=True)
    kind = StringField(required=True)  # "invitation" or "reminder"
    offset = StringField()
    window_version = IntField(required=True)
    due_at = DateTimeField(required=True)
    claimed_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "review_cycle_due",
            "indexes": [("year", "kind")]}


class Lease(Document):
    id = StringField(primary_key=True)
    holder = StringField(required=True)
    expires_at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "leases"}


DOCUMENTS = (UnitContact, OfficialContact, Deadline, Submission, Notification, AlertState,
             ScoreFold, RatingAlertWindow, RatingState, BurstAlert, ReviewWindow, CycleDue,
             Lease)


def ensure_indexes() -> None:
    for doc in DOCUMENTS:
        doc.ensure_indexes()
    ensure_outbox_index(CycleDue._get_collection())
    ensure_outbox_index(Deadline._get_collection())
