"""Held ratings, the use cases: judge a rating when it is accepted, judge again the
ratings a late one changes, list the held ones, decide one or a whole burst.

A rating that comes after every rating of its (subject, source) — nearly all of them —
is judged from what the rules last knew of that pair (`RatingPair`, read by key), then
stored with its state and event in one write, then the pair's record is moved on by
compare-and-set. Otherwise (given late, or racing another rating of the pair) it is
judged from the index, and so are the ratings after it that it may change (`settle`),
one such judgement of a pair at a time (a lease in the pair's record; a rating that
comes meanwhile waits its turn): each change is a compare-and-set on the rating's
status_version with its `rating.status_changed` event in the same write, so ratings
sent at once end as if they came one by one.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.survey import audit_log, integrity, keys
from services.survey.integrity import BurstRule, Seen, Verdict
from services.survey.store import directory
from services.survey.store import holds as store
from shared.auth import Principal, can_read_unit, require_unit
from shared.db import stored_now
from shared.errors import Conflict, Forbidden, NotFound
from shared.integrity_events import BURST, HELD

logger = logging.getLogger(__name__)
ATTEMPTS = 40
LEASE = timedelta(seconds=15)  # how long a judgement again may hold a pair
WAIT = LEASE + timedelta(seconds=5)
QUEUE_LIMIT = 2000


@dataclass(frozen=True)
class Placement:
    """Where a new rating stands: its pair, the rules that apply, its own reasons."""

    subject: str
    source: str | None
    rule: BurstRule
    runs: bool  # identical runs apply (an official is rated)
    burst_key: bytes
    given_at: datetime
    own: tuple[str, ...]

    @property
    def key(self) -> str:
        return store.pair_key(self.subject, self.source)

    def name_burst(self):
        return integrity.burst_namer(self.burst_key, self.subject, self.source)


def pair_of(ctx, body: dict, counter: dict, address_hash: str | None
            ) -> tuple[str, str | None]:
    """A rating's (subject, source) as the rules name them: the official rated (else the
    counter), and a registered tablet (else the address; None: neither known)."""
    return (integrity.subject_of(body.get("official"), counter["code"]),
            integrity.source_of(ctx.key(keys.CLIENT_ADDRESS), body.get("device"),
                                counter.get("devices") or (), address_hash))


def placement_of(ctx, body: dict, counter: dict, *, pair: tuple[str, str | None],
                 arrived: datetime) -> Placement:
    """Judge what a rating is by itself, with its pair (`pair_of`) and the counter's unit's
    rules."""
    unit = directory.rules_of(counter["unit"])
    given_at, clock_reason = integrity.clock(body.get("given_at"), arrived)
    own = integrity.own_reasons(
        given_at=given_at, clock_reason=clock_reason, hours=unit.get("opening_hours"),
        tz=ctx.settings.tz, receipt_pattern=unit.get("receipt_format"),
        receipt_code=body.get("receipt_code"))
    subject, source = pair
    return Placement(
        subject=subject, source=source,
        rule=integrity.burst_rule(unit.get("rating_burst"), ctx.settings.rating_burst),
        runs=bool(body.get("official")), burst_key=ctx.key(keys.CLIENT_ADDRESS),
        given_at=given_at, own=tuple(own))


def _state(own, verdict: Verdict | None, decision: dict | None = None) -> dict:
    reasons = integrity.ordered([*own, *(verdict.reasons if verdict else ())])
    return {"status": integrity.status_of(reasons, decision), "reasons": reasons,
            "burst": verdict.burst if verdict else None}


@dataclass
class Judged:
    state: dict
    fast: tuple | None  # (seq, recent, held) when judged from the pair's record


def judge(placement: Placement, rating_id: str, body: dict) -> Judged:
    """The state a new rating is stored with (status_version 1)."""
    if placement.source is None:
        return Judged({**_state(placement.own, None), "given_at": placement.given_at}, None)
    seen = Seen(rating_id, placement.given_at,
                integrity.signature(body["overall"], body.get("factors"), body.get("comment")))
    rule, fast = placement.rule, None
    record = store.pair(placement.key)
    recent = store.recent_of(record) if record else []
    if record is None or (store.usable(record, datetime.now(UTC)) and
                          record.get("depth", 0) >= rule.depth and
                          record.get("reach_s", 0) >= rule.reach.total_seconds() and
                          (not recent or recent[-1].key < seen.key)):
        held = (record["held_at"], record["held_burst"]) if record and record.get(
            "held_at") else None
        fast = (record["seq"] if record else 0, recent, held)
    else:
        recent = [store.seen_of(d) for d in store.preceding(
            placement.subject, placement.source, seen.at, seen.id, depth=rule.depth,
            since=seen.at - rule.reach)]
        held = store.last_held(placement.subject, placement.source, seen.at, seen.id, rule.window)
    verdict = next(integrity.sweep(recent, held, [seen], rule=rule, runs=placement.runs,
                                   name_burst=placement.name_burst()))
    if fast is not None:
        seq, recent, held = fast
        kept = [s for s in [*recent, seen] if s.at >= seen.at - rule.reach][-rule.depth:]
        fast = (seq, kept, (seen.at, verdict.burst) if verdict.burst else held)
    return Judged({**_state(placement.own, verdict), "given_at": placement.given_at}, fast)


def after_insert(placement: Placement, rating_id: str, judged: Judged, *, notify=None) -> None:
    """Move the pair's record on; when that loses a race, or the rating came out of order,
    judge it and the ratings after it again until the pair is settled."""
    if placement.source is None:
        return
    rule = placement.rule
    if judged.fast is not None and store.save_pair(placement.key, *judged.fast,
                                                   depth=rule.depth, reach=rule.reach):
        return
    settle(placement, Seen(rating_id, placement.given_at), notify=notify)


def settle(placement: Placement, first: Seen, *, notify=None) -> None:
    """Judge `first` and the ratings after it again (compare-and-set each change) while
    holding the pair, so no other judgement of its ratings runs meanwhile; then store
    what the rules now know of it."""
    rule, owner = placement.rule, uuid.uuid4().hex
    deadline = time.monotonic() + WAIT.total_seconds()
    attempt = 0
    while not store.lock_pair(placement.key, owner, datetime.now(UTC), LEASE):
        if time.monotonic() > deadline:
            logger.warning("ratings of %s judged without holding them", placement.key)
            break
        time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
        attempt += 1
    try:
        for _ in range(ATTEMPTS):  # again while a decision changes a rating meanwhile
            if _rejudge(placement, first, notify=notify):
                break
    finally:
        recent, held = store.latest(placement.subject, placement.source, rule.depth,
                                    rule.reach, rule.window)
        if not store.unlock_pair(placement.key, owner, recent, held, depth=rule.depth,
                                 reach=rule.reach):
            logger.warning("ratings of %s: held longer than %s", placement.key, LEASE)


def _alive(chain, at: datetime, window: timedelta):
    return chain if chain is not None and at - chain[0] <= window else None


def _rejudge(placement: Placement, first: Seen, *, notify=None) -> bool:
    """One pass from `first` on; False if a compare-and-set lost to another write."""
    rule, subject, source = placement.rule, placement.subject, placement.source
    before = [store.seen_of(d) for d in store.preceding(
        subject, source, first.at, first.id, depth=rule.depth, since=first.at - rule.reach)]
    old_chain = new_chain = store.last_held(subject, source, first.at, first.id, rule.window)
    horizon = first.at + rule.reach
    current: dict = {}

    def stream(docs: Iterator[dict]) -> Iterator[Seen]:
        for doc in docs:
            current["doc"] = doc
            yield store.seen_of(doc)

    docs = store.following(subject, source, first.at, first.id)
    for verdict in integrity.sweep(before, new_chain, stream(docs), rule=rule,
                                   runs=placement.runs, name_burst=placement.name_burst()):
        doc = current["doc"]
        own = [r for r in doc.get("reasons") or () if r in integrity.OWN_REASONS]
        state = _state(own, verdict, doc.get("decision"))
        stored = {"status": doc.get("status"), "reasons": list(doc.get("reasons") or ()),
                  "burst": doc.get("burst")}
        if state != stored and not store.set_state(doc, state, notify=notify):
            docs.close()
            return False
        at = doc["given_at"]
        if verdict.burst:
            new_chain = (at, verdict.burst)
        if BURST in stored["reasons"]:
            old_chain = (at, stored["burst"])
        if at > horizon and state == stored and \
                _alive(new_chain, at, rule.window) == _alive(old_chain, at, rule.window):
            docs.close()
            break
    return True


# --- the queue and decisions -------------------------------------------------------------


def units_below(unit: str) -> list[str]:
    """`unit` and every unit below it."""
    parents = {u["code"]: u.get("parent") for u in directory.listing("unit")}
    from shared.access import in_subtree

    return sorted(u for u in parents if in_subtree(u, {unit}, parents))


def suspect(units: list[str], start: datetime | None = None, end: datetime | None = None,
            *, limit: int = QUEUE_LIMIT) -> list[dict]:
    """Held, undecided ratings of `units` given in [start, end), newest first."""
    return store.held(units, start, end, limit)


def _visible(principal: Principal, doc: dict | None, what: str) -> dict:
    if doc is None:
        if principal.is_admin:
            raise NotFound(f"No {what}.", slug="unknown-rating")
        raise Forbidden(f"No {what} in your scope.", slug="out-of-scope")
    require_unit(principal, doc["unit"])
    return doc


def _decide_one(doc: dict, decision: str, note: str | None, by: str, *, notify) -> dict | None:
    """Decide a held rating (compare-and-set, read again if a re-judgement came first);
    None if it is no longer held."""
    for _ in range(ATTEMPTS):
        if doc is None or doc.get("status") != HELD:
            return None
        record = {"decision": decision, "note": note, "by": by, "at": stored_now()}
        state = {**_state(doc.get("reasons") or (), None, record), "burst": doc.get("burst"),
                 "decision": record}
        if store.set_state(doc, state, notify=notify):
            return {"id": doc["_id"], "status": state["status"],
                    "status_version": (doc.get("status_version") or 0) + 1}
        doc = store.rating(doc["_id"])
    raise Conflict("This rating is being changed by several requests; try again.",
                   slug="concurrent-edit")


def _not_held() -> Conflict:
    return Conflict("This rating is not held, or was decided already.", slug="not-held")


def decide(ctx, rating_id: str, decision: str, note: str | None, *,
           principal: Principal) -> dict:
    """Accept or reject one held rating (audited): {id, status, status_version}."""
    doc = _visible(principal, store.rating(rating_id), f"rating {rating_id!r}")
    done = _decide_one(doc, decision, note, audit_log.current_actor(),
                       notify=ctx.relay.notify)
    if done is None:
        raise _not_held()
    audit_log.record(ctx, "rating_decided", target=rating_id, details={
        "decision": decision, "note": note, "unit": doc["unit"], "status": done["status"],
        "status_version": done["status_version"], "reasons": doc.get("reasons") or []})
    return done


def decide_burst(ctx, burst: str, decision: str, note: str | None, *,
                 principal: Principal) -> list[str]:
    """Accept or reject every held, undecided rating of a burst in the caller's scope
    (audited once); the ids decided."""
    members = store.of_burst(burst)
    if not members:
        _visible(principal, None, f"burst {burst!r}")
    mine = [d for d in members if can_read_unit(principal, d["unit"])]
    if not mine:
        raise Forbidden(f"Burst {burst!r} is not in your scope.", slug="out-of-scope")
    by = audit_log.current_actor()
    decided = [d["id"] for d in (_decide_one(doc, decision, note, by,
                                             notify=ctx.relay.notify) for doc in mine) if d]
    if not decided:
        raise _not_held()
    audit_log.record(ctx, "burst_decided", target=burst, details={
        "decision": decision, "note": note, "ratings": decided,
        "units": sorted({d["unit"] for d in mine})})
    return decided
