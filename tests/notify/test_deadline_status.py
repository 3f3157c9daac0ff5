"""`deadline.status` for scoring's dashboards: published through notify's outbox when a
deadline is created, changed or deleted, a unit's report is marked or the calendar is
loaded, carrying the deadline as it now stands; changes before the relay runs go out as
one (the newest); never an older picture after a newer one; published again at start
for the deadlines due within the last year or later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, queued_events
from services.notify.deadline_status import REPUBLISH_SINCE
from services.notify.documents import Deadline
from shared import topology
from shared.dashboard_events import DEADLINE_STATUS
from shared.outbox import OutboxRelay
from tests.conftest import wait_for
from tests.notify.helpers import ctx, deliver, start_notify, unit

SCORING = topology.queue_for("scoring").name
DUE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)


def put(client, deadline_id, *, title="Báo cáo công tác cải cách hành chính quý",
        units=("U1", "U2"), due=DUE):
    r = client.put(f"/api/v1/deadlines/{deadline_id}", headers=ADMIN, json={
        "title": title, "due_at": due.isoformat(), "units": list(units),
        "remind_before": ["P1D"]})
    assert r.status_code in (200, 201), r.get_json()


def mark(client, deadline_id, unit_code):
    r = client.post(f"/api/v1/deadlines/{deadline_id}/submissions/{unit_code}",
                    headers=ADMIN)
    assert r.status_code == 200, r.get_json()


def statuses(running, *, flush=True) -> list[dict]:
    """The deadline.status events in scoring's queue, in the order published."""
    if flush:
        ctx(running).relay.flush()
    return [e.loaded_data() for e in queued_events(running, SCORING, DEADLINE_STATUS)]


def republished(running) -> None:
    wait_for(running.runtime.get("notify.deadline-status").done.is_set,
             message="the statuses published again at start")


@pytest.fixture
def units(notify):
    republished(notify)  # an empty database: nothing; it must not run in the test's midst
    deliver(notify, unit("TINH"), unit("U1", parent="TINH"), unit("U2", parent="TINH"))
    return notify


@pytest.fixture
def held(units):
    """Notify whose relay has stopped: what the changes leave pending waits for a flush."""
    ctx(units).relay.stop()
    return units


def test_each_change_publishes_the_deadline_as_it_now_stands(units):
    put(units.client, "bc-quy")
    [created] = statuses(units)
    assert created == {"id": "bc-quy", "title": "Báo cáo công tác cải cách hành chính quý",
                       "due_at": DUE, "units": ["U1", "U2"], "submitted": [],
                       "deleted": False, "version": 1}
    put(units.client, "bc-quy", title="Báo cáo quý (sửa)", units=("U2", "U1"))
    statuses(units)  # each change published before the next
    mark(units.client, "bc-quy", "U2")
    statuses(units)
    units.client.delete("/api/v1/deadlines/bc-quy", headers=ADMIN)
    changes = statuses(units)[1:]
    assert [(s["version"], s["title"], s["units"], s["submitted"], s["deleted"])
            for s in changes] == [
        (2, "Báo cáo quý (sửa)", ["U2", "U1"], [], False),  # units as given, in order
        (3, "Báo cáo quý (sửa)", ["U2", "U1"], ["U2"], False),
        (4, "Báo cáo quý (sửa)", ["U2", "U1"], ["U2"], True)]
    assert not queued_events(units, topology.queue_for("notify").name, DEADLINE_STATUS)


def test_every_unit_stays_a_star_and_the_calendar_publishes_its_deadline(units):
    put(units.client, "moi-don-vi", units=("*",))
    mark(units.client, "moi-don-vi", "U1")
    year = datetime.now(UTC).year + 1
    assert units.client.post("/api/v1/calendar", headers=ADMIN,
                             json={"year": year}).status_code == 200
    by_id = {s["id"]: s for s in statuses(units)}
    assert (by_id["moi-don-vi"]["units"], by_id["moi-don-vi"]["submitted"]) == (["*"], ["U1"])
    yearly = by_id[f"danh-gia-xep-loai-{year}"]
    assert yearly["units"] == ["*"] and yearly["version"] == 1
    assert yearly["due_at"] == datetime(year, 12, 15, tzinfo=units.settings.tz)


def test_a_report_marked_again_publishes_its_status_again(units):
    """A crash between the submission's record and its status leaves the status unsent:
    marking it again sends it."""
    put(units.client, "bc-quy")
    statuses(units)
    mark(units.client, "bc-quy", "U1")
    statuses(units)
    mark(units.client, "bc-quy", "U1")
    assert [(s["version"], s["submitted"]) for s in statuses(units)] == [
        (1, []), (2, ["U1"]), (3, ["U1"])]


