"""Accepting a citizen rating: the counter, the kiosk's retry, the rate limit, the rules,
then one write that stores the rating with its state and event (the API and the kiosk
form alike); a held rating is answered like any other."""

from __future__ import annotations

import contextlib
import threading
import zlib
from datetime import UTC, datetime, timedelta

from services.survey import domain, holds, integrity, keys, tokens
from services.survey.context import SurveyContext
from services.survey.store import directory, ratings
from services.survey.store.holds import pair_key
from shared.db import stored_now
from shared.errors import NotFound

# Ratings of one (subject, source) judged one at a time in this process: a stuffer's
# concurrent posts would otherwise race on the pair's record, each loser judging the
# pair again (correct, but slow). Other processes still race, and settle as designed.
_PAIR_LOCKS = tuple(threading.Lock() for _ in range(64))
# the last arrival time given under each lock: see `_arrival`
_LAST_ARRIVED = [datetime(1970, 1, 1, tzinfo=UTC)] * len(_PAIR_LOCKS)
_STEP_BACK = timedelta(seconds=1)


def _pair_slot(body: dict, counter: dict, address_hash: str | None) -> int | None:
    """The lock of the rating's (subject, source) as it arrives (the device as sent: the
    lock only orders this process's work; the rules decide what a source is). Taken
    before the arrival time is read, so ratings of one pair arrive here in order."""
    source = body.get("device") or address_hash
    if source is None:
        return None
    key = pair_key(integrity.subject_of(body.get("official"), counter["code"]), source)
    return zlib.crc32(key.encode()) % len(_PAIR_LOCKS)


def _arrival(slot: int | None) -> datetime:
    """Now, to the millisecond, and later than the last arrival under the same lock.

    Ratings are ordered by (given_at, id). Two of one pair stored in the same millisecond
    (a stuffer's posts queue on the lock and follow each other within one) would be
    ordered by their random ids, so half of them would arrive "before" the one already
    judged and send it, and the pair, to be judged again from the store. One millisecond
    later than the last keeps arrival order instead; it moves a time by a millisecond or
    two only while ratings of one pair come faster than that (a clock set back by more
    than a second is followed as it is)."""
    now = stored_now()
    if slot is not None:
        last = _LAST_ARRIVED[slot]
        if last - _STEP_BACK < now <= last:  # not a clock set back: that is taken as it is
            now = last + timedelta(milliseconds=1)
        _LAST_ARRIVED[slot] = now
    return now


def submit_rating(ctx: SurveyContext, body: dict, *, address: str | None,
                  correlationid: str | None = None) -> tuple[str, bool]:
    """Store a validated rating body; return (id, created). The same client_id again is
    the same rating (created False), answered even when the address is rate limited."""
    counter = tokens.counter_by_token(ctx.key(keys.COUNTER_TOKEN), body["counter_token"])
    if counter is None:
        raise NotFound("This counter's code is unknown or has been replaced.",
                       slug="unknown-counter")
    rating_id = domain.rating_id_for(body["client_id"])
    if ratings.rating_exists(rating_id):
        return rating_id, False  # a kiosk's retry: answered, never rate limited
    address_hash = domain.client_hash(address, ctx.key(keys.CLIENT_ADDRESS))
    ctx.limiter.check(counter["code"], address_hash or "-")
    official = body.get("official")
    domain.check_rated_official(counter, official,
                                directory.find("official", official) if official else None)
    if body.get("receipt_code"):
        ratings.claim_receipt(domain.receipt_key(counter, body["receipt_code"]), rating_id)
    slot = _pair_slot(body, counter, address_hash)
    with contextlib.nullcontext() if slot is None else _PAIR_LOCKS[slot]:
        arrived = _arrival(slot)
        placement = holds.placement_of(ctx, body, counter, address_hash=address_hash,
                                       arrived=arrived)
        judged = holds.judge(placement, rating_id, body)
        data = domain.rating_data(body, counter, arrived, state=judged.state)
        # False: the same client_id sent twice at once, and the other request stored it
        created = ratings.add_rating(data, address_hash=address_hash,
                                     correlationid=correlationid, notify=ctx.relay.notify,
                                     subject=placement.subject, source=placement.source)
        if created:
            holds.after_insert(placement, rating_id, judged, notify=ctx.relay.notify)
    return rating_id, created
