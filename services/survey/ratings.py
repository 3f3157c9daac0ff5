"""Accepting a citizen rating: the counter, the kiosk's retry, the rate limit, the rules,
then one write that stores the rating with its state and event (the API and the kiosk
form alike); a held rating is answered like any other."""

from __future__ import annotations

import contextlib
import threading
import zlib
from datetime import datetime, timedelta

from services.survey import domain, holds, keys, tokens
from services.survey.context import SurveyContext
from services.survey.store import directory, ratings
from services.survey.store.holds import pair_key
from shared.db import stored_now
from shared.errors import NotFound

# Ratings of one (subject, source) judged one at a time in this process: a stuffer's
# concurrent posts would otherwise race on the pair's record, each loser judging the
# pair again (correct, but slow). Other processes still race, and settle as designed.
_PAIR_LOCKS = tuple(threading.Lock() for _ in range(64))
# under each lock, the pair that last took it and the arrival time it was given (`_arrival`)
_LAST_ARRIVED: list[tuple[str, datetime] | None] = [None] * len(_PAIR_LOCKS)
_STEP_BACK = timedelta(seconds=1)


def _pair_lock(subject: str, source: str | None) -> tuple[str, int] | None:
    """The pair's key and the lock that orders its ratings in this process; taken before
    the arrival time is read, so ratings of one pair arrive here in order."""
    if source is None:
        return None
    key = pair_key(subject, source)
    return key, zlib.crc32(key.encode()) % len(_PAIR_LOCKS)


def _arrival(pair: tuple[str, int] | None) -> datetime:
    """Now, to the millisecond, and later than the pair's last arrival in this process.

    Ratings are ordered by (given_at, id). Two of one pair stored in the same millisecond
    (a stuffer's posts queue on the lock and follow each other within one) would be
    ordered by their random ids, so half of them would arrive "before" the one already
    judged and send it, and the pair, to be judged again from the store. One millisecond
    later than the last keeps arrival order instead; it moves a time by a millisecond or
    two only while ratings of one pair come faster than that (a clock set back by more
    than a second is followed as it is). Called under the pair's lock."""
    now = stored_now()
    if pair is not None:
        key, slot = pair
        last = _LAST_ARRIVED[slot]
        # another pair sharing the lock, or a clock set back: the time is taken as it is
        if last is not None and last[0] == key and last[1] - _STEP_BACK < now <= last[1]:
            now = last[1] + timedelta(milliseconds=1)
        _LAST_ARRIVED[slot] = (key, now)
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
    subject, source = holds.pair_of(ctx, body, counter, address_hash)
    lock = _pair_lock(subject, source)
    with contextlib.nullcontext() if lock is None else _PAIR_LOCKS[lock[1]]:
        arrived = _arrival(lock)
        placement = holds.placement_of(ctx, body, counter, pair=(subject, source),
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
