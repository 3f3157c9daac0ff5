"""Score reads while the consumer applies a backlog to the same buckets, on the embedded
store: every answer is 200 (mongomock changed a document while a read copied it, and the
read failed with "dictionary changed size during iteration", until its operations were
put under one lock)."""

from __future__ import annotations

import threading
import time

from devkit.apps import ADMIN
from shared import topology
from shared.messages import OutgoingMessage
from tests.conftest import wait_for
from tests.scoring.helpers import WHEN, deliver, official, rating, unit

BACKLOG = 2000
OFFICIALS = [f"O{i}" for i in range(10)]
READS = ("/api/v1/scores/units/U1?period=2026-05", "/api/v1/scores/units/U1?period=2026",
         "/api/v1/scores/officials/O0?period=2026-05", "/api/v1/scores/officials/O1?period=2026")


def unit_count(scoring) -> int:
    r = scoring.client.get("/api/v1/scores/units/U1?period=2026", headers=ADMIN)
    return r.get_json()["citizen"]["count"]


def test_score_reads_never_fail_while_a_backlog_is_applied(scoring):
    deliver(scoring, unit("U1"), *[official(o) for o in OFFICIALS])
    publisher = scoring.bus.publisher()
    statuses: list[int] = []
    failures: list[str] = []
    applied = threading.Event()
    overlapped = []

    def read() -> None:
        client = scoring.client
        while not applied.is_set():
            for path in READS:
                r = client.get(path, headers=ADMIN)
                statuses.append(r.status_code)
                if r.status_code != 200:
                    failures.append(r.get_data(as_text=True)[:300])
                elif not applied.is_set():
                    overlapped.append(path)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # ten officials over ten days of one month: every read below covers buckets being
    # written (a unit's bucket is a day, an official's a month); sent in waves while the
    # reads run, as scoring applies a batch in one go
    for i in range(BACKLOG):
        publisher.publish(OutgoingMessage.from_event(
            rating(OFFICIALS[i % 10], i % 5 + 1, when=WHEN.replace(day=1 + i // 10 % 10))))
        if i % 100 == 99:
            time.sleep(0.05)
    try:
        assert scoring.bus.drain_wait(120, queues=[topology.queue_for("scoring").name])
    finally:
        applied.set()
        reader.join(30)
    assert not failures, failures[:3]
    assert set(statuses) == {200}
    assert set(overlapped) == set(READS)  # each kind of read ran while the backlog did
    assert wait_for(lambda: unit_count(scoring) == BACKLOG)