def test_changes_before_the_relay_runs_go_out_as_one_the_newest(held):
    put(held.client, "bc-quy")
    put(held.client, "bc-quy", title="Báo cáo quý (sửa)")
    mark(held.client, "bc-quy", "U1")
    mark(held.client, "bc-quy", "U2")
    put(held.client, "khac", units=("U2",))
    assert statuses(held, flush=False) == []
    assert [(s["id"], s["version"], s["title"], s["submitted"]) for s in statuses(held)] == [
        ("bc-quy", 4, "Báo cáo quý (sửa)", ["U1", "U2"]),
        ("khac", 1, "Báo cáo công tác cải cách hành chính quý", [])]
    assert statuses(held) == statuses(held, flush=False)  # nothing left to publish


def test_a_change_that_lands_while_another_is_being_written_is_never_lost(held):
    """A unit's report is marked after a save has read the submissions, before it
    writes: the save's compare-and-set fails, it reads again, and the status pending
    has both (written over, the save's picture would lack the report)."""
    store = ctx(held).store
    put(held.client, "bc-quy")
    submitted, raced = store.submitted, []

    def marked_meanwhile(deadline_id):
        seen = submitted(deadline_id)
        if not raced:
            raced.append(deadline_id)
            store.submit(deadline_id, "U1", datetime.now(UTC))
        return seen

    store.submitted = marked_meanwhile
    try:
        put(held.client, "bc-quy", title="Báo cáo quý (sửa)")
    finally:
        del store.submitted
    [status] = statuses(held)
    assert (status["version"], status["title"], status["submitted"]) == (
        3, "Báo cáo quý (sửa)", ["U1"])


class _ChangeWhilePublishing:
    """A publisher that, on its first batch, lets a newer change land before the broker
    confirms: the relay must then leave the newer event pending."""

    def __init__(self, publisher, change):
        self.publisher, self.change = publisher, change

    def publish_many(self, messages):
        if self.change:
            self.change()
            self.change = None
        return self.publisher.publish_many(messages)


def test_a_newer_status_written_while_an_older_is_published_goes_out_after_it(held):
    put(held.client, "bc-quy")
    relay = OutboxRelay([Deadline._get_collection],
                        _ChangeWhilePublishing(held.bus.publisher(),
                                               lambda: mark(held.client, "bc-quy", "U2")))
    relay.flush()
    assert [(s["version"], s["submitted"]) for s in statuses(held, flush=False)] == [
        (1, []), (2, ["U2"])]


def test_notify_publishes_again_at_start_what_a_rebuilt_scoring_needs(notify_settings):
    now = datetime.now(UTC).replace(microsecond=0)
    first = start_notify(notify_settings)
    try:
        republished(first)
        deliver(first, unit("U1"), unit("U2"))
        put(first.client, "sap-toi", due=now + timedelta(days=3))
        put(first.client, "da-xoa", due=now + timedelta(days=5))
        mark(first.client, "sap-toi", "U2")
        first.client.delete("/api/v1/deadlines/da-xoa", headers=ADMIN)
        coll = Deadline._get_collection()
        for deadline_id, ago in (("nam-ngoai", REPUBLISH_SINCE - timedelta(days=1)),
                                 ("qua-lau", REPUBLISH_SINCE + timedelta(days=1))):
            coll.insert_one({"_id": deadline_id, "title": "Báo cáo năm trước",
                             "due_at": now - ago, "units": ["U1"], "remind_before": [],
                             "deleted": False, "version": 1})
        # a broken record (no title) is logged and skipped; the others still go
        coll.insert_one({"_id": "hong", "due_at": now, "units": ["U1"], "deleted": False})
        statuses(first)
    finally:
        first.stop()
    again = start_notify(notify_settings)  # a new bus: scoring's queue starts empty
    try:
        republished(again)
        by_id = {s["id"]: s for s in statuses(again)}
        assert sorted(by_id) == ["da-xoa", "nam-ngoai", "sap-toi"]
        assert (by_id["sap-toi"]["version"], by_id["sap-toi"]["submitted"]) == (3, ["U2"])
        assert (by_id["da-xoa"]["version"], by_id["da-xoa"]["deleted"]) == (3, True)
        assert by_id["nam-ngoai"]["version"] == 1
    finally:
        again.stop()


def test_the_demo_deadlines_reach_scoring_with_who_has_submitted(units):
    from services.notify.demo import seed_deadlines

    today = datetime.now(units.settings.tz).date()
    ids = seed_deadlines(units.app, ward="U1", department="TINH", today=today)
    by_id = {s["id"]: s for s in statuses(units)}
    assert sorted(by_id) == sorted(ids) and len(ids) == 4
    due = {i: by_id[i]["due_at"].astimezone(units.settings.tz).date() - today for i in ids}
    past = [i for i in ids if due[i].days < 0]
    soon = [i for i in ids if 0 <= due[i].days <= 7]
    assert len(past) == 1 and by_id[past[0]]["submitted"] == ["U1"]  # nothing overdue
    assert len(soon) == 1 and by_id[soon[0]]["submitted"] == []
    every = [s for s in by_id.values() if s["units"] == ["*"]]
    assert len(every) == 2 and any(s["submitted"] == ["TINH"] for s in every)
