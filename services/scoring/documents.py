"""Scoring's own database: its copy of the directory, and every contribution by its id.

Contributions are grouped in small bucket documents keyed by (subject, month) for
ratings and (reviewee, year) for reviews, each contribution stored under its own id
inside the bucket. Writing one is a single-document `$set` of that id: repeating it
changes nothing, so redelivered events count once without any multi-document
transaction, and every figure is derived from the buckets, exactly.

Beside these documents the database holds, through pymongo, the access copy every service
keeps (`shared.access`, collections `access_*`) and the audit outbox (`shared.audit`).
"""

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
from mongoengine.connection import get_db
from pymongo.database import Database

from shared import outbox

ALIAS = "scoring"


def database() -> Database:
    """Scoring's own database (pymongo), for what is no mongoengine document: the access
    copy and the audit outbox."""
    return get_db(ALIAS)


class UnitRecord(Document):
    code = StringField(primary_key=True)
    name = StringField(required=True)
    parent = StringField()
    version = IntField(required=True)
    meta = {"db_alias": ALIAS, "collection": "units", "indexes": ["parent"]}


class OfficialRecord(Document):
    code = StringField(primary_key=True)
    full_name = StringField(required=True)
    unit = StringField(required=True)
    position = StringField()
    active = BooleanField(default=True)
    version = IntField(required=True)
    meta = {"db_alias": ALIAS, "collection": "officials", "indexes": ["unit"]}


class CitizenMonth(Document):
    """Ratings of one official in a month ("o:CODE:YYYY-MM") or of one unit's counters in
    a day ("u:CODE:YYYY-MM-DD"; `month` is still the month).

    `r` maps each rating id to [overall, access, procedure, official, result, feedback,
    hour, status, status_version] (None where a factor was not given; `hour` is the local
    hour it was given, 0-23, missing in rows stored before it was kept: a rebuild fills it
    in; `status` the rating's state, "counted", "held", "accepted" or "rejected", and its
    version, missing in rows stored before ratings had states: counted, version 0). A
    higher version replaces a row; counted and accepted rows count in scores, held ones
    only in `citizen.suspect`, rejected ones nowhere.
    """

    id = StringField(primary_key=True)
    kind = StringField(required=True)  # "o" or "u"
    subject = StringField(required=True)
    month = StringField(required=True)
    r = DictField()
    changes = IntField()  # writes so far: a pass clears its mark only if none came since
    dirty_since = DateTimeField()  # the earliest change whose scores are not derived yet
    meta = {"db_alias": ALIAS, "collection": "citizen_months",
            "indexes": [("kind", "subject"), {"fields": ["dirty_since"], "sparse": True}]}


class PeerYear(Document):
    """Reviews of one official in one year ("CODE:YYYY"): `v` maps review id to
    {"rev": revision, "s": [the five criteria], "c": the comment, if any}; a higher
    revision replaces a lower one, comment included."""

    id = StringField(primary_key=True)
    reviewee = StringField(required=True)
    year = StringField(required=True)
    v = DictField()
    changes = IntField()
    dirty_since = DateTimeField()
    meta = {"db_alias": ALIAS, "collection": "peer_years",
            "indexes": ["reviewee", "year", {"fields": ["dirty_since"], "sparse": True}]}


class ReviewYear(Document):
    """A year of peer reviews ("YYYY"): its review window as survey last set it (`version`;
    none: the year closes at its end), and `shown`, whether its peer results were published
    when its buckets were last marked for that. When the time makes it differ (the close,
    a window re-opened), the refresher marks the year's buckets again."""

    id = StringField(primary_key=True)
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    version = IntField()
    shown = BooleanField()
    meta = {"db_alias": ALIAS, "collection": "review_years"}


class Score(Document):
    """The last computed score of an official or a unit for a period, rounded as served,
    with its `score.updated` event pending in the outbox when it changed."""

    id = StringField(primary_key=True)  # "o:CODE|PERIOD" or "u:CODE|PERIOD"
    official = StringField()
    unit = StringField()
    period = StringField(required=True)
    score = DictField()
    conduct_index = FloatField()
    computed_at = DateTimeField()
    outbox_at = DateTimeField()
    outbox_event = DictField(default=None)
    meta = {"db_alias": ALIAS, "collection": "scores", "indexes": [("period", "unit")]}


class RatingComment(Document):
    """A citizen's comment with its rating (from `rating.submitted` and
    `rating.status_changed`), by the rating's id: the text stored once, never changed; the
    rating's `status` kept at its highest `status_version` (missing: counted, version 0);
    a comment of a held or rejected rating is not shown. `at` orders and bounds them
    (UTC); `local` is the local wall time it was given, as the dashboards show it."""

    id = StringField(primary_key=True)
    unit = StringField(required=True)
    counter = StringField()
    counter_label = StringField()
    official = StringField()
    overall = IntField(required=True)
    at = DateTimeField(required=True)
    local = StringField(required=True)  # "YYYY-MM-DD HH:MM"
    text = StringField(required=True)
    status = StringField()
    status_version = IntField()
    meta = {"db_alias": ALIAS, "collection": "rating_comments",
            "indexes": [("unit", "-at"), ("official", "-at")]}


class UnitReviewResponse(Document):
    """A unit's peer-review response in a year ("YYYY:UNIT"), counts only, as survey last
    told (`review.response`; the newest `at` wins)."""

    id = StringField(primary_key=True)
    year = StringField(required=True)
    unit = StringField(required=True)
    invited = IntField()
    finished = IntField()
    in_progress = IntField()
    not_started = IntField()
    at = DateTimeField(required=True)
    meta = {"db_alias": ALIAS, "collection": "review_responses", "indexes": [("year", "unit")]}


class DeadlineCopy(Document):
    """A deadline as notify last told (`deadline.status`; the newest version wins): its
    units (`*`: every unit), those that have submitted; a deleted one is kept as deleted,
    so an older status arriving late cannot bring it back."""

    id = StringField(primary_key=True)
    title = StringField()
    due_at = DateTimeField()
    units = ListField(StringField())
    submitted = ListField(StringField())
    deleted = BooleanField(default=False)
    version = IntField(required=True)
    meta = {"db_alias": ALIAS, "collection": "deadlines", "indexes": [("units", "due_at")]}


class ConfigRecord(Document):
    """The parameters ("scoring": `values`, `version`, and `marked`, the last version whose
    recompute is marked on every bucket) and the publishing hold ("hold": `values.until`,
    in the past once it ended)."""

    id = StringField(primary_key=True)
    values = DictField()
    version = IntField(default=0)
    marked = IntField(default=0)
    meta = {"db_alias": ALIAS, "collection": "config"}


DOCUMENTS = (UnitRecord, OfficialRecord, CitizenMonth, PeerYear, ReviewYear, Score,
             ConfigRecord, RatingComment, UnitReviewResponse, DeadlineCopy)


def ensure_indexes() -> None:
    for doc in DOCUMENTS:
        doc.ensure_indexes()
    outbox.ensure_outbox_index(Score._get_collection())
    for doc in (CitizenMonth, PeerYear):
        coll = doc._get_collection()
        if "dirty_at_1" in coll.index_information():  # marks of an earlier release
            coll.update_many({"dirty_at": {"$exists": True}},
                             {"$rename": {"dirty_at": "dirty_since"}})
            coll.drop_index("dirty_at_1")
