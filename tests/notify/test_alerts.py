"""Alerts from low ratings and from scores crossing their thresholds: one alert per
crossing naming every period, hysteresis, a minimum of ratings, folding, and the words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devkit.apps import ADMIN
from services.notify.alerts import flush_rating_alerts, flush_score_alerts
from services.notify.domain import SCORE_FOLD_WINDOW
from tests.conftest import wait_for
from tests.notify.helpers import (
    ctx,
    deliver,
    notifications,
    official,
    rating,
    run_job,
    score,
    settled,
    this_month,
    this_quarter,
    this_year,
    unit,
)

LATER = SCORE_FOLD_WINDOW + timedelta(seconds=1)


@pytest.fixture
def people(notify, smtp):
    deliver(notify, unit("U1", emails=["u1@example.vn"]), official("CB1", "U1", "Lê Văn An"))
    return notify


def flush_scores(running, *subjects):
    """Run the fold's flush job as the scheduler would once the window is over."""
    now = datetime.now(UTC) + LATER
    return [n for s in subjects for n in run_job(running, flush_score_alerts, s, now=now)]


def body(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def test_a_low_rating_alerts_the_officials_unit(people, smtp):
    deliver(people, rating("CB1", 1, comment="Thái độ không tốt"), rating("CB1", 4))

    wait_for(lambda: smtp.messages, message="the alert")
    [mail] = smtp.messages
    assert "Lê Văn An" in mail["Subject"]
    text = body(mail)
    assert "1/5 (Rất không hài lòng)" in text and "Thái độ không tốt" in text
    assert "quầy Q1" in text


def test_a_low_rating_without_an_official_is_worded_for_its_counter(notify, smtp, hook):
    deliver(notify, unit("U1", emails=["u1@example.vn"], webhook=hook.url),
            rating(None, 2, counter="Q7", comment="Không ai hướng dẫn"))
    settled()
    [mail] = smtp.messages
    assert mail["Subject"] == "[Cảnh báo] Người dân không hài lòng tại quầy Q7"
    assert "tại quầy Q7" in body(mail) and "()" not in body(mail)
    [payload] = hook.received
    assert payload["subject"] == mail["Subject"] and "()" not in payload["text"]
    assert payload["data"]["official"] is None and payload["data"]["counter"] == "Q7"


def test_later_low_ratings_within_the_hour_are_folded_into_the_next_alert(people, smtp):
    first, second, third = (rating("CB1", v) for v in (2, 1, 1))
    deliver(people, first, second, third, second)  # a redelivery among them
    wait_for(lambda: len(smtp.messages) == 1)
    assert len(notifications(kind="rating.alert")) == 1
    jobs = [j["id"] for j in ctx(people).scheduler.jobs()]
    assert "rating-flush:CB1" in jobs  # the folded ones go out when the hour is over
    run_job(people, flush_rating_alerts, "CB1", now=datetime.now(UTC) + timedelta(hours=1))
    wait_for(lambda: len(smtp.messages) == 2)
    assert body(smtp.messages[1]).count("/5 (") == 2
    assert run_job(people, flush_rating_alerts, "CB1", now=None) == []  # nothing left


def test_an_old_rating_replayed_does_not_alert(people, smtp):
    deliver(people, rating("CB1", 1, when=datetime.now(UTC) - timedelta(days=3)))
    assert notifications(kind="rating.alert") == []


def test_score_alerts_fire_once_per_crossing(people, smtp):
    deliver(people, score("CB1", conduct=40.0), score("CB1", conduct=45.0))  # down at 40
    assert len(flush_scores(people, "official:CB1")) == 1
    # back above 50 but not re-armed (that takes 55): falling again is the same crossing
    deliver(people, score("CB1", conduct=52.0), score("CB1", conduct=48.0))
    assert flush_scores(people, "official:CB1") == []
    deliver(people, score("CB1", conduct=62.0), score("CB1", conduct=30.0))  # re-armed, down
    assert len(flush_scores(people, "official:CB1")) == 1
    deliver(people, score(unit_code="U1", satisfaction=75.0),
            score(unit_code="U1", satisfaction=70.0))
    assert len(flush_scores(people, "unit:U1", "official:CB1")) == 1
    settled()
    subjects = [m["Subject"] for m in smtp.messages]
    assert sum("dưới 50" in s for s in subjects) == 2
    assert sum("dưới 80%" in s for s in subjects) == 1


def test_one_crossing_in_year_quarter_and_month_is_one_alert_naming_them(people, smtp, hook):
    """Scoring publishes a score.updated per period for one change: the unit hears once."""
    deliver(people, unit("U1", emails=["u1@example.vn"], webhook=hook.url, version=2))
    deliver(people, *(score(unit_code="U1", satisfaction=62.5, count=24, period=p)
                      for p in (this_month(), this_year(), this_quarter())))
    assert notifications(kind="score.alert") == []  # waiting for the fold window
    assert "score-flush:unit:U1" in [j["id"] for j in ctx(people).scheduler.jobs()]
    created = flush_scores(people, "unit:U1")
    assert sorted(c.rsplit("|", 1)[1] for c in created) == ["email", "webhook"]
    settled()
    [mail] = smtp.messages
    text = body(mail)
    for period in (this_year(), this_quarter(), this_month()):
        assert f"{period[:4]}" in text
    assert text.index("năm ") < text.index("quý ") < text.index("tháng ")
    assert "62,5% (24 đánh giá)" in text
    [payload] = hook.received
    assert [p["period"] for p in payload["data"]["periods"]] == [
        this_month(), this_year(), this_quarter()]
    assert payload["data"]["threshold"] == 80 and payload["data"]["rearm"] == 85
    assert flush_scores(people, "unit:U1") == []  # sent: nothing left


def test_a_flush_run_again_after_a_crash_sends_nothing_new(people, smtp, monkeypatch):
    deliver(people, score("CB1", conduct=20.0))
    # the crash: the alert is claimed and sent, the fold is never cleared
    monkeypatch.setattr(ctx(people).store, "clear_fold", lambda *args: None)
    first = flush_scores(people, "official:CB1")
    again = flush_scores(people, "official:CB1")
    assert len(first) == 1 and again == []
    assert len(notifications(kind="score.alert")) == 1


def test_a_rate_flipping_around_80_alerts_once(people, smtp):
    """A few ratings move a unit's rate across 80% back and forth: it re-arms only at 85."""
    rates = [79.0, 81.0, 79.5, 82.0, 78.0, 84.0, 79.0]
    for i, rate in enumerate(rates):
        deliver(people, score(unit_code="U1", satisfaction=rate, count=40 + i))
        flush_scores(people, "unit:U1")
    assert len(notifications(kind="score.alert")) == 1
    deliver(people, score(unit_code="U1", satisfaction=86.0, count=60),
            score(unit_code="U1", satisfaction=78.0, count=61))
    assert len(flush_scores(people, "unit:U1")) == 1  # recovered to 85, then fell again


def test_a_units_rate_alerts_only_from_20_ratings(people, smtp):
    deliver(people, score(unit_code="U1", satisfaction=0.0, count=3),
            score(unit_code="U1", satisfaction=50.0, count=19))
    assert flush_scores(people, "unit:U1") == []
    deliver(people, score(unit_code="U1", satisfaction=55.0, count=20))
    assert len(flush_scores(people, "unit:U1")) == 1


def test_a_score_older_than_one_already_judged_changes_nothing(people, smtp):
    """Redelivered or reordered: a stale score must not re-open or re-arm an alert."""
    t = datetime.now(UTC)
    deliver(people, score("CB1", conduct=40.0, computed_at=t - timedelta(seconds=2)),
            score("CB1", conduct=90.0, computed_at=t))
    assert len(flush_scores(people, "official:CB1")) == 1
    deliver(people, score("CB1", conduct=40.0, computed_at=t - timedelta(seconds=2)),
            score("CB1", conduct=35.0, computed_at=t - timedelta(seconds=1)))
    assert flush_scores(people, "official:CB1") == []
    assert len(notifications(kind="score.alert")) == 1


CONTRACT_FIELDS = {"id", "kind", "unit", "deadline", "channel", "recipient", "status",
                   "attempts", "created_at", "sent_at"}


def test_an_alert_for_a_unit_not_known_yet_waits_for_its_directory_record(notify, smtp):
    """The rating's event overtook its unit's: the alert waits, then goes once."""
    deliver(notify, rating("CB9", 1, unit_code="U9", comment="Chờ quá lâu"))
    [waiting] = notifications(kind="rating.alert")
    assert waiting["status"] == "waiting" and smtp.messages == []
    r = notify.client.get("/api/v1/notifications?status=waiting", headers=ADMIN)
    assert r.status_code == 200 and len(r.get_json()) == 1
    [item] = r.get_json()  # not sent yet: every field of the contract there, null
    assert set(item) >= CONTRACT_FIELDS
    assert item["sent_at"] is None and item["deadline"] is None and item["attempts"] == 0
    deliver(notify, unit("U9", emails=["u9@example.vn"]))
    settled()
    assert [n["status"] for n in notifications(kind="rating.alert")] == ["sent"]
    deliver(notify, unit("U9", emails=["u9@example.vn"], version=2))  # and again: nothing
    settled()
    assert len(smtp.messages) == 1
    assert "Chờ quá lâu" in body(smtp.messages[0])


def test_score_alerts_only_for_the_periods_running_now(people, smtp):
    year = int(this_year())
    deliver(people, score("CB1", conduct=20.0, period=str(year - 1)),  # a past year
            score("CB1", conduct=20.0, period=str(year + 1)),  # a later one
            score("CB1", conduct=20.0, period=this_month()),  # this month
            score(unit_code="U1", satisfaction=50.0, period=f"{year - 1}-12"))
    flush_scores(people, "official:CB1", "unit:U1")
    [alert] = notifications(kind="score.alert")
    assert [p["period"] for p in alert["data"]["periods"]] == [this_month()]
