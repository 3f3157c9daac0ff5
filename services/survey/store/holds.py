"""Held ratings in survey's database: one subject's ratings from one source read in order
(by the index on source, subject, given_at, id: never a scan), what the rules last knew
of each such pair (`RatingPair`), each rating's state moved by compare-and-set on its
status_version with its `rating.status_changed` event in the same write, and the queue
of held ratings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from services.survey import domain
from services.survey.documents import Rating, RatingPair
from services.survey.integrity import Seen, signature
from services.survey.store import Notify, notify_of
from shared.integrity_events import BURST, HELD
from shared.outbox import PENDING_AT, PENDING_EVENT, outbox_fields

ORDER = [("given_at", ASCENDING), ("_id", ASCENDING)]
BACKWARDS = [("given_at", DESCENDING), ("_id", DESCENDING)]
_SEEN = {"given_at": 1, "overall": 1, "factors": 1, "comment": 1, "reasons": 1, "burst": 1}
_NO_OUTBOX = {PENDING_AT: 0, PENDING_EVENT: 0}


def seen_of(doc: dict) -> Seen:
    return Seen(doc["_id"], doc["given_at"],
                signature(doc["overall"], doc.get("factors"), doc.get("comment")))


def _pair(subject: str, source: str) -> dict:
    return {"source": source, "subject": subject}


def _before(at: datetime, rating_id: str) -> dict:
    return {"$or": [{"given_at": {"$lt": at}}, {"given_at": at, "_id": {"$lt": rating_id}}]}


def preceding(subject: str, source: str, at: datetime, rating_id: str, *, depth: int,
              since: datetime) -> list[dict]:
    """The last `depth` ratings of the pair before (at, id), given since `since`, oldest
    first."""
    where = {**_pair(subject, source), "given_at": {"$gte": since, "$lte": at},
             **_before(at, rating_id)}
    found = list(Rating._get_collection().find(where, _SEEN).sort(BACKWARDS).limit(depth))
    return found[::-1]


def last_held(subject: str, source: str, at: datetime, rating_id: str,
              window: timedelta) -> tuple[datetime, str] | None:
    """(given_at, burst) of the pair's latest rating held for `burst` before (at, id),
    given at most `window` before it."""
    where = {**_pair(subject, source), "given_at": {"$gte": at - window, "$lte": at},
             "reasons": BURST, **_before(at, rating_id)}
    for doc in Rating._get_collection().find(where, _SEEN).sort(BACKWARDS).limit(1):
        return doc["given_at"], doc["burst"]
    return None


def following(subject: str, source: str, at: datetime, rating_id: str) -> Iterator[dict]:
    """The pair's ratings from (at, id) on, in order, whole (the caller stops early)."""
    where = {**_pair(subject, source), "given_at": {"$gte": at},
             "$or": [{"given_at": {"$gt": at}}, {"_id": {"$gte": rating_id}}]}
    cursor = Rating._get_collection().find(where, _NO_OUTBOX).sort(ORDER).batch_size(100)
    try:
        yield from cursor
    finally:
        cursor.close()


def set_state(doc: dict, state: dict, *, notify: Notify | None = None) -> bool:
    """Move a stored rating to `state` (status, reasons, burst, and a decision if any)
    with its `rating.status_changed` event, if its status_version is still the one read;
    False if another write came first."""
    version = doc.get("status_version") or 0
    new = {**doc, **state, "status_version": version + 1}
    changes = {k: new[k] for k in ("status", "reasons", "status_version")}
    changes.update({k: state[k] for k in ("decision",) if k in state})
    update = {"$set": {**changes, **outbox_fields(domain.status_event(new))}}
    if new.get("burst"):
        update["$set"]["burst"] = new["burst"]
    else:
        update["$unset"] = {"burst": ""}
    version_filter = {"status_version": version} if version else \
        {"status_version": {"$in": [0, None]}}
    done = Rating._get_collection().update_one({"_id": doc["_id"], **version_filter}, update)
    if done.modified_count:
        notify_of(notify, Rating, doc["_id"])
    return bool(done.modified_count)


def rating(rating_id: str) -> dict | None:
    return Rating._get_collection().find_one({"_id": rating_id}, _NO_OUTBOX)


# --- what the rules last knew of a pair ---------------------------------------------------


def pair_key(subject: str, source: str) -> str:
    return f"{subject}|{source}"


def pair(key: str) -> dict | None:
    return RatingPair._get_collection().find_one({"_id": key})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode(seen: Seen) -> str:
    # one string per rating: the embedded store copies a string in one step, a list of
    # datetimes one object at a time, and the record is read and written with every rating
    ms = (seen.at - _EPOCH) // timedelta(milliseconds=1)
    return f"{ms}|{seen.id}|{'' if seen.signature is None else '=' + seen.signature}"


