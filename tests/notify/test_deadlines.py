"""Deadlines: what a deadline may say, reminders once to each unit not submitted,
submissions, overdue escalation, the built-in calendar; jobs driven with an explicit now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN, make_settings
from services.notify.deadlines import send_overdue, send_reminders
from tests.notify.helpers import (
    ctx,
    deliver,
    notifications,
    run_job,
    settled,
    start_notify,
    unit,
)


def put(client, deadline_id, body):
    return client.put(f"/api/v1/deadlines/{deadline_id}", json=body, headers=ADMIN)


def body(due: datetime, units=("U1",), remind=("P1D",), **extra):
    return {"title": "Báo cáo kết quả thi đua", "due_at": due.isoformat(),
            "units": list(units), "remind_before": list(remind), **extra}


@pytest.fixture
def units(notify, smtp, hook):
    deliver(notify, unit("TINH", emails=["tinh@example.vn"]),
            unit("U1", emails=["u1@example.vn", "vanthu@example.vn"], webhook=hook.url,
                 parent="TINH"),
            unit("U2", emails=["u2@example.vn"], parent="TINH"))
    return notify


def reminders(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("[Nhắc hạn]")]


def errors_of(r) -> dict:
    assert r.status_code == 422, r.get_json()
    return r.get_json()["errors"]


def test_deadline_validation(units):
    due = datetime.now(UTC) + timedelta(days=10)
    for bad, field in [({"remind_before": ["7 days"]}, "remind_before"),
                       ({"remind_before": ["-P1D"]}, "remind_before"),
                       ({"units": ["*", "U1"]}, "units"),
                       ({"units": []}, "units"),
                       ({"due_at": "2026-12-01T00:00:00"}, "due_at"),
                       ({"escalate_to": "bad code"}, "escalate_to"),
                       ({"title": " \u00a0 "}, "title"),
                       ({"units": ["U1", "U2", "U1"]}, "units"),
                       ({"remind_before": ["P1D", "P1D"]}, "remind_before")]:
        r = put(units.client, "d1", {**body(due), **bad})
        assert r.status_code == 422 and field in r.get_json()["errors"], bad
    assert put(units.client, "d1", {**body(due), "title": "  Báo cáo năm "}).status_code == 201
    assert units.client.get("/api/v1/deadlines/d1", headers=ADMIN).get_json()[
        "title"] == "Báo cáo năm"
    assert put(units.client, "d1", body(due, remind=("P2D",))).status_code == 200
    assert units.client.get("/api/v1/deadlines/d1", headers=ADMIN).get_json()[
        "remind_before"] == ["P2D"]
    assert put(units.client, "d1", body(due)).status_code == 200
    assert units.client.put("/api/v1/deadlines/d1", json=body(due)).status_code == 401


@pytest.mark.parametrize("bad, field", [
    ({"due_at": "9999-12-31T23:00:00+07:00"}, "due_at"),
    ({"due_at": "0001-01-01T00:00:00+07:00"}, "due_at"),
    ({"due_at": "0001-01-01T00:00:00+00:00"}, "due_at"),
    ({"remind_before": ["P99999999D"]}, "remind_before"),
    ({"remind_before": ["P9999999999D"]}, "remind_before"),
    ({"remind_before": ["P99999Y"]}, "remind_before"),
    ({"remind_before": ["P400D"]}, "remind_before"),
])
def test_a_deadline_off_the_calendar_is_refused_and_nothing_is_stored(units, bad, field):
    due = datetime.now(UTC) + timedelta(days=10)
    assert field in errors_of(put(units.client, "far", {**body(due), **bad}))
    assert units.client.get("/api/v1/deadlines/far", headers=ADMIN).status_code == 404
    assert ctx(units).scheduler.reconcile() == []  # nothing stored, nothing to do


def test_reminders_of_equal_length_are_refused(units):
    due = datetime(2027, 5, 1, 1, 0, tzinfo=UTC)
    problems = errors_of(put(units.client, "d", body(due, remind=("P7D", "P1W"))))
    assert problems["remind_before"] == ["'P1W' is the same duration as 'P7D'"]
    assert errors_of(put(units.client, "d", body(due, remind=("P1D", "PT24H"))))
    # a month before 1 May is April's 30 days: P1M and P30D are one reminder
    assert errors_of(put(units.client, "d", body(due, remind=("P1M", "P30D"))))
    assert put(units.client, "d", body(due, remind=("P1M", "P7D", "PT12H"))).status_code == 201


def test_deadline_units_must_be_units_notify_knows(units):
    due = datetime.now(UTC) + timedelta(days=10)
    problem = put(units.client, "d", body(due, units=("U1", "U9", "u2"))).get_json()
    assert problem["status"] == 422 and problem["type"].endswith("unknown-unit")
    [message] = problem["errors"]["units"]
    assert "'U9'" in message and "'u2' (did you mean 'U2'?)" in message
    assert "'U1'" not in message  # known: not named
    problem = put(units.client, "d", body(due, escalate_to="tinh")).get_json()
    assert "did you mean 'TINH'?" in problem["errors"]["escalate_to"][0]
    assert units.client.get("/api/v1/deadlines/d", headers=ADMIN).status_code == 404
    # a unit whose directory record arrives later is accepted from then on
    deliver(units, unit("U9", emails=["u9@example.vn"]))
    r = put(units.client, "d", body(due, units=("U1", "U9"), escalate_to="TINH"))
    assert r.status_code == 201
    assert put(units.client, "all", body(due, units=("*",))).status_code == 201


def test_reminder_goes_once_to_every_channel_of_each_unit_not_submitted(units, smtp, hook):
    due = datetime.now(UTC) + timedelta(days=3)
    put(units.client, "bc-2026", body(due, units=("U1", "U2"), remind=("P2D",)))
    units.client.post("/api/v1/deadlines/bc-2026/submissions/U2", headers=ADMIN)
    at = due - timedelta(days=2)
    created = run_job(units, send_reminders, "bc-2026", "P2D", now=at)
    assert run_job(units, send_reminders, "bc-2026", "P2D", now=at) == []
    assert sorted(c.rsplit("|", 1)[1] for c in created) == ["email", "webhook"]
    settled()
    [mail] = smtp.messages
    assert mail["To"] == "u1@example.vn, vanthu@example.vn"
    assert "Nhắc hạn" in mail["Subject"] and "Báo cáo kết quả thi đua" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Kính gửi Đơn vị U1") and "(còn 2 ngày)" in text
    assert "<html" in mail.get_body(("html",)).get_content()
    [payload] = hook.received
    assert payload["kind"] == "deadline.reminder" and payload["unit"] == "U1"
    assert payload["data"]["deadline"] == "bc-2026" and hook.bad_signatures == 0
    assert [n["status"] for n in notifications()] == ["sent", "sent"]


def test_get_shows_the_reminders_the_last_save_planned(units):
    due = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    r = put(units.client, "d", body(due, remind=("P20D", "P3D", "P1D")))
    planned = [(due - timedelta(days=d)).isoformat() for d in (3, 1)]
    assert r.get_json()["reminders_at"] == planned  # P20D was past already: not planned
    got = units.client.get("/api/v1/deadlines/d", headers=ADMIN).get_json()
    assert got["reminders_at"] == planned
    listed = units.client.get("/api/v1/deadlines", headers=ADMIN).get_json()
    assert [d["reminders_at"] for d in listed] == [planned]


def test_submission_is_for_a_unit_the_deadline_names(units):
    due = datetime.now(UTC) + timedelta(days=3)
    put(units.client, "only", body(due, units=("U1",)))
    put(units.client, "all", body(due, units=("*",)))
    post = units.client.post
    r = post("/api/v1/deadlines/only/submissions/U2", headers=ADMIN)
    assert r.status_code == 404 and r.get_json()["type"].endswith("unit-not-in-deadline")
    assert units.client.get("/api/v1/deadlines/only", headers=ADMIN).get_json()[
        "submitted"] == []
    first = post("/api/v1/deadlines/only/submissions/U1", headers=ADMIN)
    assert first.status_code == 200 and first.get_json()["unit"] == "U1"
    again = post("/api/v1/deadlines/only/submissions/U1", headers=ADMIN)
    assert again.get_json() == first.get_json()  # idempotent: the first time is kept
    # "*" is every unit, including one whose directory record has not reached notify yet
    assert post("/api/v1/deadlines/all/submissions/U9", headers=ADMIN).status_code == 200
    assert post("/api/v1/deadlines/nope/submissions/U1", headers=ADMIN).status_code == 404
    assert post("/api/v1/deadlines/only/submissions/U1").status_code == 401
    assert units.client.get("/api/v1/deadlines/only", headers=ADMIN).get_json()[
        "submitted"] == ["U1"]


def test_a_submitted_unit_is_not_reminded(units, smtp):
    due = datetime.now(UTC) + timedelta(days=3)
    put(units.client, "soon", body(due, units=("U1", "U2"), remind=("P2D",)))
    units.client.post("/api/v1/deadlines/soon/submissions/U1", headers=ADMIN)
    created = run_job(units, send_reminders, "soon", "P2D", now=due - timedelta(days=2))
    assert {c.split("|")[2] for c in created} == {"U2"}
    settled()
    assert [m["To"] for m in reminders(smtp)] == ["u2@example.vn"]


def test_reminder_after_the_deadline_is_not_sent(units):
    due = datetime.now(UTC) + timedelta(days=1)
    put(units.client, "d", body(due))
    assert run_job(units, send_reminders, "d", "P1D", now=due + timedelta(minutes=1)) == []


def test_delete_cancels_the_reminders(units, smtp):
    due = datetime.now(UTC) + timedelta(days=4)
    put(units.client, "gone", body(due, remind=("P2D",)))
    assert [j for j in ctx(units).scheduler.jobs() if "gone" in j["id"]]
    assert units.client.delete("/api/v1/deadlines/gone", headers=ADMIN).status_code == 204
    assert units.client.get("/api/v1/deadlines/gone", headers=ADMIN).status_code == 404
    assert not [j for j in ctx(units).scheduler.jobs() if "gone" in j["id"]]
    # a job run that was already under way finds the deadline gone
    assert run_job(units, send_reminders, "gone", "P2D", now=due - timedelta(days=2)) == []
    assert run_job(units, send_overdue, "gone", now=due + timedelta(days=1)) == []
    assert ctx(units).scheduler.reconcile() == []
    assert notifications() == []


def test_overdue_goes_daily_to_the_unit_and_its_escalation(units, smtp):
    # noon, local time (UTC+7): five minutes later is still the same local day, whatever
    # the hour the suite runs at (it failed once run at 23:58 local)
    now = (datetime.now(UTC) - timedelta(days=2)).replace(hour=5, minute=0, second=0)
    due = now - timedelta(hours=30)
    put(units.client, "late", body(due, units=("U1", "U2")))
    units.client.post("/api/v1/deadlines/late/submissions/U2", headers=ADMIN)
    first = run_job(units, send_overdue, "late", now=now)
    assert run_job(units, send_overdue, "late", now=now + timedelta(minutes=5)) == []  # same day
    assert {(n["unit"], n.get("to_unit")) for n in notifications(kind="deadline.overdue")} == {
        ("U1", "U1"), ("U1", "TINH")}
    assert len(first) == 3  # U1 by email and webhook, the province by email
    tomorrow = run_job(units, send_overdue, "late", now=now + timedelta(days=1))
    assert len(tomorrow) == 3
    settled()
    escalation = [m for m in smtp.messages if m["To"] == "tinh@example.vn"]
    assert len(escalation) == 2 and "Đơn vị U1" in escalation[0]["Subject"]


def test_one_broken_unit_record_stops_neither_reminders_nor_overdue_notices(units, smtp):
    """A record planted straight in the database (emails not a list): its unit fails,
    every other unit is still reminded and told it is overdue."""
    from services.notify.documents import UnitContact

    UnitContact._get_collection().insert_one({"_id": "BAD", "name": "x", "emails": 5,
                                              "version": 1})
    due = datetime.now(UTC) + timedelta(days=2)
    put(units.client, "all", body(due, units=("*",)))
    created = run_job(units, send_reminders, "all", "P1D", now=due - timedelta(days=1))
    assert {c.split("|")[2] for c in created} == {"TINH", "U1", "U2"}
    # not every unit could be reminded: the reconcile tries that reminder again
    assert "P1D" not in ctx(units).store.deadline("all").get("reminders_done", [])
    created = run_job(units, send_overdue, "all", now=due + timedelta(hours=1))
    assert {c.split("|")[2] for c in created} == {"TINH", "U1", "U2"}


def test_units_star_means_every_known_unit(units):
    due = datetime.now(UTC) + timedelta(days=2)
    put(units.client, "all", body(due, units=("*",)))
    created = run_job(units, send_reminders, "all", "P1D", now=due - timedelta(days=1))
    assert {c.split("|")[2] for c in created} == {"TINH", "U1", "U2"}


def test_builtin_calendar(notify):
    year = datetime.now(UTC).year + 1
    r = notify.client.post("/api/v1/calendar", json={"year": year}, headers=ADMIN)
    assert r.status_code == 200
    [deadline] = r.get_json()
    assert deadline["id"] == f"danh-gia-xep-loai-{year}"
    assert deadline["due_at"].startswith(f"{year}-12-14T17:00:00")  # 15/12 00:00 in Hà Nội
    assert deadline["units"] == ["*"]
    assert deadline["remind_before"] == ["P30D", "P14D", "P7D", "P3D", "P1D"]
    assert len(deadline["reminders_at"]) == 5
    assert notify.client.post("/api/v1/calendar", json={"year": 1999},
                              headers=ADMIN).status_code == 422


def test_calendar_loaded_at_start_when_asked(mongo_url, smtp):
    settings = make_settings("notify", mongo_url, smtp_url=smtp.url, load_calendar=True)
    running = start_notify(settings)
    try:
        ids = [d["id"] for d in running.client.get("/api/v1/deadlines", headers=ADMIN).get_json()]
        year = datetime.now(settings.tz).year
        upcoming = [y for y in (year, year + 1)
                    if datetime(y, 12, 15, tzinfo=settings.tz) > datetime.now(UTC)]
        assert ids == [f"danh-gia-xep-loai-{y}" for y in upcoming]
    finally:
        running.stop()
