"""Deliveries with packs, whatever their mix: every event that loads reaches a handler,
and each delivery is settled by the worst outcome of its events (`handle_deliveries`)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import events as ev
from shared.messages import ACK, DEAD_LETTER, PACK_TYPE, REQUEUE, handle_deliveries, pack

GOOD, POISON, FAILING = "good", "poison", "failing"


def body_of(kind: str, n: int) -> bytes:
    """A rating event: one that loads, one its schema refuses, or one the handler fails."""
    data = {"id": f"{kind}-{n}", "client_id": str(uuid.uuid4()), "counter": "Q1", "unit": "U1",
            "official": "CB1", "overall": 9 if kind == POISON else 4,
            "submitted_at": datetime(2026, 3, 1, tzinfo=UTC)}
    if kind == POISON:  # valid but for its overall, built by hand past make_event's check
        good = ev.make_event(ev.RATING_SUBMITTED, {**data, "overall": 4}, source="/t")
        doc = good.to_dict()
        doc["data"]["overall"] = 9
        return json.dumps(doc).encode()
    return ev.make_event(ev.RATING_SUBMITTED, data, source="/t").to_bytes()


class Handlers:
    """A handler and a batch handler: a batch with a failing event fails whole (so its
    events are handled one by one); a failing event alone always fails."""

    def __init__(self):
        self.applied: list[str] = []
        self.batches: list[int] = []

    def one(self, event) -> None:
        if event.data["id"].startswith(FAILING):
            raise RuntimeError("fails")
        self.applied.append(event.data["id"])

    def batch(self, events) -> None:
        self.batches.append(len(events))
        if any(e.data["id"].startswith(FAILING) for e in events):
            raise RuntimeError("a batch with a failing event")
        self.applied.extend(e.data["id"] for e in events)


deliveries = st.lists(
    st.one_of(st.sampled_from([GOOD, POISON, FAILING]),
              st.lists(st.sampled_from([GOOD, GOOD, GOOD, POISON, FAILING]), max_size=12)),
    min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(mix=deliveries, batch_max=st.integers(1, 10), batched=st.booleans())
def test_every_event_is_handled_and_each_delivery_settled_by_its_worst(mix, batch_max,
                                                                       batched):
    counter = iter(range(10_000))
    built, expected, good = [], [], []
    for item in mix:
        kinds = [item] if isinstance(item, str) else item
        bodies = []
        for kind in kinds:
            n = next(counter)
            bodies.append(body_of(kind, n))
            if kind == GOOD:
                good.append(f"{kind}-{n}")
        outcomes = {POISON: DEAD_LETTER, FAILING: REQUEUE, GOOD: ACK}
        worst = [outcomes[k] for k in kinds]
        expected.append(REQUEUE if REQUEUE in worst else DEAD_LETTER if DEAD_LETTER in worst
                        else ACK)
        if isinstance(item, str):
            built.append((bodies[0], "m", None))
        else:
            message = pack(bodies, source="/t", routing_key="replay.scoring." + PACK_TYPE)
            built.append((message.body, message.message_id, PACK_TYPE))
    handlers = Handlers()
    got = handle_deliveries(built, handlers.one, handlers.batch if batched else None,
                            batch_max, queue="q", healthy=None, stopping=threading.Event())
    assert got == expected
    assert sorted(handlers.applied) == sorted(good)  # each good event once, none lost
    assert all(size <= batch_max for size in handlers.batches)