def _decode(text: str) -> Seen:
    ms, rating_id, sig = text.split("|", 2)
    return Seen(rating_id, _EPOCH + timedelta(milliseconds=int(ms)), sig[1:] if sig else None)


def recent_of(pair_doc: dict) -> list[Seen]:
    return [_decode(r) for r in pair_doc.get("recent") or ()]


def _fields(recent: list[Seen], held: tuple[datetime, str] | None, depth: int,
            reach: timedelta) -> dict:
    return {"recent": [_encode(s) for s in recent], "depth": depth,
            "reach_s": int(reach.total_seconds()),
            "held_at": held[0] if held else None, "held_burst": held[1] if held else None}


def usable(record: dict | None, now: datetime) -> bool:
    """Is the pair's record free (no judgement again of its ratings under way)?"""
    return record is None or not record.get("lock") or record["lock_until"] < now


def save_pair(key: str, seq: int, recent: list[Seen], held: tuple[datetime, str] | None, *,
              depth: int, reach: timedelta) -> bool:
    """Store what the rules know of a pair if its seq is still `seq` (0: none yet) and
    nobody holds it; False if another write came first."""
    fields = {**_fields(recent, held, depth, reach), "seq": seq + 1}
    coll = RatingPair._get_collection()
    if seq == 0:
        try:
            coll.insert_one({"_id": key, **fields, "lock": None})
            return True
        except DuplicateKeyError:
            return False
    return coll.update_one({"_id": key, "seq": seq, "lock": None},
                           {"$set": fields}).modified_count == 1


def lock_pair(key: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Hold the pair (its ratings judged again by `owner` alone) until `now + lease`,
    unless someone else holds it."""
    coll = RatingPair._get_collection()
    held = {"lock": owner, "lock_until": now + lease}
    if coll.find_one_and_update({"_id": key, "$or": [{"lock": None}, {"lock_until": {
            "$lt": now}}]}, {"$set": held}, projection={"_id": 1}) is not None:
        return True
    try:
        coll.insert_one({"_id": key, "seq": 0, **held})
        return True
    except DuplicateKeyError:
        return False


def unlock_pair(key: str, owner: str, recent: list[Seen], held: tuple[datetime, str] | None,
                *, depth: int, reach: timedelta) -> bool:
    """Store what the rules now know of the pair and let it go (False: the lease ran out
    and another holds it)."""
    done = RatingPair._get_collection().update_one(
        {"_id": key, "lock": owner},
        {"$set": {**_fields(recent, held, depth, reach), "lock": None, "lock_until": None},
         "$inc": {"seq": 1}})
    return done.modified_count == 1


def latest(subject: str, source: str, depth: int, reach: timedelta,
           window: timedelta) -> tuple[list[Seen], tuple[datetime, str] | None]:
    """The pair's latest ratings (at most `depth`, within `reach` of the newest, oldest
    first) and its latest burst within `window` of the newest, read by the index."""
    coll = Rating._get_collection()
    newest = list(coll.find(_pair(subject, source), _SEEN).sort(BACKWARDS).limit(1))
    if not newest:
        return [], None
    end = newest[0]["given_at"]
    docs = list(coll.find({**_pair(subject, source), "given_at": {"$gte": end - reach}},
                          _SEEN).sort(BACKWARDS).limit(depth))
    held = list(coll.find({**_pair(subject, source), "reasons": BURST,
                           "given_at": {"$gte": end - window}}, _SEEN
                          ).sort(BACKWARDS).limit(1))
    return [seen_of(d) for d in reversed(docs)], \
        ((held[0]["given_at"], held[0]["burst"]) if held else None)


# --- the queue ---------------------------------------------------------------------------

QUEUE_FIELDS = ("unit", "counter", "counter_label", "official", "overall", "factors",
                "comment", "receipt_code", "submitted_at", "given_at", "reasons", "burst")


def held(units: list[str], start: datetime | None, end: datetime | None,
         limit: int) -> list[dict]:
    """Held, undecided ratings of `units` given in [start, end), newest first."""
    where: dict = {"status": HELD, "unit": {"$in": list(units)}}
    span = {k: v for k, v in (("$gte", start), ("$lt", end)) if v is not None}
    if span:
        where["given_at"] = span
    cursor = Rating._get_collection().find(where, dict.fromkeys(QUEUE_FIELDS, 1))
    return [{"id": d["_id"], **{k: d.get(k) for k in QUEUE_FIELDS}}
            for d in cursor.sort(BACKWARDS).limit(limit)]


def of_burst(burst: str) -> list[dict]:
    """Every rating of a burst, whole, in order."""
    return list(Rating._get_collection().find({"burst": burst}, _NO_OUTBOX).sort(ORDER))
