"""`review.response` (survey → scoring): each unit's peer-review counts of a year, sent
through the outbox whenever they change, never again when they do not, with versions and
`at` that only grow; counts only, never who; replayed to scoring (current), never to
notify; a count a crash left behind made good at start."""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from devkit.apps import ADMIN, make_settings, queued_events, start, unpacked
from devkit.auth import signed_in
from services.survey import accounts, domain, keys, response_counts, reviews
from services.survey.app import create_app
from services.survey.store import directory
from services.survey.store import responses as response_store
from shared import events as ev
from shared import sessions, topology
from shared.dashboard_events import REVIEW_RESPONSE
from shared.memory_bus import MemoryBus
from tests.conftest import wait_for
from tests.survey.cycle import SCORES, YEAR, bearer, flushed, open_window, ward

SCORING = topology.queue_for("scoring").name
NOTIFY = topology.queue_for("notify").name
COUNTS = ("invited", "finished", "in_progress", "not_started")
FIELDS = {"year", "unit", *COUNTS, "at"}
ZERO = dict.fromkeys(COUNTS, 0)


def sent(survey) -> list:
    """Every `review.response` survey published to scoring, oldest first."""
    flushed(survey)
    return queued_events(survey, SCORING, REVIEW_RESPONSE)


def counts(event) -> tuple[str, str, dict]:
    return event.data["year"], event.data["unit"], {k: event.data[k] for k in COUNTS}


def news(survey, before: int) -> list[tuple[str, str, dict]]:
    """What was sent since `before` events, as (year, unit, counts)."""
    return [counts(e) for e in sent(survey)[before:]]


def version(event) -> int:
    return int(event.id.rsplit("-", 1)[1])


@pytest.fixture
def opened(survey, client):
    """The ward (A, B, C active in U1; X alone in U2; M in D) and this year's window."""
    ward(client)
    open_window(client)
    return len(sent(survey))


def test_a_window_publishes_every_units_counts_of_its_year(survey, client):
    ward(client)
    assert sent(survey) == []  # no year kept yet: nothing to tell
    open_window(client)
    assert sorted(news(survey, 0)) == [
        (YEAR, "D", ZERO), (YEAR, "U1", {**ZERO, "invited": 3, "not_started": 3}),
        (YEAR, "U2", ZERO)]


def test_a_finished_review_moves_its_units_counts(survey, client, opened):
    a = bearer(client, "A")
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    assert news(survey, opened) == [
        (YEAR, "U1", {"invited": 3, "finished": 0, "in_progress": 1, "not_started": 2})]
    client.put(f"/api/v1/peer-reviews/{YEAR}/C", json={"scores": SCORES}, headers=a)
    assert news(survey, opened)[1:] == [
        (YEAR, "U1", {"invited": 3, "finished": 1, "in_progress": 0, "not_started": 2})]


def test_a_first_draft_puts_its_reviewer_in_progress_once(survey, client, ctx, opened):
    csrf = signed_in(client, "B", ctx.signer)[sessions.CSRF_HEADER]
    for conduct in ("4", "5"):  # the second draft moves no count
        r = client.post(f"/reviews/{YEAR}/A", data={"conduct": conduct, "action": "save",
                                                     sessions.CSRF_FIELD: csrf})
        assert r.status_code == 303
    assert news(survey, opened) == [
        (YEAR, "U1", {"invited": 3, "finished": 0, "in_progress": 1, "not_started": 2})]


def put_official(client, code: str, unit: str, **extra) -> None:
    r = client.put(f"/api/v1/officials/{code}", headers=ADMIN,
                   json={"full_name": f"Cán bộ {code}", "unit": unit, **extra})
    assert r.status_code in (200, 201), r.get_json()


def test_an_official_added_moved_or_deactivated_recounts_the_units_concerned(
        survey, client, opened):
    put_official(client, "N", "U2")  # added: X has a colleague now
    assert news(survey, opened) == [(YEAR, "U2", {**ZERO, "invited": 2, "not_started": 2})]
    put_official(client, "N", "U1")  # moved: out of U2, into U1
    assert sorted(news(survey, opened)[1:]) == [
        (YEAR, "U1", {**ZERO, "invited": 4, "not_started": 4}), (YEAR, "U2", ZERO)]
    put_official(client, "N", "U1", active=False)  # deactivated
    put_official(client, "N", "U1", position="Chuyên viên", active=False)  # moves nothing
    assert news(survey, opened)[3:] == [
        (YEAR, "U1", {**ZERO, "invited": 3, "not_started": 3})]


def test_a_new_unit_is_told_with_its_counts_of_every_year_kept(survey, client, opened):
    for name in ("Phường Ba", "UBND phường Ba"):  # the rename changes no count
        assert client.put("/api/v1/units/U3", json={"name": name, "parent": "D"},
                          headers=ADMIN).status_code in (200, 201)
    assert news(survey, opened) == [(YEAR, "U3", ZERO)]


def test_an_import_recounts_each_unit_it_changed_once(survey, client, opened):
    csv = ("kind,code,name,unit,parent\nunit,P1,UBND phường Một,,D\n"
           "official,N1,Cán bộ N1,U2,\nofficial,N2,Cán bộ N2,U2,\n"
           "official,N3,Cán bộ N3,P1,\nofficial,B,Cán bộ B,U2,\n")
    r = client.post("/api/v1/directory/import", data=csv.encode(), content_type="text/csv",
                    headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    assert sorted(news(survey, opened)) == [
        (YEAR, "P1", ZERO),  # N3 alone: nobody to review
        (YEAR, "U1", {**ZERO, "invited": 2, "not_started": 2}),  # B left
        (YEAR, "U2", {**ZERO, "invited": 4, "not_started": 4})]  # X, N1, N2 and B
    # counted once for the whole file: U2's second version (after the window's)
    assert [version(e) for e in sent(survey) if e.data["unit"] == "U2"] == [1, 2]


def test_unchanged_counts_are_not_sent_again(survey, client, ctx, opened):
    a = bearer(client, "A")
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    before = len(sent(survey))
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": {**SCORES, "dress": 5}},
               headers=a)  # an edit: still one review
    open_window(client, days_left=20)  # the window moved
    put_official(client, "B", "U1", position="Phó chủ tịch", email="b@example.vn")
    assert response_counts.recount(ctx.key(keys.REVIEWER_PSEUDONYM)) == 0  # as at start
    assert len(sent(survey)) == before


def test_versions_and_at_grow_even_when_the_clock_goes_back(survey, client, opened,
                                                            monkeypatch):
    stuck = datetime(2020, 1, 1, tzinfo=UTC)  # a clock behind every count stored
    monkeypatch.setattr(response_counts, "stored_now", lambda: stuck)
    a, b = bearer(client, "A"), bearer(client, "B")
    for who, whom in ((a, "B"), (a, "C"), (b, "A"), (b, "C")):
        client.put(f"/api/v1/peer-reviews/{YEAR}/{whom}", json={"scores": SCORES},
                   headers=who)
        flushed(survey)  # each published before the next replaces it in the outbox
    u1 = [e for e in sent(survey) if e.data["unit"] == "U1"]
    assert [version(e) for e in u1] == [1, 2, 3, 4, 5]  # the window's, then each review
    ats = [datetime.fromisoformat(e.data["at"]) for e in u1]
    assert ats == sorted(set(ats)), ats


def test_the_event_carries_counts_only(survey, client, ctx, opened):
    csrf = signed_in(client, "C", ctx.signer)[sessions.CSRF_HEADER]
    client.post(f"/reviews/{YEAR}/A", data={"conduct": "4", "action": "save",
                                             sessions.CSRF_FIELD: csrf})
    flushed(survey)  # published before the review's count replaces it in the outbox
    client.put(f"/api/v1/peer-reviews/{YEAR}/C", json={"scores": SCORES, "comment": "Tốt"},
               headers=bearer(client, "A"))
    events = sent(survey)[opened:]
    assert len(events) == 2
    for event in events:
        envelope = event.to_dict()
        assert set(event.data) == FIELDS
        assert event.subject == event.data["unit"] and event.correlationid is None
        wire = json.dumps(envelope, ensure_ascii=False)
        for who in ("Cán bộ", "example.vn", "reviewer", "reviewee", "pseudonym", "comment"):
            assert who not in wire
    stored = response_store.each()
    assert all(set(d) <= {"_id", "year", "unit", "counts", "at", "version", "marks"}
               for d in stored)


def replayed(survey, client, target: str, queue: str) -> list:
    r = client.post("/api/v1/replays", json={"target": target}, headers=ADMIN)
    job = r.get_json()["id"]
    wait_for(lambda: client.get(f"/api/v1/replays/{job}", headers=ADMIN).get_json()[
        "status"] == "done", message="the replay")
    return [counts(ev.load_event(m.body)) for m in unpacked(survey.bus.waiting(queue))
            if m.routing_key == topology.replay_key(target, REVIEW_RESPONSE)]


def test_a_replay_to_scoring_carries_the_current_counts_and_one_to_notify_none(
        survey, client, ctx, opened, monkeypatch):
    # a review stored without its recount (as a crash would leave it)
    key = ctx.key(keys.REVIEWER_PSEUDONYM)
    with monkeypatch.context() as m:
        m.setattr(response_counts, "recount", lambda *a, **k: 0)
        reviews.submit_review(YEAR, "A", "B", {"scores": SCORES}, key=key, tz=ctx.settings.tz)
    assert sorted(replayed(survey, client, "scoring", SCORING)) == [
        (YEAR, "D", ZERO), (YEAR, "U1", {**ZERO, "invited": 3, "in_progress": 1,
                                         "not_started": 2}), (YEAR, "U2", ZERO)]
    assert replayed(survey, client, "notify", NOTIFY) == []
    assert not queued_events(survey, NOTIFY, REVIEW_RESPONSE)


def test_a_count_lost_in_a_crash_is_made_good_at_start(mongo_url, monkeypatch):
    """A review stored, then the process dies before its recount: in a year without a
    window (nothing counted yet), the next start still tells scoring."""
    running = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    ctx = running.app.extensions["survey"]
    ward(running.client)
    with monkeypatch.context() as m:
        m.setattr(response_counts, "recount", lambda *a, **k: sys.exit("crash"))
        with pytest.raises(SystemExit):
            reviews.submit_review(YEAR, "A", "B", {"scores": SCORES},
                                  key=ctx.key(keys.REVIEWER_PSEUDONYM), tz=ctx.settings.tz)
    assert sent(running) == []
    running.stop()
    again = start(create_app, make_settings("survey", mongo_url), MemoryBus())
    try:
        told = {(y, u): c for y, u, c in news(again, 0)}
        assert told[(YEAR, "U1")] == {**ZERO, "invited": 3, "in_progress": 1,
                                      "not_started": 2}
    finally:
        again.stop()


def test_a_count_taken_before_a_later_change_is_never_stored(survey, ctx, opened):
    """Two counts at once: the one read before a change is refused, even when it is
    written first; the one read after the change is stored."""
    key, pair = ctx.key(keys.REVIEWER_PSEUDONYM), (YEAR, "U1")
    early = response_store.mark([pair])[pair]
    stale = response_counts.counts_of(YEAR, ["U1"], key)["U1"]
    # meanwhile another request adds N to U1 and starts its own count
    directory.upsert_official("N", {"full_name": "Cán bộ N", "unit": "U1"})
    late = response_store.mark([pair])[pair]
    fresh = response_counts.counts_of(YEAR, ["U1"], key)["U1"]

    def save(read, found) -> bool:
        at = datetime.now(UTC)
        return response_store.save(read, found, at, domain.response_event(
            YEAR, "U1", found, at, read["version"] + 1))

    assert not save(early, stale)  # first to write, but counted before the change
    assert save(late, fresh)
    [doc] = [d for d in response_store.each() if d["unit"] == "U1"]
    assert doc["counts"] == fresh and fresh["invited"] == 4


def test_who_an_official_left_is_unknown_when_another_write_came_between():
    before = {"unit": "U1", "active": True, "version": 1}
    assert accounts.membership_changes(before, {"unit": "U2", "version": 2}) == {"U1", "U2"}
    assert accounts.membership_changes(before, {"unit": "U1", "version": 2}) == set()
    # version 2 (written by someone else) may have put them in a third unit
    assert accounts.membership_changes(before, {"unit": "U2", "version": 3}) is None
    assert accounts.membership_changes(None, {"unit": "U2", "version": 1}) == {"U2"}


def test_parallel_changes_leave_the_last_counts_stored_and_sent(survey, client, opened):
    """Reviews and moves at once: whatever the interleaving, the last event of each unit
    holds the counts the managers read."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    tokens = {code: bearer(client, code) for code in ("A", "B", "C")}
    gate = threading.Barrier(6)

    def act(job):
        app_client = survey.app.test_client()
        gate.wait()
        kind, who, what = job
        if kind == "review":
            return app_client.put(f"/api/v1/peer-reviews/{YEAR}/{what}",
                                  json={"scores": SCORES}, headers=tokens[who]).status_code
        return app_client.put(f"/api/v1/officials/{who}", headers=ADMIN, json={
            "full_name": f"Cán bộ {who}", "unit": what}).status_code

    jobs = [("review", "A", "B"), ("review", "B", "C"), ("review", "C", "A"),
            ("move", "N1", "U1"), ("move", "N2", "U2"), ("move", "X", "U1")]
    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            assert set(pool.map(act, jobs)) <= {200, 201}
    finally:
        sys.setswitchinterval(before)
    last = {}
    for event in sent(survey):
        last[event.data["unit"]] = event
    read = client.get(f"/api/v1/review-cycles/{YEAR}/response", headers=ADMIN).get_json()
    assert {u: counts(last[u])[2] for u in ("U1", "U2")} == {
        row["unit"]: {k: row[k] for k in COUNTS} for row in read if row["unit"] in ("U1", "U2")}
